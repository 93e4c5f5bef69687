"""The 1.6 simulator against a small in-test CSMS (ocpp library server side over websockets)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from ocpp.v16 import call

from apps.simulator.state import parse_iso
from tests.simulator.conftest import frame_index, until

ID = "SIM-0001"


def _energy(meter_value: dict) -> int:
    for sv in meter_value["sampled_value"]:
        if sv["measurand"] == "Energy.Active.Import.Register":
            return int(sv["value"])
    raise AssertionError("no energy register in sample")


def _statuses(csms, connector_id):
    return [r.payload["status"] for r in csms.of("StatusNotification", connector_id=connector_id)]


def test_boot_status_heartbeat(simulate):
    async def scenario(csms, charger):
        boot = (await csms.wait_for("BootNotification"))[0].payload
        assert boot["charge_point_vendor"] == "EVzone"
        assert boot["charge_point_model"] == "EVZ-Sim-22"
        assert boot["charge_point_serial_number"].startswith(ID)
        assert boot["firmware_version"] == "1.4.2"
        assert len(boot["iccid"]) == 19 and boot["meter_type"]
        statuses = await csms.wait_for("StatusNotification", count=3)
        assert [(s.payload["connector_id"], s.payload["status"], s.payload["error_code"]) for s in statuses] == [
            (0, "Available", "NoError"),
            (1, "Available", "NoError"),
            (2, "Available", "NoError"),
        ]
        # The CSMS's interval (1 s) replaces the simulator's default (60 s).
        await csms.wait_for("Heartbeat", count=2, timeout=3.5)
        assert charger.config["HeartbeatInterval"] == "1"

    simulate(scenario, csms={"interval": 1})


def test_pending_boot_retried_and_nothing_else_sent_until_accepted(simulate):
    async def scenario(csms, charger):
        boots = await csms.wait_for("BootNotification", count=2, timeout=4)
        await csms.wait_for("StatusNotification", count=3)
        first_status = csms.of("StatusNotification")[0]
        assert first_status.at > boots[1].at
        assert boots[1].at - boots[0].at >= 0.9  # waited the interval the CSMS gave

    simulate(scenario, csms={"interval": 1, "boot_statuses": ["Pending"]})


def test_full_session_messages_in_order_with_increasing_meter(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        assert charger.start_local_session(1, "TAG-0042", duration=3.4)
        stop = (await csms.wait_for("StopTransaction", timeout=8))[0].payload
        await until(lambda: _statuses(csms, 1)[-1] == "Available")

        def relevant(r):
            return r.action in ("Authorize", "StartTransaction", "MeterValues", "StopTransaction") or (
                r.action == "StatusNotification" and r.payload["connector_id"] == 1
            )

        seq = [
            r.action if r.action != "StatusNotification" else r.payload["status"] for r in csms.received if relevant(r)
        ]
        seq = seq[1:]  # the boot-time Available
        finishing = [] if stop["reason"] == "EVDisconnected" else ["Finishing"]
        meter_count = seq.count("MeterValues")
        assert meter_count >= 2
        assert seq == [
            "Preparing",
            "Authorize",
            "StartTransaction",
            "Charging",
            *["MeterValues"] * meter_count,
            "StopTransaction",
            *finishing,
            "Available",
        ]

        start = csms.of("StartTransaction")[0].payload
        meters = csms.of("MeterValues")
        assert all(m.payload["transaction_id"] == start["transaction_id"] for m in meters)
        readings = [start["meter_start"], *(_energy(m.payload["meter_value"][0]) for m in meters), stop["meter_stop"]]
        assert readings == sorted(readings) and len(set(readings)) == len(readings), readings
        assert stop["transaction_id"] == start["transaction_id"] and stop["id_tag"] == "TAG-0042"

        sampled = meters[0].payload["meter_value"][0]["sampled_value"]
        by = {(sv["measurand"], sv.get("phase")): sv for sv in sampled}
        assert by[("Energy.Active.Import.Register", None)]["unit"] == "Wh"
        assert (
            by[("Power.Active.Import", None)]["unit"] == "W" and float(by[("Power.Active.Import", None)]["value"]) > 0
        )
        assert {p for m, p in by if m == "Current.Import"} == {"L1", "L2", "L3"}
        assert {p for m, p in by if m == "Voltage"} == {"L1-N", "L2-N", "L3-N"}
        assert by[("SoC", None)]["unit"] == "Percent" and by[("SoC", None)]["location"] == "EV"
        assert {sv["context"] for sv in sampled} == {"Sample.Periodic"}
        contexts = [mv["sampled_value"][0]["context"] for mv in stop["transaction_data"]]
        assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"

    simulate(scenario)


def test_remote_start_starts_and_remote_stop_ends_a_session(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        answer = await csms.send(ID, call.RemoteStartTransaction(id_tag="TAG-R", connector_id=2))
        assert answer.status == "Accepted"
        start = (await csms.wait_for("StartTransaction"))[0].payload
        assert start["connector_id"] == 2 and start["id_tag"] == "TAG-R"
        # The answer reached the CSMS before anything the remote start caused.
        answered = frame_index(csms, lambda f: f[0] == 3 and "status" in f[2] and f[2]["status"] == "Accepted")
        preparing = frame_index(csms, lambda f: f[0] == 2 and f[3].get("status") == "Preparing")
        assert answered < preparing

        busy = await csms.send(ID, call.RemoteStartTransaction(id_tag="TAG-X", connector_id=2))
        assert busy.status == "Rejected"
        assert (await csms.send(ID, call.RemoteStopTransaction(transaction_id=99999))).status == "Rejected"

        tx_id = start["transaction_id"]
        assert (await csms.send(ID, call.RemoteStopTransaction(transaction_id=tx_id))).status == "Accepted"
        stop = (await csms.wait_for("StopTransaction"))[0].payload
        assert stop["transaction_id"] == tx_id and stop["reason"] == "Remote"
        await until(lambda: _statuses(csms, 2)[-1] == "Available")
        assert _statuses(csms, 2) == ["Available", "Preparing", "Charging", "Finishing", "Available"]

    simulate(scenario)


def test_soft_reset_stops_session_then_reconnects_and_reboots(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        await csms.send(ID, call.RemoteStartTransaction(id_tag="TAG-R", connector_id=1))
        await csms.wait_for("StartTransaction")
        assert (await csms.send(ID, call.Reset(type="Soft"))).status == "Accepted"
        boots = await csms.wait_for("BootNotification", count=2)
        stop = csms.of("StopTransaction")[0]
        assert stop.payload["reason"] == "SoftReset" and stop.at < boots[1].at
        assert csms.connections == 2

        def after():
            return [
                (r.payload["connector_id"], r.payload["status"])
                for r in csms.of("StatusNotification")
                if r.at > boots[1].at
            ]

        await until(lambda: len(after()) >= 3)
        assert after()[:3] == [(0, "Available"), (1, "Available"), (2, "Available")]
        event = (await csms.wait_for("SecurityEventNotification"))[0].payload
        assert event["type"] == "ResetOrReboot"

    simulate(scenario)


def test_hard_reset_sends_stop_after_reboot(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        await csms.send(ID, call.RemoteStartTransaction(id_tag="TAG-H", connector_id=1))
        start = (await csms.wait_for("StartTransaction"))[0].payload
        assert (await csms.send(ID, call.Reset(type="Hard"))).status == "Accepted"
        boots = await csms.wait_for("BootNotification", count=2)
        stop = (await csms.wait_for("StopTransaction"))[0]
        assert stop.payload["reason"] == "HardReset" and stop.at > boots[1].at
        assert stop.payload["transaction_id"] == start["transaction_id"]

    simulate(scenario)


def test_get_and_change_configuration_round_trip(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("BootNotification")
        await until(lambda: charger.online)
        got = await csms.send(ID, call.GetConfiguration(key=["HeartbeatInterval", "NumberOfConnectors", "Nope"]))
        keys = {k["key"]: k for k in got.configuration_key}
        assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "2"}
        assert keys["HeartbeatInterval"]["readonly"] is False
        assert got.unknown_key == ["Nope"]

        change = await csms.send(ID, call.ChangeConfiguration(key="MeterValueSampleInterval", value="15"))
        assert change.status == "Accepted"
        got = await csms.send(ID, call.GetConfiguration(key=["MeterValueSampleInterval"]))
        assert got.configuration_key[0]["value"] == "15"

        async def status(key, value):
            return (await csms.send(ID, call.ChangeConfiguration(key=key, value=value))).status

        assert await status("NumberOfConnectors", "4") == "Rejected"
        assert await status("MeterValueSampleInterval", "soon") == "Rejected"
        assert await status("MeterValuesSampledData", "Energy.Active.Import.Register,RPM") == "Rejected"
        assert await status("NoSuchKey", "1") == "NotSupported"
        assert await status("WebSocketPingInterval", "30") == "RebootRequired"
        assert await status("AuthorizationKey", "0123456789abcdef0123") == "Accepted"

        everything = await csms.send(ID, call.GetConfiguration())
        listed = {k["key"]: k for k in everything.configuration_key}
        assert {"SupportedFeatureProfiles", "LocalAuthListEnabled", "ChargeProfileMaxStackLevel"} <= set(listed)
        assert "value" not in listed["AuthorizationKey"]  # write-only

    simulate(scenario)


def test_clock_aligned_meter_values(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        await csms.send(ID, call.ChangeConfiguration(key="ClockAlignedDataInterval", value="1"))
        readings = await csms.wait_for("MeterValues", count=2, timeout=3)
        sampled = readings[0].payload["meter_value"][0]["sampled_value"]
        assert [(sv["measurand"], sv["context"]) for sv in sampled] == [
            ("Energy.Active.Import.Register", "Sample.Clock")
        ]

    simulate(scenario)


def test_trigger_message_sends_the_triggered_message_after_answering(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        answer = await csms.send(ID, call.TriggerMessage(requested_message="Heartbeat"))
        assert answer.status == "Accepted"
        await csms.wait_for("Heartbeat")  # the interval is 300 s: only the trigger explains it

        answer = await csms.send(ID, call.TriggerMessage(requested_message="StatusNotification", connector_id=2))
        assert answer.status == "Accepted"
        await csms.wait_for("StatusNotification", count=2, connector_id=2)

        await csms.send(ID, call.TriggerMessage(requested_message="MeterValues", connector_id=1))
        meter = (await csms.wait_for("MeterValues"))[0].payload
        assert meter["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"

        await csms.send(ID, call.TriggerMessage(requested_message="BootNotification"))
        await csms.wait_for("BootNotification", count=2)

        bad = await csms.send(ID, call.TriggerMessage(requested_message="StatusNotification", connector_id=9))
        assert bad.status == "Rejected"
        heartbeat_answer = frame_index(csms, lambda f: f[0] == 3 and f[2] == {"status": "Accepted"})
        heartbeat = frame_index(csms, lambda f: f[0] == 2 and f[2] == "Heartbeat")
        assert heartbeat_answer < heartbeat

    simulate(scenario, csms={"interval": 300})


def test_update_firmware_and_diagnostics_status_sequences(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        now = datetime.now(UTC).isoformat()
        await csms.send(ID, call.UpdateFirmware(location="https://fw.example/evz-2.0.1.bin", retrieve_date=now))
        notes = await csms.wait_for("FirmwareStatusNotification", count=4)
        assert [n.payload["status"] for n in notes] == ["Downloading", "Downloaded", "Installing", "Installed"]
        await csms.send(ID, call.TriggerMessage(requested_message="BootNotification"))
        boots = await csms.wait_for("BootNotification", count=2)
        assert boots[1].payload["firmware_version"] == "2.0.1"

        answer = await csms.send(ID, call.GetDiagnostics(location="ftp://logs.example/up"))
        assert answer.file_name.startswith(ID)
        notes = await csms.wait_for("DiagnosticsStatusNotification", count=2)
        assert [n.payload["status"] for n in notes] == ["Uploading", "Uploaded"]

    simulate(scenario)


def test_offline_transactions_replayed_after_reconnect(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=3)
        csms.accepting = False
        await csms.drop(ID)
        await until(lambda: not charger.online)
        assert charger.start_local_session(1, "TAG-OFFLINE", duration=2.2)
        await until(lambda: charger.stats.sessions_started == 1 and charger.stats.sessions_active == 0, timeout=6)
        assert not csms.of("StartTransaction")
        queued = [item.kind for item in charger.tx_queue]
        assert queued[0] == "StartTransaction" and queued[-1] == "StopTransaction" and "MeterValues" in queued
        back_online = datetime.now(UTC)
        csms.accepting = True

        stop = (await csms.wait_for("StopTransaction", timeout=6))[0]
        start = csms.of("StartTransaction")[0]
        boots = csms.of("BootNotification")
        assert len(boots) == 2 and start.at > boots[1].at
        # Original timestamps, not the time of the replay.
        assert parse_iso(start.payload["timestamp"]) < back_online
        assert parse_iso(stop.payload["timestamp"]) < back_online
        meters = csms.of("MeterValues")
        assert meters and all(m.payload["transaction_id"] == start.payload["transaction_id"] for m in meters)
        assert start.at < meters[0].at <= meters[-1].at < stop.at
        assert stop.payload["transaction_id"] == start.payload["transaction_id"]
        await until(lambda: not charger.tx_queue)

    simulate(scenario)


def test_basic_auth_header_and_subprotocol_sent(simulate):
    password = "s3cret-passw0rd-of-20"

    async def scenario(csms, charger):
        await csms.wait_for("BootNotification")
        request = csms.requests[0]
        expected = base64.b64encode(f"{ID}:{password}".encode()).decode()
        assert request.headers["Authorization"] == f"Basic {expected}"
        assert request.headers["Sec-WebSocket-Protocol"] == "ocpp1.6"
        assert request.path == f"/ocpp/{ID}"

    simulate(scenario, password=password)


def test_localhost_subdomains_reach_loopback_with_their_host_header(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("BootNotification")
        assert csms.requests[0].headers["Host"].startswith("demo.localhost:")

    # The OS resolver here does not map *.localhost (RFC 6761); the simulator connects to 127.0.0.1.
    simulate(scenario, url_host="demo.localhost")


def test_fleet_of_three_with_distinct_identities(simulate):
    async def scenario(csms, chargers):
        boots = await csms.wait_for("BootNotification", count=3)
        assert sorted(b.identity for b in boots) == ["SIM-0001", "SIM-0002", "SIM-0003"]
        assert len({b.payload["charge_point_serial_number"] for b in boots}) == 3
        await until(lambda: chargers[0].stats.accepted == 3)

    simulate(scenario, count=3)
