"""Every CSMS-to-station command of 2.0.1 (and the same against 2.1) gets a stateful, schema-valid answer.

The fake CSMS's library validates each answer against the version's schema (an invalid one would
come back as a CALLERROR and `send` would raise), so these tests also pin the 2.1 payload shapes.
"""

from __future__ import annotations

import http.server
import threading
from datetime import UTC, datetime, timedelta

import pytest
from ocpp import v21, v201

from tests.simulator.conftest import until

ID = "SIM-0001"
CALLS = {"2.0.1": v201.call, "2.1": v21.call}
PEM = "-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----\n"
TOKEN = {"id_token": "TAG-1", "type": "ISO14443"}
BOTH = pytest.mark.parametrize("protocol", ["2.0.1", "2.1"])


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _status(csms, evse_id):
    return csms.of("StatusNotification", evse_id=evse_id)[-1].payload["connector_status"]


def _profile(profile_id, purpose, *, stack_level=0, limit=16.0, tx_id=None):
    profile = {
        "id": profile_id,
        "stack_level": stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": "Relative" if purpose == "TxProfile" else "Absolute",
        "charging_schedule": [
            {
                "id": profile_id,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": limit}, {"start_period": 60, "limit": 8.0}],
            }
        ],
    }
    if purpose != "TxProfile":
        profile["charging_schedule"][0]["start_schedule"] = _in(-1)
    if tx_id:
        profile["transaction_id"] = tx_id
    return profile


@BOTH
def test_remote_control_availability_reset_and_unlock(simulate, protocol):
    async def scenario(csms, charger):
        call, send = CALLS[protocol], csms.send
        await csms.wait_for("StatusNotification", count=2)
        assert (await send(ID, call.ChangeAvailability(operational_status="Inoperative", evse={"id": 1}))).status == (
            "Accepted"
        )
        await until(lambda: _status(csms, 1) == "Unavailable")
        rejected = await send(ID, call.RequestStartTransaction(id_token=TOKEN, remote_start_id=1, evse_id=1))
        assert rejected.status == "Rejected"
        assert (await send(ID, call.ChangeAvailability(operational_status="Operative", evse={"id": 1}))).status == (
            "Accepted"
        )
        await until(lambda: _status(csms, 1) == "Available")
        bad = await send(ID, call.ChangeAvailability(operational_status="Operative", evse={"id": 9}))
        assert bad.status == "Rejected"

        await send(ID, call.RequestStartTransaction(id_token=TOKEN, remote_start_id=2, evse_id=2))
        started = (await csms.wait_for("TransactionEvent", event_type="Started"))[0].payload
        tx_id = started["transaction_info"]["transaction_id"]
        status = await send(ID, call.GetTransactionStatus(transaction_id=tx_id))
        assert status.ongoing_indicator is True
        assert (await send(ID, call.GetTransactionStatus())).ongoing_indicator is None
        unlock = await send(ID, call.UnlockConnector(evse_id=2, connector_id=1))
        assert unlock.status == "OngoingAuthorizedTransaction"
        assert (await send(ID, call.UnlockConnector(evse_id=5, connector_id=1))).status == "UnknownConnector"
        assert (await send(ID, call.UnlockConnector(evse_id=1, connector_id=1))).status == "Unlocked"
        station = await send(ID, call.ChangeAvailability(operational_status="Inoperative"))
        assert station.status == "Scheduled"
        await until(lambda: _status(csms, 1) == "Unavailable")
        assert (await send(ID, call.Reset(type="OnIdle"))).status == "Scheduled"
        assert (await send(ID, call.RequestStopTransaction(transaction_id="nope"))).status == "Rejected"
        # The EVSE reset ends its transaction; then the station is idle and the OnIdle reset runs.
        assert (await send(ID, call.Reset(type="Immediate", evse_id=2))).status == "Accepted"
        ended = (await csms.wait_for("TransactionEvent", event_type="Ended"))[0].payload
        assert ended["trigger_reason"] == "ResetCommand"
        assert ended["transaction_info"]["stopped_reason"] == "ImmediateReset"
        boots = await csms.wait_for("BootNotification", count=2, timeout=6)
        assert boots[1].payload["reason"] == "RemoteReset"
        await until(lambda: charger.online)
        # Inoperative survives the reboot (G03.FR.07).
        await until(lambda: len(csms.of("StatusNotification", connector_status="Unavailable", evse_id=2)) >= 1)
        assert (await send(ID, call.Reset(type="Immediate", evse_id=7))).status == "Rejected"

    simulate(scenario, protocol=protocol)


@BOTH
def test_triggers(simulate, protocol):
    async def scenario(csms, charger):
        call, send = CALLS[protocol], csms.send
        await csms.wait_for("StatusNotification", count=2)
        assert (await send(ID, call.TriggerMessage(requested_message="BootNotification"))).status == "Rejected"
        assert (await send(ID, call.TriggerMessage(requested_message="TransactionEvent"))).status == "Rejected"
        bad = await send(ID, call.TriggerMessage(requested_message="StatusNotification", evse={"id": 9}))
        assert bad.status == "Rejected"
        expected = {
            "Heartbeat": "Heartbeat",
            "StatusNotification": "StatusNotification",
            "MeterValues": "MeterValues",
            "FirmwareStatusNotification": "FirmwareStatusNotification",
            "LogStatusNotification": "LogStatusNotification",
            "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
            "SignChargingStationCertificate": "SignCertificate",
            "SignV2GCertificate": "SignCertificate",
            "SignCombinedCertificate": "SignCertificate",
        }
        for trigger, action in expected.items():
            before = len(csms.of(action))
            answer = await send(ID, call.TriggerMessage(requested_message=trigger, evse={"id": 1}))
            assert answer.status == "Accepted", trigger
            await csms.wait_for(action, count=before + 1)
        signs = [r.payload for r in csms.of("SignCertificate")]
        assert [s.get("certificate_type") for s in signs] == ["ChargingStationCertificate", "V2GCertificate", None]
        assert all(s["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----") for s in signs)
        from cryptography import x509

        csr = x509.load_pem_x509_csr(signs[0]["csr"].encode())
        assert csr.is_signature_valid and ID in csr.subject.rfc4514_string()

        await send(ID, call.RequestStartTransaction(id_token=TOKEN, remote_start_id=3, evse_id=1))
        await csms.wait_for("TransactionEvent", event_type="Started")
        answer = await send(ID, call.TriggerMessage(requested_message="TransactionEvent", evse={"id": 1}))
        assert answer.status == "Accepted"
        await csms.wait_for("TransactionEvent", trigger_reason="Trigger")

    simulate(scenario, protocol=protocol)


@BOTH
def test_reservation_local_list_and_cache(simulate, protocol):
    async def scenario(csms, charger):
        call, send = CALLS[protocol], csms.send
        await csms.wait_for("StatusNotification", count=2)
        reserve = await send(ID, call.ReserveNow(id=4, expiry_date_time=_in(0.6), id_token=TOKEN, evse_id=1))
        assert reserve.status == "Accepted"
        await until(lambda: _status(csms, 1) == "Reserved")
        update = (await csms.wait_for("ReservationStatusUpdate", timeout=4))[0].payload
        assert update == {"reservation_id": 4, "reservation_update_status": "Expired"}
        await until(lambda: _status(csms, 1) == "Available")
        assert (await send(ID, call.ReserveNow(id=5, expiry_date_time=_in(60), id_token=TOKEN))).status == "Accepted"
        assert (await send(ID, call.CancelReservation(reservation_id=5))).status == "Accepted"
        assert (await send(ID, call.CancelReservation(reservation_id=5))).status == "Rejected"

        assert (await send(ID, call.GetLocalListVersion())).version_number == 0
        full = [
            {"id_token": {"id_token": "A", "type": "ISO14443"}, "id_token_info": {"status": "Accepted"}},
            {"id_token": {"id_token": "B", "type": "ISO14443"}, "id_token_info": {"status": "Blocked"}},
        ]
        answer = await send(ID, call.SendLocalList(version_number=3, update_type="Full", local_authorization_list=full))
        assert answer.status == "Accepted" and set(charger.local_list) == {"A", "B"}
        stale = await send(
            ID,
            call.SendLocalList(
                version_number=3,
                update_type="Differential",
                local_authorization_list=[{"id_token": {"id_token": "B", "type": "ISO14443"}}],
            ),
        )
        assert stale.status == "VersionMismatch"
        assert (await send(ID, call.GetLocalListVersion())).version_number == 3
        assert (await send(ID, call.ClearCache())).status == "Accepted"

    simulate(scenario, protocol=protocol)


@BOTH
def test_smart_charging(simulate, protocol):
    async def scenario(csms, charger):
        call, send = CALLS[protocol], csms.send
        await csms.wait_for("StatusNotification", count=2)
        answer = await send(ID, call.SetChargingProfile(evse_id=0, charging_profile=_profile(1, "TxDefaultProfile")))
        assert answer.status == "Accepted"
        wrong = await send(ID, call.SetChargingProfile(evse_id=1, charging_profile=_profile(2, "TxProfile")))
        assert wrong.status == "Rejected"  # no transaction on EVSE 1
        too_high = _profile(3, "TxDefaultProfile", stack_level=99)
        assert (await send(ID, call.SetChargingProfile(evse_id=1, charging_profile=too_high))).status == "Rejected"
        limit = _profile(4, "ChargingStationMaxProfile", limit=20.0)
        assert (await send(ID, call.SetChargingProfile(evse_id=0, charging_profile=limit))).status == "Accepted"

        remote_profile = _profile(9, "TxProfile", limit=10.0)
        started = await send(
            ID,
            call.RequestStartTransaction(id_token=TOKEN, remote_start_id=9, evse_id=2, charging_profile=remote_profile),
        )
        assert started.status == "Accepted"
        await csms.wait_for("TransactionEvent", event_type="Started")

        got = await send(ID, call.GetChargingProfiles(request_id=21, charging_profile={}))
        assert got.status == "Accepted"
        reports = await csms.wait_for("ReportChargingProfiles", count=2, request_id=21)
        ids = sorted(p["id"] for r in reports for p in r.payload["charging_profile"])
        assert ids == [1, 4, 9]
        none = await send(ID, call.GetChargingProfiles(request_id=22, charging_profile={"charging_profile_id": [77]}))
        assert none.status == "NoProfiles"
        composite = await send(ID, call.GetCompositeSchedule(duration=120, evse_id=2, charging_rate_unit="A"))
        assert composite.status == "Accepted"
        periods = composite.schedule["charging_schedule_period"]
        assert periods[0]["limit"] == 10.0 and periods[-1]["limit"] == 8.0
        assert (await send(ID, call.GetCompositeSchedule(duration=60, evse_id=8))).status == "Rejected"
        assert (await send(ID, call.ClearChargingProfile(charging_profile_id=1))).status == "Accepted"
        assert (await send(ID, call.ClearChargingProfile(charging_profile_id=1))).status == "Unknown"
        criteria = {"charging_profile_purpose": "ChargingStationMaxProfile"}
        cleared = await send(ID, call.ClearChargingProfile(charging_profile_criteria=criteria))
        assert cleared.status == "Accepted"

    simulate(scenario, protocol=protocol)


class _Uploads(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 (the stdlib's name)
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


@BOTH
def test_firmware_log_and_certificates(simulate, protocol):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Uploads)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Uploads.received = []
    upload_url = f"http://127.0.0.1:{server.server_address[1]}/logs/"

    async def scenario(csms, charger):
        call, send = CALLS[protocol], csms.send
        await csms.wait_for("StatusNotification", count=2)
        firmware = {
            "location": "https://fw.example/evz-2.0.0.bin",
            "retrieve_date_time": _in(0),
            "signing_certificate": PEM,
            "signature": "c2ln",
        }
        assert (await send(ID, call.UpdateFirmware(request_id=31, firmware=firmware))).status == "Accepted"
        updates = await csms.wait_for("FirmwareStatusNotification", count=5, request_id=31, timeout=6)
        assert [u.payload["status"] for u in updates] == [
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "Installed",
        ]
        assert charger.firmware == "2.0.0"
        bad = dict(firmware, signing_certificate="not a certificate")
        assert (await send(ID, call.UpdateFirmware(request_id=32, firmware=bad))).status == "InvalidCertificate"

        log = await send(ID, call.GetLog(log={"remote_location": upload_url}, log_type="DiagnosticsLog", request_id=41))
        assert log.status == "Accepted" and log.filename.startswith(ID)
        statuses = await csms.wait_for("LogStatusNotification", count=2, request_id=41, timeout=6)
        assert [s.payload["status"] for s in statuses] == ["Uploading", "Uploaded"]
        assert len(_Uploads.received) == 1 and b"evse 1:" in _Uploads.received[0]
        failing = await send(
            ID, call.GetLog(log={"remote_location": "http://127.0.0.1:9/x"}, log_type="SecurityLog", request_id=42)
        )
        assert failing.status == "Accepted"
        statuses = await csms.wait_for("LogStatusNotification", count=2, request_id=42, timeout=8)
        assert statuses[-1].payload["status"] == "UploadFailure"

        assert (await send(ID, call.CertificateSigned(certificate_chain=PEM))).status == "Accepted"
        assert (await send(ID, call.CertificateSigned(certificate_chain="junk"))).status == "Rejected"
        installed = await send(ID, call.InstallCertificate(certificate_type="CSMSRootCertificate", certificate=PEM))
        assert installed.status == "Accepted"
        ids = await send(ID, call.GetInstalledCertificateIds(certificate_type=["CSMSRootCertificate"]))
        assert ids.status == "Accepted"
        hash_data = ids.certificate_hash_data_chain[0]["certificate_hash_data"]
        assert (await send(ID, call.DeleteCertificate(certificate_hash_data=hash_data))).status == "Accepted"
        assert (await send(ID, call.DeleteCertificate(certificate_hash_data=hash_data))).status == "NotFound"
        assert (await send(ID, call.GetInstalledCertificateIds())).status == "NotFound"

    try:
        simulate(scenario, protocol=protocol, timeout=25)
    finally:
        server.shutdown()
        server.server_close()


@BOTH
def test_monitoring_customer_display_network_data_and_cost(simulate, protocol):
    async def scenario(csms, charger):
        call, send = CALLS[protocol], csms.send
        await csms.wait_for("StatusNotification", count=2)
        availability = {"component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}}}
        monitors = await send(
            ID,
            call.SetVariableMonitoring(
                set_monitoring_data=[
                    {
                        **availability,
                        "variable": {"name": "AvailabilityState"},
                        "value": 1,
                        "type": "Delta",
                        "severity": 5,
                    },
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                        "value": 11000,
                        "type": "UpperThreshold",
                        "severity": 4,
                    },
                    {
                        "component": {"name": "Nope"},
                        "variable": {"name": "X"},
                        "value": 1,
                        "type": "Delta",
                        "severity": 1,
                    },
                ]
            ),
        )
        results = monitors.set_monitoring_result
        assert [r["status"] for r in results] == ["Accepted", "Accepted", "UnknownComponent"]
        # A Delta monitor on the connector's AvailabilityState reports changes with NotifyEvent.
        await send(ID, call.ReserveNow(id=6, expiry_date_time=_in(60), id_token=TOKEN, evse_id=1))
        event = (await csms.wait_for("NotifyEvent"))[0].payload["event_data"][0]
        assert event["actual_value"] == "Reserved" and event["variable_monitoring_id"] == results[0]["id"]
        report = await send(ID, call.GetMonitoringReport(request_id=51, monitoring_criteria=["DeltaMonitoring"]))
        assert report.status == "Accepted"
        monitored = (await csms.wait_for("NotifyMonitoringReport", request_id=51))[0].payload["monitor"]
        assert [m["variable_monitoring"][0]["type"] for m in monitored] == ["Delta"]
        cleared = await send(ID, call.ClearVariableMonitoring(id=[results[0]["id"], 999]))
        assert [r["status"] for r in cleared.clear_monitoring_result] == ["Accepted", "NotFound"]
        assert (await send(ID, call.SetMonitoringLevel(severity=3))).status == "Accepted"
        assert (await send(ID, call.SetMonitoringBase(monitoring_base="HardWiredOnly"))).status == "Accepted"
        empty = await send(ID, call.GetMonitoringReport(request_id=52))
        assert empty.status == "EmptyResultSet"

        info = await send(ID, call.CustomerInformation(request_id=61, report=True, clear=False, id_token=TOKEN))
        assert info.status == "Accepted"
        assert (await csms.wait_for("NotifyCustomerInformation", request_id=61))[0].payload["tbc"] is False
        invalid = await send(ID, call.CustomerInformation(request_id=62, report=True, clear=False))
        assert invalid.status == "Invalid"

        message = {"id": 1, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Welcome"}}
        assert (await send(ID, call.SetDisplayMessage(message=message))).status == "Accepted"
        bad_format = {**message, "id": 2, "message": {"format": "HTML", "content": "<b>x</b>"}}
        assert (await send(ID, call.SetDisplayMessage(message=bad_format))).status == "NotSupportedMessageFormat"
        assert (await send(ID, call.GetDisplayMessages(request_id=71))).status == "Accepted"
        shown = (await csms.wait_for("NotifyDisplayMessages", request_id=71))[0].payload
        assert shown["message_info"][0]["message"]["content"] == "Welcome"
        assert (await send(ID, call.ClearDisplayMessage(id=1))).status == "Accepted"
        assert (await send(ID, call.GetDisplayMessages(request_id=72))).status == "Unknown"
        assert (await send(ID, call.ClearDisplayMessage(id=1))).status == "Unknown"

        profile = {
            "ocpp_transport": "JSON",
            "ocpp_csms_url": "wss://csms.example/ocpp",
            "message_timeout": 30,
            "security_profile": 2,
            "ocpp_interface": "Wired0",
        }
        if protocol == "2.0.1":
            profile["ocpp_version"] = "OCPP20"
        answer = await send(ID, call.SetNetworkProfile(configuration_slot=1, connection_data=profile))
        assert answer.status == "Accepted"
        assert (await send(ID, call.SetNetworkProfile(configuration_slot=7, connection_data=profile))).status == (
            "Rejected"
        )

        echo = await send(ID, call.DataTransfer(vendor_id="EVzone", message_id="Echo", data="hi"))
        assert echo.status == "Accepted" and echo.data == "hi"
        assert (await send(ID, call.DataTransfer(vendor_id="Other"))).status == "UnknownVendorId"
        await send(ID, call.CostUpdated(total_cost=1.23, transaction_id="tx-1"))
        assert charger.costs == {"tx-1": 1.23}

    simulate(scenario, protocol=protocol)
