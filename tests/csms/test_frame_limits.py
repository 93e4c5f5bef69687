"""Size and nesting limits of an inbound frame (issue #16): a frame over OCPP_MAX_FRAME_BYTES
or nested deeper than OCPP_MAX_FRAME_DEPTH is answered with the specification's syntax error
(1.6 FormationViolation, 2.x FormatViolation) under its own message id, never InternalError,
and the session goes on answering; an unknown action is not echoed back in full."""

import json

import pytest
from django.conf import settings

from apps.chargers.services import charge_point_create
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.csms.handlers.v16 import V16Session
from tests.csms.harness import Harness

SESSIONS = {"1.6": (V16Session, "FormationViolation"), "2.0.1": (V201Session, "FormatViolation")}
SESSIONS["2.1"] = (V21Session, "FormatViolation")


@pytest.fixture(params=list(SESSIONS))
def version(request, in_tenant_a):
    session_cls, code = SESSIONS[request.param]
    cp = charge_point_create(identity=f"CP-LIM-{request.param}", password="a-good-charger-password")
    return Harness(cp, session_cls), code


def _still_answers(h: Harness) -> None:
    reply = h.call("Heartbeat", {}, uid="after")
    assert reply[0] == 3 and reply[1] == "after" and "currentTime" in reply[2]


def _deep(levels: int):
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def test_the_defaults_are_what_the_docs_say():
    assert settings.OCPP_MAX_FRAME_BYTES == 512 * 1024
    assert settings.OCPP_MAX_FRAME_DEPTH == 64
    assert settings.OCPP_LOG_MAX_PAYLOAD_BYTES == 64 * 1024


def test_a_frame_1000_levels_deep_is_a_format_violation(version):
    h, code = version
    frame = '[2,"deep-1","DataTransfer",' + '{"a":' * 1000 + "{}" + "}" * 1000 + "]"
    [reply] = h.raw(frame)
    assert reply[:3] == [4, "deep-1", code]
    assert "64" in reply[3]
    _still_answers(h)


def test_a_frame_just_over_the_depth_limit_is_refused_and_one_at_it_is_not(version):
    h, code = version
    # The frame's own array is level 1, the payload level 2: 62 more levels make 64.
    at_limit = json.dumps([2, "ok-1", "NoSuchAction", _deep(62)])
    [reply] = h.raw(at_limit)
    assert reply[:2] == [4, "ok-1"] and reply[2] in ("NotImplemented", "NotSupported")
    [reply] = h.raw(json.dumps([2, "deep-2", "NoSuchAction", _deep(63)]))
    assert reply[:3] == [4, "deep-2", code]


def test_a_4_mib_data_transfer_is_a_format_violation(version):
    h, code = version
    frame = json.dumps([2, "big-1", "DataTransfer", {"vendorId": "ACME", "data": "x" * (4 * 1024 * 1024)}])
    [reply] = h.raw(frame)
    assert reply[:3] == [4, "big-1", code]
    assert str(settings.OCPP_MAX_FRAME_BYTES) in reply[3]
    _still_answers(h)
    # Logged, but not in full (the log's own cap), and marked as such.
    [row] = [e for e in h.log if e["unique_id"] == "big-1" and e["direction"] == "in"]
    assert row["error_code"] == code and len(row["raw"]) <= settings.OCPP_LOG_MAX_PAYLOAD_BYTES


def test_the_size_limit_counts_utf8_bytes(version):
    h, code = version
    # 200,000 characters of three bytes each: under the limit in characters, over it in bytes.
    frame = json.dumps([2, "wide-1", "DataTransfer", {"vendorId": "ACME", "data": "€" * 200_000}], ensure_ascii=False)
    assert len(frame) < settings.OCPP_MAX_FRAME_BYTES < len(frame.encode())
    [reply] = h.raw(frame)
    assert reply[:3] == [4, "wide-1", code]


def test_an_oversized_response_or_send_is_not_answered(version):
    h, _ = version
    assert h.raw(json.dumps([3, "res-1", {"data": "x" * (1024 * 1024)}])) == []
    assert h.raw(json.dumps([4, "res-2", "GenericError", "x" * (1024 * 1024), {}])) == []
    _still_answers(h)


def test_an_unknown_10000_character_action_is_not_echoed_back(version):
    h, _ = version
    action = "A" * 10_000
    reply = h.call(action, {}, uid="long-1")
    assert reply[:3] == [4, "long-1", "NotImplemented"]
    assert len(reply[3]) < 200 and "A" * 64 in reply[3] and "A" * 65 not in reply[3]
    assert json.dumps(reply[4]).count("A") <= 64
    _still_answers(h)
