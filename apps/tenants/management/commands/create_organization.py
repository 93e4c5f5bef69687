from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.tenants import services
from apps.tenants.models import Organization


class Command(BaseCommand):
    help = "Create an organisation (schema, primary domain, first admin who gets an invitation e-mail)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("admin_email")
        parser.add_argument("--kind", choices=["operator", "reseller"], default="operator")
        parser.add_argument("--parent", help="Slug of the reseller selling to this operator.")
        parser.add_argument("--country", default="DE")
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--timezone", default="Europe/Berlin")
        parser.add_argument("--admin-name", default="")

    def handle(self, *args, **opts):
        parent = None
        if opts["parent"]:
            parent = Organization.objects.filter(slug=opts["parent"]).first()
            if parent is None:
                raise CommandError(f"No organisation with slug {opts['parent']!r}.")
        self.stdout.write(f"Creating {opts['slug']} and migrating its schema…")
        try:
            org = services.organization_create(
                name=opts["name"],
                slug=opts["slug"],
                kind=opts["kind"],
                parent=parent,
                admin_email=opts["admin_email"],
                admin_name=opts["admin_name"],
                country=opts["country"],
                currency=opts["currency"],
                timezone=opts["timezone"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {org.name} ({org.kind}) on {org.primary_domain}; invitation sent to {opts['admin_email']}."
            )
        )
