"""Idempotent demo data: a reseller, the `demo` operator on demo.<BASE_DOMAIN>, one user per role.

Each app appends its own demo data to `apps.core.demo.DEMO_SEEDERS` in its AppConfig.ready
(apps/chargers/demo.py, apps/charging/demo.py, apps/tariffs/demo.py).
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from apps.accounts.models import Role, User
from apps.accounts.services import user_create
from apps.core.demo import DEMO_SEEDERS
from apps.tenants.models import Organization
from apps.tenants.services import organization_create, platform_ensure

RESELLER_SLUG = "demo-reseller"
OPERATOR_SLUG = "demo"


def _email(local: str, slug: str | None) -> str:
    host = f"{slug}.{settings.BASE_DOMAIN}" if slug else settings.BASE_DOMAIN
    return f"{local}@{host}"


class Command(BaseCommand):
    help = "Create (or complete) the demo reseller, the demo operator and a user for every role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default=None, help="Demo password (default: $DEMO_PASSWORD or 'evzone-demo-2026')."
        )

    def handle(self, *args, **opts):
        import os

        password = opts["password"] or os.environ.get("DEMO_PASSWORD") or "evzone-demo-2026"
        logins: list[tuple[str, str, str]] = []

        platform_ensure()
        staff_email = _email("staff", None)
        with schema_context("public"):
            if not User.objects.filter(email=staff_email).exists():
                User.objects.create_superuser(staff_email, password, full_name="Platform Staff")
        logins.append((f"{self._url(settings.BASE_DOMAIN)}/admin/", staff_email, "Platform staff"))

        reseller = self._org(RESELLER_SLUG, "Voltline Resale", Organization.Kind.RESELLER, None, password)
        operator = self._org(OPERATOR_SLUG, "Demo Charging Co.", Organization.Kind.OPERATOR, reseller, password)

        logins.append(
            (self._url(reseller.primary_domain.domain) + "/", _email("admin", RESELLER_SLUG), "Reseller admin")
        )
        people = [
            ("admin", Role.OPERATOR_ADMIN, "Olivia Operator"),
            ("support", Role.OPERATOR_STAFF, "Sam Support"),
            ("tech", Role.TECHNICIAN, "Theo Technician"),
            ("finance", Role.FINANCE, "Fiona Finance"),
            ("driver", Role.DRIVER, "Dana Driver"),
        ]
        with schema_context(operator.schema_name):
            for local, role, name in people:
                email = _email(local, OPERATOR_SLUG)
                if not User.objects.filter(email=email).exists():
                    user_create(email=email, role=role, full_name=name, password=password, invite=False)
                logins.append((self._url(operator.primary_domain.domain) + "/", email, Role(role).label))
            for seeder in DEMO_SEEDERS:
                seeder(organization=operator, stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("\nDemo ready. Sign in with password: " + password))
        width = max(len(url) for url, _, _ in logins)
        for url, email, label in logins:
            self.stdout.write(f"  {url:<{width}}  {email:<32} {label}")

    def _org(self, slug, name, kind, parent, password):
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            self.stdout.write(f"Creating {name} ({slug}) and migrating its schema…")
            org = organization_create(
                name=name,
                slug=slug,
                kind=kind,
                parent=parent,
                admin_email=_email("admin", slug),
                admin_password=password,
                admin_name="Demo Admin",
                country="DE",
                currency="EUR",
                timezone="Europe/Berlin",
            )
        return org

    @staticmethod
    def _url(host: str) -> str:
        port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
        return f"{settings.PUBLIC_SCHEME}://{host}{port}"
