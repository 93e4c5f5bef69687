"""Demo cards for `seed_demo` (registered in ChargingConfig.ready): the RFID cards the
simulators of `make run` use, and a card for the demo driver."""

from django.core.exceptions import ValidationError

from apps.accounts.models import User
from apps.charging.models import IdToken
from apps.charging.services import id_token_create

DEMO_TAGS = ("SIM-TAG-0001", "SIM-TAG-0002", "SIM-TAG-0003", "SIM-TAG-0004")


def seed_cards(*, organization, stdout) -> None:
    for tag in DEMO_TAGS:
        if not IdToken.objects.filter(id_token__iexact=tag).exists():
            id_token_create(id_token=tag, label="Simulator card")
    driver = User.objects.filter(email__startswith="driver@").first()
    if driver and not IdToken.objects.filter(id_token__iexact="DEMO-DRIVER-1").exists():
        try:
            id_token_create(id_token="DEMO-DRIVER-1", owner=driver, label="Dana's card")
        except ValidationError:
            pass
    stdout.write(f"  Demo cards: {len(DEMO_TAGS)} simulator cards.")
