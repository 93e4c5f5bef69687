from django.core.management.base import BaseCommand

from apps.tenants.services import platform_ensure


class Command(BaseCommand):
    help = "Idempotently create the platform (public schema) organisation and its host names."

    def handle(self, *args, **opts):
        org = platform_ensure()
        domains = ", ".join(d.domain for d in org.domains.all())
        self.stdout.write(self.style.SUCCESS(f"Platform ready on {domains}."))
