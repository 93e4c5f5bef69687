"""Demo tariff for `seed_demo` (registered in TariffsConfig.ready)."""

from apps.tariffs.models import Tariff, TariffAssignment
from apps.tariffs.services import tariff_assign, tariff_import_ocpi


def seed_tariff(*, organization, stdout) -> None:
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
