"""Role checks shared by pages and the API, so both enforce the same rules."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from apps.accounts.models import ADMIN_ROLES, STAFF_ROLES, Role

# Who may do what. Later modules add entries here rather than sprinkling role lists.
CAN_VIEW_PORTAL = STAFF_ROLES
CAN_MANAGE_USERS = ADMIN_ROLES
CAN_MANAGE_ORGANIZATION = ADMIN_ROLES
CAN_VIEW_MONEY = ADMIN_ROLES | {Role.FINANCE}
CAN_OPERATE_CHARGERS = ADMIN_ROLES | {Role.OPERATOR_STAFF, Role.TECHNICIAN}
CAN_MANAGE_TARIFFS = ADMIN_ROLES
# Refunds change what a driver owes; finance reads money but does not move it.
CAN_ISSUE_CREDIT_NOTES = ADMIN_ROLES


def user_has_role(user, roles) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def role_required(roles):
    """Page decorator: anonymous users go to the login page, others without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class HasRole(BasePermission):
    """DRF permission: `permission_classes = [HasRole.of(CAN_MANAGE_USERS)]`."""

    roles: frozenset = frozenset()

    @classmethod
    def of(cls, roles):
        return type(f"HasRole_{'_'.join(sorted(roles))}", (cls,), {"roles": frozenset(roles)})

    def has_permission(self, request, view):
        return user_has_role(request.user, self.roles)


# Moving money by hand (wallet adjustments and refunds, card refunds): admins, recorded per person.
CAN_MOVE_MONEY = ADMIN_ROLES
