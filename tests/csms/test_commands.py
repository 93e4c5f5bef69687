"""The command port: validation against the action catalogue, bookkeeping, the bus seam."""

import pytest
from ocpp.routing import create_route_map

from apps.chargers.services import charge_point_create
from apps.csms import catalogue
from apps.csms.commands import ChannelLayerBus, InvalidCommand, bus_get, bus_use, command_send
from apps.csms.handlers import SESSIONS
from apps.csms.models import Command
from tests.commandbus import FakeBus


@pytest.fixture
def cp(in_tenant_a):
    return charge_point_create(identity="PORT-1", password="a-charger-password-01")


def test_a_command_is_validated_recorded_and_answered(cp, command_bus):
    command_bus.answers.append("Rejected")
    result = command_send(charge_point=cp, action="Reset", payload={"type": "Soft"}, source="test")
    assert result.status == "ok" and result.response == {"status": "Rejected"}
    row = Command.objects.get(pk=result.command.pk)
    assert (row.action, row.status, row.response, row.source) == ("Reset", "ok", {"status": "Rejected"}, "test")
    assert command_bus.sent == [("Reset", {"type": "Soft"})]


@pytest.mark.parametrize(
    "action, payload, code",
    [
        ("BootNotification", {}, "unknown_action"),  # charger -> CSMS, never sent
        ("RequestStartTransaction", {}, "unknown_action"),  # a 2.x name to a 1.6 charger
        ("Reset", {"type": "Sideways"}, "PropertyConstraintViolation"),
    ],
)
def test_what_the_catalogue_refuses_never_reaches_the_bus(cp, command_bus, action, payload, code):
    with pytest.raises(InvalidCommand) as exc:
        command_send(charge_point=cp, action=action, payload=payload)
    assert exc.value.code == code
    assert command_bus.sent == [] and not Command.objects.exists()


def test_offline_outcome_is_recorded(cp, command_bus):
    command_bus.status = "offline"
    result = command_send(charge_point=cp, action="Reset", payload={"type": "Hard"})
    assert result.status == "offline" and Command.objects.get().status == "offline"


def test_the_channel_layer_bus_is_the_default_and_bus_use_restores_it():
    assert isinstance(bus_get(), ChannelLayerBus)
    fake = FakeBus()
    with bus_use(fake):
        assert bus_get() is fake
    assert isinstance(bus_get(), ChannelLayerBus)


def test_an_offline_charger_is_not_sent_to(cp):
    # The real bus: a charger the database says is offline is answered offline without a round trip.
    result = command_send(charge_point=cp, action="Reset", payload={"type": "Soft"})
    assert result.status == "offline"


@pytest.mark.parametrize("subprotocol", sorted(SESSIONS))
def test_each_session_routes_only_what_the_catalogue_says_a_charger_sends(subprotocol):
    """The adapters and the port read one catalogue: every @on handler is a charger -> CSMS
    action of that version (a 2.1 route inherited by 2.0.1 is refused there as unknown), and
    the session's outbound set is the catalogue's."""
    cls, entry = SESSIONS[subprotocol], catalogue.catalogue_for(subprotocol)
    routed = {action for action, route in create_route_map(cls).items() if "_on_action" in route}
    assert cls.known_actions == entry.known
    assert routed and routed & entry.known <= entry.inbound
    assert cls.outbound_actions == entry.outbound and cls.version == entry.version


def test_the_catalogue_lists_each_versions_triggers_for_the_portal():
    # 1.6 section 7.42 MessageTrigger; 2.0.1 / 2.1 MessageTriggerEnumType (2.1 adds CustomTrigger).
    v16, v201, v21 = (catalogue.catalogue_for(v).triggers for v in ("ocpp1.6", "ocpp2.0.1", "ocpp2.1"))
    assert "DiagnosticsStatusNotification" in v16 and "TransactionEvent" not in v16
    assert v201[0] == "BootNotification" and "SignChargingStationCertificate" in v201
    assert "CustomTrigger" in v21 and "CustomTrigger" not in v201
