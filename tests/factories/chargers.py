"""Sites, chargers and connectors.

Like every factory here these write to the schema the connection is in: call them in a test
that uses `in_tenant_a` (or inside `schema_context(org.schema_name)`), or through the
`make_charge_point` fixture, which selects tenant A's schema itself.
"""

import functools
from decimal import Decimal

import factory
from django.utils import timezone

from apps.chargers.models import ChargePoint, Connector, Location, ProtocolVersion
from apps.chargers.passwords import hash_charger_password

CHARGER_PASSWORD = "a-good-charger-password"


@functools.cache
def charger_password_hash(password: str) -> str:
    """The project's own hash of a charger password (PBKDF2, ~12 ms), computed once per
    password and process: chargers sharing a password share the salted hash, which checks
    exactly like a fresh one (apps.chargers.passwords.check_charger_password)."""
    return hash_charger_password(password)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Site {n}")
    address = factory.Sequence(lambda n: f"Hauptstrasse {n + 1}")
    postal_code = "10115"
    city = "Berlin"
    country = "DE"
    time_zone = "Europe/Berlin"

    class Params:
        # OCPI publishes only locations with coordinates.
        published = factory.Trait(
            publish=True, latitude=Decimal("52.520008"), longitude=Decimal("13.404954"), parking_type="ON_STREET"
        )


class ChargePointFactory(factory.django.DjangoModelFactory):
    """An accepted, offline OCPP 1.6 charger on security profile 1 with CHARGER_PASSWORD.

    ChargePointFactory(password="...") hashes another password, password=None leaves none
    (profile 0 or 3); connectors=2 adds two connectors, one per EVSE as in 1.6
    (connectors__status="Available" sets their fields)."""

    class Meta:
        model = ChargePoint
        skip_postgeneration_save = True

    class Params:
        password = CHARGER_PASSWORD
        ocpp201 = factory.Trait(protocol_version=ProtocolVersion.OCPP201)
        ocpp21 = factory.Trait(protocol_version=ProtocolVersion.OCPP21)

    identity = factory.Sequence(lambda n: f"CP-F{n:04d}")
    protocol_version = ProtocolVersion.OCPP16
    security_profile = ChargePoint.SecurityProfile.BASIC
    password_hash = factory.LazyAttribute(lambda o: charger_password_hash(o.password) if o.password else "")
    online = False

    @factory.post_generation
    def connectors(obj, create, extracted, **kwargs):
        if create and extracted:
            for n in range(1, extracted + 1):
                ConnectorFactory(charge_point=obj, evse_id=n, connector_id=n, **kwargs)


class ConnectorFactory(factory.django.DjangoModelFactory):
    """Connector 1 of EVSE 1 (pass evse_id for 2.x numbering), Available since now."""

    class Meta:
        model = Connector

    charge_point = factory.SubFactory(ChargePointFactory)
    connector_id = 1
    evse_id = factory.SelfAttribute("connector_id")
    status = "Available"
    error_code = "NoError"
    status_at = factory.LazyFunction(timezone.now)
