"""OCPP 2.x block O through the session: SetDisplayMessage / ClearDisplayMessage answers,
GetDisplayMessages -> NotifyDisplayMessages in parts, for 2.0.1 and 2.1."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.diagnostics import services as diag
from apps.diagnostics.models import DisplayMessage, StationRequest
from tests.csms.harness import Harness

VERSIONS = {V201Session: "ocpp2.0.1", V21Session: "ocpp2.1"}


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    cp = charge_point_create(identity="CP-DISPLAY", password="a-good-charger-password")
    ChargePoint.objects.filter(pk=cp.pk).update(protocol_version=VERSIONS[request.param])
    return Harness(cp, request.param)


def info(id, content="Hello", priority="NormalCycle", **extra):
    return {"id": id, "priority": priority, "message": {"format": "UTF8", "content": content}, **extra}


def test_set_display_message_is_kept_when_accepted(h):
    message = info(1, "Free charging today", "InFront", state="Idle", startDateTime="2026-11-25T08:00:00Z")
    h.answered("SetDisplayMessage", {"message": message}, {"status": "Accepted"})
    h.answered("SetDisplayMessage", {"message": info(2, priority="AlwaysFront")}, {"status": "NotSupportedPriority"})
    stored = DisplayMessage.objects.get(charge_point=h.cp)
    assert (stored.message_id, stored.priority, stored.state, stored.content) == (
        1,
        "InFront",
        "Idle",
        message["message"]["content"],
    )
    assert stored.start_at == datetime(2026, 11, 25, 8, tzinfo=UTC) and stored.set_at is not None
    assert diag.display_message_next_id(charge_point=h.cp) == 2

    h.answered("ClearDisplayMessage", {"id": 1}, {"status": "Accepted"})
    assert not DisplayMessage.objects.filter(charge_point=h.cp).exists()


def test_notify_display_messages_in_parts_replaces_the_list(h):
    DisplayMessage.objects.create(
        charge_point=h.cp, message_id=9, priority="NormalCycle", format="UTF8", content="old",
        updated_at=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    req = diag.station_request_create(charge_point=h.cp, kind=StationRequest.Kind.DISPLAY_MESSAGES, params={})
    h.answered("GetDisplayMessages", req.params, {"status": "Accepted"})
    part1 = {"requestId": req.request_id, "tbc": True, "messageInfo": [info(1, "one"), info(2, "two")]}
    part2 = {"requestId": req.request_id, "tbc": False, "messageInfo": [info(3, "three", "AlwaysFront")]}
    assert h.ok("NotifyDisplayMessages", part1) == {}
    assert DisplayMessage.objects.filter(charge_point=h.cp, message_id=9).exists()  # not complete yet
    assert h.ok("NotifyDisplayMessages", part2) == {}
    req.refresh_from_db()
    assert req.complete and req.answer == "Accepted"
    stored = {m.message_id: m for m in DisplayMessage.objects.filter(charge_point=h.cp)}
    assert set(stored) == {1, 2, 3} and stored[3].priority == "AlwaysFront" and stored[1].reported_at


def test_display_messages_last_part_first_still_ends_with_all_messages(h):
    req = diag.station_request_create(charge_point=h.cp, kind=StationRequest.Kind.DISPLAY_MESSAGES, params={})
    # No seqNo in this message: a late part after the closing one is still kept.
    h.ok("NotifyDisplayMessages", {"requestId": req.request_id, "tbc": False, "messageInfo": [info(3)]})
    h.ok("NotifyDisplayMessages", {"requestId": req.request_id, "tbc": True, "messageInfo": [info(1)]})
    assert sorted(DisplayMessage.objects.filter(charge_point=h.cp).values_list("message_id", flat=True)) == [1, 3]


def test_filtered_request_and_unknown_answer(h):
    DisplayMessage.objects.create(
        charge_point=h.cp, message_id=5, priority="NormalCycle", format="UTF8", content="keep",
        updated_at=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    filtered = diag.station_request_create(
        charge_point=h.cp, kind=StationRequest.Kind.DISPLAY_MESSAGES, params={"priority": "AlwaysFront"}
    )
    h.ok("NotifyDisplayMessages", {"requestId": filtered.request_id, "messageInfo": [info(6, priority="AlwaysFront")]})
    assert sorted(DisplayMessage.objects.filter(charge_point=h.cp).values_list("message_id", flat=True)) == [5, 6]
    DisplayMessage.objects.filter(charge_point=h.cp).update(updated_at=datetime.now(UTC) - timedelta(hours=1))
    # Unknown to an unfiltered GetDisplayMessages: the station shows nothing.
    everything = diag.station_request_create(charge_point=h.cp, kind=StationRequest.Kind.DISPLAY_MESSAGES, params={})
    h.answered("GetDisplayMessages", everything.params, {"status": "Unknown"})
    assert not DisplayMessage.objects.filter(charge_point=h.cp).exists()


def test_bad_display_messages_are_refused(h):
    bad_time = {"requestId": 1, "messageInfo": [info(1, startDateTime="soon")]}
    assert h.error("NotifyDisplayMessages", bad_time)[0] == "TypeConstraintViolation"
    assert h.error("NotifyDisplayMessages", {"requestId": 1, "messageInfo": [info(-1)]})[0] == (
        "PropertyConstraintViolation"
    )
    assert not DisplayMessage.objects.filter(charge_point=h.cp).exists()


def test_v21_qr_code_messages_and_extras_are_kept(in_tenant_a):
    h = Harness(charge_point_create(identity="CP-DISP21", password="a-good-charger-password"), V21Session)
    message = {
        "id": 4,
        "priority": "InFront",
        "state": "Discharging",
        "message": {"format": "QRCODE", "content": "https://pay.example/4"},
        "messageExtra": [{"format": "UTF8", "language": "de", "content": "Hier bezahlen"}],
    }
    assert h.ok("NotifyDisplayMessages", {"requestId": 3, "messageInfo": [message]}) == {}
    stored = DisplayMessage.objects.get(charge_point=h.cp)
    assert (stored.format, stored.state) == ("QRCODE", "Discharging")
    assert stored.message_info["messageExtra"][0]["content"] == "Hier bezahlen"
