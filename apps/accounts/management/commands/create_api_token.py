from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, schema_context

from apps.accounts.models import User
from apps.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Print a new API token for a user of an organisation (for scripts and CI)."

    def add_arguments(self, parser):
        parser.add_argument("organization_slug")
        parser.add_argument("email")
        parser.add_argument("--name", default="CLI token")

    def handle(self, *args, **opts):
        org = get_tenant_model().objects.filter(slug=opts["organization_slug"]).first()
        if org is None:
            raise CommandError(f"No organisation with slug {opts['organization_slug']!r}.")
        with schema_context(org.schema_name):
            user = User.objects.filter(email__iexact=opts["email"]).first()
            if user is None:
                raise CommandError(f"No user {opts['email']!r} in {org.slug}.")
            _, key = api_token_create(user=user, name=opts["name"])
        # Only the key on stdout, so `TOKEN=$(manage.py create_api_token ...)` works.
        self.stdout.write(key)
