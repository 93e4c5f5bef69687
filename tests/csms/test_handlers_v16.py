"""OCPP 1.6 handlers with a fake connection: frames in, frames out, database state.

Database calls run inline on the test's connection (inside its rolled-back
transaction) instead of in a worker thread. Inbound frames are driven without an
event loop (`drive`): inside one, Django would hand out a different connection
that cannot see the test's data.
"""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.chargers.models import ChargePoint, ChargerEvent, Connector, ConnectorStatusHistory
from apps.chargers.services import charge_point_create
from apps.charging.models import MeterValue, Transaction
from apps.charging.services import id_token_create
from apps.csms.handlers.v16 import V16Session
from apps.csms.services import csms_settings_update
from tests.csms.harness import Harness, drive

PASSWORD = "a-good-charger-password"


@pytest.fixture
def h(in_tenant_a):
    cp = charge_point_create(identity="CP-H1", password=PASSWORD)
    return Harness(cp, V16Session)


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- core messages


def test_boot_notification_stores_data_and_uses_configured_interval(h):
    csms_settings_update(heartbeat_interval=120)
    answer = h.ok(
        "BootNotification",
        {
            "chargePointVendor": "ACME",
            "chargePointModel": "X1",
            "chargePointSerialNumber": "S-9",
            "firmwareVersion": "4.2",
            "iccid": "8949",
            "imsi": "2620",
            "meterType": "EEM",
            "meterSerialNumber": "M-1",
        },
    )
    assert answer["status"] == "Accepted" and answer["interval"] == 120
    datetime.fromisoformat(answer["currentTime"].replace("Z", "+00:00"))
    cp = ChargePoint.objects.get(pk=h.cp.pk)
    assert (cp.vendor, cp.model, cp.serial_number, cp.firmware_version) == ("ACME", "X1", "S-9", "4.2")
    assert (cp.iccid, cp.imsi, cp.meter_type, cp.meter_serial_number) == ("8949", "2620", "EEM", "M-1")
    ChargePoint.objects.filter(pk=h.cp.pk).update(heartbeat_interval=45)
    assert h.ok("BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "X1"})["interval"] == 45


def test_boot_pending_charger_gets_pending_and_retry_interval(h):
    ChargePoint.objects.filter(pk=h.cp.pk).update(registration_status="Pending")
    answer = h.ok("BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "X1"})
    assert (answer["status"], answer["interval"]) == ("Pending", 60)
    reply = h.call("Authorize", {"idTag": "ABC"})
    assert reply[:3] == [4, "m-1", "SecurityError"]
    # Triggered messages are still allowed while Pending.
    assert h.ok("Heartbeat", {})["currentTime"]


def test_status_notification_updates_connector_and_keeps_history(h):
    h.ok("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": ts(NOW)})
    h.ok(
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "GroundFailure",
            "status": "Faulted",
            "info": "RCD",
            "vendorErrorCode": "E12",
            "vendorId": "ACME",
            "timestamp": ts(NOW + timedelta(minutes=2)),
        },
    )
    # Queued while offline, delivered late: history yes, current state no.
    h.ok(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Preparing", "timestamp": ts(NOW + timedelta(minutes=1))},
    )
    h.ok("StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"})
    c1 = Connector.objects.get(charge_point=h.cp, connector_id=1)
    assert (c1.status, c1.error_code, c1.info, c1.vendor_error_code) == ("Faulted", "GroundFailure", "RCD", "E12")
    assert Connector.objects.get(charge_point=h.cp, connector_id=0).status == "Available"
    history = list(
        ConnectorStatusHistory.objects.filter(charge_point=h.cp, connector_id=1).values_list("status", flat=True)
    )
    assert history == ["Faulted", "Preparing", "Available"]


@pytest.mark.parametrize(
    ("status", "expires", "expected"),
    [
        ("Accepted", None, "Accepted"),
        ("Blocked", None, "Blocked"),
        ("Accepted", -1, "Expired"),
        ("Expired", None, "Expired"),
        ("Invalid", None, "Invalid"),
    ],
)
def test_authorize(h, status, expires, expected):
    expires_at = datetime.now(UTC) + timedelta(days=expires) if expires else None
    id_token_create(id_token="TAG-1", status=status, expires_at=expires_at, group_id="FLEET-7")
    info = h.ok("Authorize", {"idTag": "tag-1"})["idTagInfo"]  # CiString: case-insensitive
    assert info["status"] == expected
    assert info["parentIdTag"] == "FLEET-7"
    assert ("expiryDate" in info) == bool(expires)


def test_authorize_unknown_tag_is_invalid(h):
    assert h.ok("Authorize", {"idTag": "NOPE"})["idTagInfo"] == {"status": "Invalid"}


def test_charging_session_with_meter_values_and_idempotent_retries(h):
    id_token_create(id_token="TAG-1")
    start = {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": ts(NOW)}
    first = h.ok("StartTransaction", start)
    assert first["idTagInfo"]["status"] == "Accepted"
    # Retried (our answer was lost): same id, one transaction.
    assert h.ok("StartTransaction", start)["transactionId"] == first["transactionId"]
    tx_id = first["transactionId"]
    sample = {
        "connectorId": 1,
        "transactionId": tx_id,
        "meterValue": [
            {
                "timestamp": ts(NOW + timedelta(minutes=5)),
                "sampledValue": [
                    {"value": "2500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW", "phase": "L1"},
                    {
                        "value": "16.2",
                        "measurand": "Current.Import",
                        "unit": "A",
                        "phase": "L2",
                        "location": "Outlet",
                        "context": "Sample.Periodic",
                    },
                    {"value": "0x1F2E", "format": "SignedData"},
                ],
            }
        ],
    }
    h.ok("MeterValues", sample)
    h.ok("MeterValues", sample)  # retried: no duplicates
    stop = {
        "transactionId": tx_id,
        "meterStop": 9000,
        "timestamp": ts(NOW + timedelta(minutes=30)),
        "reason": "EVDisconnected",
        "idTag": "TAG-1",
        "transactionData": [
            {
                "timestamp": ts(NOW + timedelta(minutes=30)),
                "sampledValue": [{"value": "9000", "context": "Transaction.End"}],
            }
        ],
    }
    assert h.ok("StopTransaction", stop)["idTagInfo"]["status"] == "Accepted"
    h.ok("StopTransaction", stop)
    tx = Transaction.objects.get()
    assert (tx.transaction_id, tx.status, tx.meter_start, tx.meter_stop) == (str(tx_id), "Completed", 1000, 9000)
    assert tx.energy_wh == 8000 and tx.stop_reason == "EVDisconnected" and tx.started_at == NOW
    values = list(MeterValue.objects.filter(transaction=tx).order_by("timestamp", "measurand", "phase"))
    assert len(values) == 5
    power = next(v for v in values if v.measurand == "Power.Active.Import")
    assert (str(power.value), power.unit, power.phase) == ("7.400000", "kW", "L1")
    signed = next(v for v in values if v.format == "SignedData")
    assert signed.value is None and signed.raw_value == "0x1F2E"
    end = next(v for v in values if v.context == "Transaction.End")
    assert (end.unit, end.measurand, end.location) == ("Wh", "Energy.Active.Import.Register", "Outlet")


def test_start_transaction_concurrent_tx_and_offline_order(h):
    token = id_token_create(id_token="TAG-1")
    other = charge_point_create(identity="CP-OTHER", security_profile=0)
    Transaction.objects.create(
        charge_point=other,
        evse_id=1,
        connector_id=1,
        id_tag="TAG-1",
        id_token=token,
        meter_start=0,
        started_at=NOW,
        start_key="x",
    )
    answer = h.ok("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": ts(NOW)})
    assert answer["idTagInfo"]["status"] == "ConcurrentTx"
    # Offline transactions replayed later with past timestamps: stored, ordered by their own time.
    early = h.ok(
        "StartTransaction", {"connectorId": 2, "idTag": "X", "meterStart": 0, "timestamp": ts(NOW - timedelta(days=1))}
    )
    assert early["idTagInfo"]["status"] == "Invalid"
    ordered = list(Transaction.objects.filter(charge_point=h.cp).values_list("started_at", flat=True))
    assert ordered == [NOW, NOW - timedelta(days=1)]


def test_stop_unknown_transaction_is_answered(h):
    answer = h.ok("StopTransaction", {"transactionId": 424242, "meterStop": 1, "timestamp": ts(NOW)})
    assert answer == {}


def test_notifications_are_stored(h):
    h.ok("FirmwareStatusNotification", {"status": "Downloading"})
    h.ok("DiagnosticsStatusNotification", {"status": "Uploaded"})
    h.ok("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": ts(NOW), "techInfo": "v2"})
    h.ok("LogStatusNotification", {"status": "Uploading", "requestId": 7})
    h.ok("SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 8})
    assert h.ok("SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}) == {"status": "Rejected"}
    assert h.ok("DataTransfer", {"vendorId": "ACME", "messageId": "x", "data": "y"}) == {"status": "UnknownVendorId"}
    cp = ChargePoint.objects.get(pk=h.cp.pk)
    assert (cp.firmware_status, cp.diagnostics_status) == ("SignatureVerified", "Uploaded")
    kinds = set(ChargerEvent.objects.filter(charge_point=h.cp).values_list("kind", "status"))
    assert ("SecurityEventNotification", "FirmwareUpdated") in kinds
    assert ("LogStatusNotification", "Uploading") in kinds
    assert ("SignCertificate", "Rejected") in kinds


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("frame", "code", "uid"),
    [
        ("this is not json", "FormationViolation", "-1"),
        ('{"a": 1}', "FormationViolation", "-1"),
        ("[]", "FormationViolation", "-1"),
        ('[7, "u-7", "Heartbeat", {}]', "FormationViolation", "u-7"),
        ('[2, 12, "Heartbeat", {}]', "FormationViolation", "-1"),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "FormationViolation", "-1"),
        ('[2, "u-1", "Heartbeat"]', "FormationViolation", "u-1"),
        ('[2, "u-1", "Heartbeat", []]', "FormationViolation", "u-1"),
        ("[" * 100_000 + "]" * 100_000, "FormationViolation", "-1"),
        ('[2, "u-2", "Heartbeat", {"x": NaN}]', "FormationViolation", "-1"),
    ],
)
def test_malformed_frames_get_callerror(h, frame, code, uid):
    replies = h.raw(frame)
    assert len(replies) == 1
    assert replies[0][:3] == [4, uid, code]
    assert h.log[0]["message_type"] == 0 and h.log[0]["error_code"] == code


def test_broken_response_frames_are_not_answered(h):
    assert h.raw('[3, "u-1"]') == []
    assert h.raw('[4, "u-1", "GenericError"]') == []


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("FlyToTheMoon", "NotImplemented"),  # not an OCPP 1.6 action at all
        ("Reset", "NotSupported"),  # a 1.6 action, but not one a charger sends us
        ("GetConfiguration", "NotSupported"),
    ],
)
def test_unknown_vs_unsupported_action(h, action, code):
    assert h.call(action, {})[2] == code


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"chargePointVendor": "ACME"}, "ProtocolError"),  # required missing
        ({"chargePointVendor": 5, "chargePointModel": "X"}, "TypeConstraintViolation"),  # wrong type
        ({"chargePointVendor": "A" * 21, "chargePointModel": "X"}, "TypeConstraintViolation"),  # CiString20
        ({"chargePointVendor": "A", "chargePointModel": "X", "bogus": 1}, "FormationViolation"),
    ],
)
def test_schema_invalid_boot(h, payload, code):
    assert h.call("BootNotification", payload)[2] == code


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("StatusNotification", {"connectorId": -1, "errorCode": "NoError", "status": "Available"}),
        (
            "MeterValues",
            {
                "connectorId": -2,
                "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "1"}]}],
            },
        ),
        ("StartTransaction", {"connectorId": 0, "idTag": "X", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}),
        ("StatusNotification", {"connectorId": 2**40, "errorCode": "NoError", "status": "Available"}),
        ("StopTransaction", {"transactionId": 1, "meterStop": 2**70, "timestamp": "2026-01-01T00:00:00Z"}),
    ],
)
def test_out_of_range_connector_is_property_violation(h, action, payload):
    assert h.call(action, payload)[2] == "PropertyConstraintViolation"


def test_property_constraint_and_bad_timestamp(h):
    reply = h.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"})
    assert reply[2] == "PropertyConstraintViolation"
    reply = h.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "yesterday"},
    )
    assert reply[2] == "TypeConstraintViolation"


def test_handler_crash_is_internal_error_not_exception(h, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("apps.csms.handlers.v16.csms.boot_accept", boom)
    reply = h.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    assert reply[:3] == [4, "m-1", "InternalError"]
    assert "fire" not in json.dumps(reply)


def test_every_frame_is_logged_with_latency(h):
    h.ok("Heartbeat", {})
    assert [(e["direction"], e["message_type"], e["action"]) for e in h.log] == [
        ("in", 2, "Heartbeat"),
        ("out", 3, "Heartbeat"),
    ]
    assert h.log[1]["latency_ms"] is not None and h.log[1]["unique_id"] == "m-1"


# --------------------------------------------------------------------------- outbound


def test_outbound_call_resolves_with_answer_and_stores_configuration(h):
    async def scenario():
        task = asyncio.create_task(h.session.call_raw("GetConfiguration", {}, timeout=2))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        frame = h.sent[-1]
        assert frame[0] == 2 and frame[2] == "GetConfiguration"
        await h.session.route_message(
            json.dumps(
                [
                    3,
                    frame[1],
                    {
                        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
                        "unknownKey": [],
                    },
                ]
            )
        )
        return await task

    outcome = asyncio.run(scenario())
    drive(h.session.after_command("GetConfiguration", {}, outcome))
    assert outcome.ok and outcome.frame.payload["configurationKey"][0]["value"] == "60"
    assert h.cp.configuration.get().value == "60"
    assert [e["direction"] for e in h.log] == ["out", "in"]
    assert h.log[1]["action"] == "GetConfiguration"


def test_outbound_call_times_out(h):
    async def scenario():
        with pytest.raises(TimeoutError):
            await h.session.call_raw("ClearCache", {}, timeout=0.05)

    asyncio.run(scenario())


# --------------------------------------------------------------------------- a lost StopTransaction


def test_new_start_on_the_same_connector_closes_the_one_whose_stop_was_lost(
    h, published, django_capture_on_commit_callbacks
):
    id_token_create(id_token="TAG-1")
    first = h.ok("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": ts(NOW)})
    sample = {"timestamp": ts(NOW + timedelta(minutes=20)), "sampledValue": [{"value": "1.5", "unit": "kWh"}]}
    h.ok("MeterValues", {"connectorId": 1, "transactionId": first["transactionId"], "meterValue": [sample]})
    # The StopTransaction was lost (power cut); the same card starts again on the same connector.
    with django_capture_on_commit_callbacks(execute=True):
        second = h.ok(
            "StartTransaction",
            {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1600, "timestamp": ts(NOW + timedelta(hours=1))},
        )
    assert second["idTagInfo"]["status"] == "Accepted"
    old = Transaction.objects.get(transaction_id=str(first["transactionId"]))
    assert (old.status, old.stop_reason, old.stop_missing) == ("Completed", "EVSEReused", True)
    # Priced from its last known reading.
    assert (old.meter_stop, old.stopped_at) == (1500, NOW + timedelta(minutes=20))
    new = Transaction.objects.get(transaction_id=str(second["transactionId"]))
    assert (new.status, new.stop_missing) == ("Active", False)
    ended = [e for e in published if type(e).__name__ == "TransactionEnded"]
    assert [(e.transaction_pk, e.reason) for e in ended] == [(old.pk, "EVSEReused")]


def test_lost_stop_without_meter_values_ends_at_the_new_start(h):
    first = h.ok("StartTransaction", {"connectorId": 1, "idTag": "ANY", "meterStart": 50, "timestamp": ts(NOW)})
    # Another connector's session is left alone.
    other = h.ok("StartTransaction", {"connectorId": 2, "idTag": "ANY", "meterStart": 0, "timestamp": ts(NOW)})
    later = NOW + timedelta(hours=3)
    h.ok("StartTransaction", {"connectorId": 1, "idTag": "ANY", "meterStart": 80, "timestamp": ts(later)})
    old = Transaction.objects.get(transaction_id=str(first["transactionId"]))
    assert (old.status, old.meter_stop, old.stopped_at) == ("Completed", 50, later)
    assert Transaction.objects.get(transaction_id=str(other["transactionId"])).status == "Active"


def test_offline_start_older_than_the_running_one_closes_nothing(h):
    running = h.ok("StartTransaction", {"connectorId": 1, "idTag": "ANY", "meterStart": 0, "timestamp": ts(NOW)})
    # Delivered late from the charger's queue: it started before the running one.
    h.ok(
        "StartTransaction",
        {"connectorId": 1, "idTag": "ANY", "meterStart": 0, "timestamp": ts(NOW - timedelta(hours=5))},
    )
    assert Transaction.objects.get(transaction_id=str(running["transactionId"])).status == "Active"


def test_card_running_on_another_connector_is_still_concurrent(h):
    id_token_create(id_token="TAG-2")
    h.ok("StartTransaction", {"connectorId": 1, "idTag": "TAG-2", "meterStart": 0, "timestamp": ts(NOW)})
    answer = h.ok(
        "StartTransaction",
        {"connectorId": 2, "idTag": "TAG-2", "meterStart": 0, "timestamp": ts(NOW + timedelta(minutes=5))},
    )
    assert answer["idTagInfo"]["status"] == "ConcurrentTx"
    assert Transaction.objects.filter(charge_point=h.cp, status="Active").count() == 2


def test_late_stop_of_a_closed_transaction_takes_over(h, published, django_capture_on_commit_callbacks):
    first = h.ok("StartTransaction", {"connectorId": 1, "idTag": "ANY", "meterStart": 1000, "timestamp": ts(NOW)})
    h.ok(
        "StartTransaction",
        {"connectorId": 1, "idTag": "ANY", "meterStart": 5000, "timestamp": ts(NOW + timedelta(hours=1))},
    )
    old = Transaction.objects.get(transaction_id=str(first["transactionId"]))
    assert (old.stop_missing, old.meter_stop) == (True, 1000)
    stop = {
        "transactionId": first["transactionId"],
        "meterStop": 4000,
        "timestamp": ts(NOW + timedelta(minutes=30)),
        "reason": "PowerLoss",
    }
    with django_capture_on_commit_callbacks(execute=True):
        h.ok("StopTransaction", stop)
        h.ok("StopTransaction", stop)  # a retry changes nothing
    old.refresh_from_db()
    assert (old.stop_missing, old.stop_reason, old.meter_stop) == (False, "PowerLoss", 4000)
    assert old.stopped_at == NOW + timedelta(minutes=30)
    # Billing corrects the CDR it made at the close; the session does not end twice.
    kinds = [
        (type(e).__name__, getattr(e, "completed", None))
        for e in published
        if getattr(e, "transaction_pk", None) == old.pk
    ]
    assert kinds == [("TransactionFiguresChanged", True)]
