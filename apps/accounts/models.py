from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from apps.accounts.identity import login_email_normalise


class Role(models.TextChoices):
    # Public schema only: people who run the EVzone platform itself.
    PLATFORM_STAFF = "platform_staff", "Platform staff"
    # Tenant schemas.
    RESELLER_ADMIN = "reseller_admin", "Reseller admin"
    OPERATOR_ADMIN = "operator_admin", "Operator admin"
    OPERATOR_STAFF = "operator_staff", "Support staff"
    TECHNICIAN = "technician", "Technician"
    FINANCE = "finance", "Finance (read-only money)"
    DRIVER = "driver", "Driver"


ADMIN_ROLES = frozenset({Role.PLATFORM_STAFF, Role.RESELLER_ADMIN, Role.OPERATOR_ADMIN})
# Everyone who works for the organisation (sees the operator portal).
STAFF_ROLES = ADMIN_ROLES | {Role.OPERATOR_STAFF, Role.TECHNICIAN, Role.FINANCE}
TENANT_ROLES = [r for r in Role if r != Role.PLATFORM_STAFF]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None gives an unusable password (invitation pending)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, role=Role.PLATFORM_STAFF)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=login_email_normalise(username))


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Lives in the schema of the organisation they belong to (platform staff: public)."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.DRIVER)
    is_active = models.BooleanField(default=True)
    # Access to the Django admin of this schema; kept in step with the role by services.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    invited_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def is_org_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def invitation_pending(self) -> bool:
        return not self.has_usable_password() and self.last_login is None


class ApiToken(models.Model):
    """A personal API key. Only a SHA-256 digest is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
