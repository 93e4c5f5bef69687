"""`manage.py simulate_chargers`: virtual OCPP chargers against any CSMS (see apps/simulator/cli.py)."""

from django.core.management.base import BaseCommand, CommandError

from apps.simulator import cli


class Command(BaseCommand):
    help = "Run N virtual OCPP chargers (SIM-0001, ...) against a central system."

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **opts):
        try:
            options = cli.options_from(opts)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        cli.run(options, verbose=opts["verbose"], write=self.stdout.write)
