"""Demo network for `seed_demo` (registered in ChargersConfig.ready): a depot with five
chargers the simulators of `make run` play (three on OCPP 1.6, one on 2.0.1, one on 2.1)."""

from apps.chargers.models import ChargePoint, Location
from apps.chargers.services import charge_point_create

DEMO_CHARGER_PASSWORD = "demo-charger-secret-2026"  # noqa: S105  (demo only; printed by seed_demo)
DEMO_CHARGERS = ("SIM-0001", "SIM-0002", "SIM-0003", "SIM-0004", "SIM-0005")


def seed_network(*, organization, stdout) -> None:

    depot, _ = Location.objects.get_or_create(
        name="Demo Depot",
        defaults={
            "address": "Invalidenstraße 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
            "latitude": "52.531000",
            "longitude": "13.384000",
            "time_zone": "Europe/Berlin",
        },
    )
    for n, identity in enumerate(DEMO_CHARGERS, start=1):
        if not ChargePoint.objects.filter(identity=identity).exists():
            charge_point_create(
                identity=identity,
                password=DEMO_CHARGER_PASSWORD,
                security_profile=1,
                name=f"Depot bay {n}",
                location=depot,
            )
    stdout.write(
        f"  Demo network: {len(DEMO_CHARGERS)} chargers at {depot.name} (Basic auth password {DEMO_CHARGER_PASSWORD})."
    )
