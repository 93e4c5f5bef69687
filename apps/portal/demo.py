"""Demo network for `seed_demo`: a depot with five chargers the simulators of `make run`
play (three on OCPP 1.6, one on 2.0.1, one on 2.1), RFID cards the simulators use, and a
card for the demo driver."""

from django.core.exceptions import ValidationError

from apps.accounts.models import User
from apps.chargers.models import ChargePoint, Location
from apps.chargers.services import charge_point_create
from apps.charging.models import IdToken
from apps.charging.services import id_token_create
from apps.core.demo import DEMO_SEEDERS
from apps.csms.services import csms_settings_update

DEMO_CHARGER_PASSWORD = "demo-charger-secret-2026"  # noqa: S105  (demo only; printed by seed_demo)
DEMO_CHARGERS = ("SIM-0001", "SIM-0002", "SIM-0003", "SIM-0004", "SIM-0005")
DEMO_TAGS = ("SIM-TAG-0001", "SIM-TAG-0002", "SIM-TAG-0003", "SIM-TAG-0004")


def seed_network(*, organization, stdout) -> None:
    # The demo accepts chargers it does not know yet (e.g. more simulators).
    csms_settings_update(unknown_identity_policy="accept", heartbeat_interval=60)
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
    for tag in DEMO_TAGS:
        if not IdToken.objects.filter(id_token__iexact=tag).exists():
            id_token_create(id_token=tag, label="Simulator card")
    driver = User.objects.filter(email__startswith="driver@").first()
    if driver and not IdToken.objects.filter(id_token__iexact="DEMO-DRIVER-1").exists():
        try:
            id_token_create(id_token="DEMO-DRIVER-1", owner=driver, label="Dana's card")
        except ValidationError:
            pass
    stdout.write(
        f"  Demo network: {len(DEMO_CHARGERS)} chargers at {depot.name} "
        f"(Basic auth password {DEMO_CHARGER_PASSWORD}), {len(DEMO_TAGS)} simulator cards."
    )


DEMO_SEEDERS.append(seed_network)


def seed_tariff(*, organization, stdout) -> None:
    from apps.tariffs.models import Tariff, TariffAssignment
    from apps.tariffs.services import tariff_assign, tariff_import_ocpi

    if Tariff.objects.filter(name="Demo public AC").exists():
        return
    tariff = tariff_import_ocpi(
        name="Demo public AC",
        data={
            "country_code": "DE",
            "party_id": "EVZ",
            "id": "DEMO-AC-1",
            "currency": "EUR",
            "type": "REGULAR",
            "elements": [
                {"price_components": [{"type": "ENERGY", "price": "0.3277", "vat": 19.0, "step_size": 1}]},
                {
                    "price_components": [{"type": "PARKING_TIME", "price": "5.0420", "vat": 19.0, "step_size": 60}],
                },
            ],
            "last_updated": "2026-01-01T00:00:00Z",
        },
    )
    tariff_assign(tariff=tariff, scope=TariffAssignment.Scope.ORGANIZATION)
    stdout.write("  Demo tariff: 0.39 EUR/kWh and 6.00 EUR/h parked, incl. 19 % VAT.")


DEMO_SEEDERS.append(seed_tariff)
