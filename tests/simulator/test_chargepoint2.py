"""The 2.0.1 / 2.1 simulator against a small in-test CSMS (the ocpp library's v201 / v21 server side)."""

from __future__ import annotations

import base64

import pytest
from ocpp import v21, v201

from tests.simulator.conftest import frame_index, until

ID = "SIM-0001"
CALLS = {"2.0.1": v201.call, "2.1": v21.call}


def _component(name, instance=None, evse=None):
    out = {"name": name}
    if instance:
        out["instance"] = instance
    if evse:
        out["evse"] = {"id": evse}
    return out


def _events(csms, **match):
    return [r.payload for r in csms.of("TransactionEvent", **match)]


def test_pending_boot_answers_provisioning_then_boots_again(simulate):
    async def scenario(csms, charger):
        call = v201.call
        boot = (await csms.wait_for("BootNotification"))[0].payload
        assert boot["reason"] == "PowerUp"
        station = boot["charging_station"]
        assert station["vendor_name"] == "EVzone" and station["model"] == "EVZ-Sim-22"
        assert station["serial_number"].startswith(ID) and station["modem"]["iccid"]
        await until(lambda: charger.registration == "Pending")
        answer = await csms.send(
            ID,
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "attribute_value": "1",
                    },
                    {"component": {"name": "Nope"}, "variable": {"name": "X"}, "attribute_value": "1"},
                    {"component": {"name": "TxCtrlr"}, "variable": {"name": "Nope"}, "attribute_value": "1"},
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "SecurityProfile"},
                        "attribute_value": "2",
                    },
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "attribute_type": "Target",
                        "attribute_value": "1",
                    },
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "WebSocketPingInterval"},
                        "attribute_value": "30",
                    },
                ]
            ),
        )
        assert [r["attribute_status"] for r in answer.set_variable_result] == [
            "Accepted",
            "UnknownComponent",
            "UnknownVariable",
            "Rejected",
            "NotSupportedAttributeType",
            "RebootRequired",
        ]
        got = await csms.send(
            ID,
            call.GetVariables(
                get_variable_data=[
                    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                    {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
                    {"component": {"name": "EVSE", "evse": {"id": 2}}, "variable": {"name": "AvailabilityState"}},
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                        "attribute_type": "MaxSet",
                    },
                ]
            ),
        )
        results = got.get_variable_result
        assert [r["attribute_status"] for r in results] == ["Accepted", "Rejected", "Accepted", "Accepted"]
        assert results[0]["attribute_value"] == "1" and results[2]["attribute_value"] == "Available"
        assert results[3]["attribute_value"] == "22000"
        assert (await csms.send(ID, call.GetBaseReport(request_id=7, report_base="SummaryInventory"))).status == (
            "Accepted"
        )
        await csms.wait_for("NotifyReport", request_id=7)
        # Nothing but BootNotification and answers while Pending (B02.FR.02); the second boot is accepted.
        boots = await csms.wait_for("BootNotification", count=2, timeout=4)
        assert boots[1].at - boots[0].at >= 0.9
        statuses = await csms.wait_for("StatusNotification", count=2)
        assert statuses[0].at > boots[1].at
        assert [(s.payload["evse_id"], s.payload["connector_status"]) for s in statuses] == [
            (1, "Available"),
            (2, "Available"),
        ]
        # The interval set while Pending is kept: the CSMS's BootNotification interval is 0 here.
        await csms.wait_for("Heartbeat", count=2, timeout=3.5)
        event = (await csms.wait_for("SecurityEventNotification"))[0].payload
        assert event["type"] == "StartupOfTheDevice"

    simulate(scenario, protocol="2.0.1", csms={"interval": 0, "boot_statuses": ["Pending"]}, boot_retry=1.0)


def test_base_report_is_split_by_items_per_message(simulate):
    async def scenario(csms, charger):
        call = v201.call
        await csms.wait_for("StatusNotification", count=2)
        per_message = charger.dm.int("DeviceDataCtrlr", "ItemsPerMessage", "GetReport")
        answer = await csms.send(ID, call.GetBaseReport(request_id=11, report_base="FullInventory"))
        assert answer.status == "Accepted"
        total = len(charger.dm.variables)
        parts = -(-total // per_message)
        assert parts >= 3
        reports = [r.payload for r in await csms.wait_for("NotifyReport", count=parts, request_id=11)]
        assert [r["seq_no"] for r in reports] == list(range(parts))
        assert [r["tbc"] for r in reports] == [True] * (parts - 1) + [False]
        assert all(len(r["report_data"]) <= per_message for r in reports)
        data = [d for r in reports for d in r["report_data"]]
        assert len(data) == total
        password = next(d for d in data if d["variable"]["name"] == "BasicAuthPassword")
        assert password["variable_attribute"] == [{"type": "Actual", "mutability": "WriteOnly"}]
        evse2 = [d for d in data if d["component"].get("evse", {}).get("id") == 2]
        assert {d["component"]["name"] for d in evse2} == {"EVSE", "Connector"}

        config = await csms.send(ID, call.GetBaseReport(request_id=12, report_base="ConfigurationInventory"))
        assert config.status == "Accepted"
        reports = await csms.wait_for("NotifyReport", request_id=12)
        assert all(
            a["mutability"] != "ReadOnly"
            for r in reports
            for d in r.payload["report_data"]
            for a in d["variable_attribute"]
        )

        # GetReport by component/variable and by criteria.
        answer = await csms.send(
            ID,
            call.GetReport(
                request_id=13,
                component_variable=[
                    {"component": {"name": "SampledDataCtrlr"}},
                    {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}},
                ],
            ),
        )
        assert answer.status == "Accepted"
        data = (await csms.wait_for("NotifyReport", request_id=13))[0].payload["report_data"]
        names = {(d["component"]["name"], d["variable"]["name"]) for d in data}
        assert ("EVSE", "AvailabilityState") in names and ("SampledDataCtrlr", "TxUpdatedInterval") in names
        assert len([n for n in names if n[0] == "EVSE"]) == 1
        answer = await csms.send(ID, call.GetReport(request_id=14, component_criteria=["Enabled"]))
        assert answer.status == "Accepted"
        reports = await csms.wait_for("NotifyReport", request_id=14)
        components = {d["component"]["name"] for r in reports for d in r.payload["report_data"]}
        assert "AuthCtrlr" in components and "OCPPCommCtrlr" not in components
        empty = await csms.send(ID, call.GetReport(request_id=15, component_variable=[{"component": {"name": "X"}}]))
        assert empty.status == "EmptyResultSet"

        # More GetVariableData than ItemsPerMessageGetVariables: the first N answered, the rest Rejected
        # (B06.FR.05, test case TC_B_08_CS).
        limit = charger.dm.int("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables")
        wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}] * (limit + 1)
        results = (await csms.send(ID, call.GetVariables(get_variable_data=wanted))).get_variable_result
        assert [r["attribute_status"] for r in results] == ["Accepted"] * limit + ["Rejected"]

    simulate(scenario, protocol="2.0.1")


@pytest.mark.parametrize("protocol", ["2.0.1", "2.1"])
def test_remote_start_and_stop_give_a_transaction_event_stream(simulate, protocol):
    async def scenario(csms, charger):
        call = CALLS[protocol]
        await csms.wait_for("StatusNotification", count=2)
        answer = await csms.send(
            ID,
            call.RequestStartTransaction(
                id_token={"id_token": "TAG-R", "type": "ISO14443"}, remote_start_id=77, evse_id=2
            ),
        )
        assert answer.status == "Accepted"
        started = (await csms.wait_for("TransactionEvent", event_type="Started"))[0].payload
        answered = frame_index(csms, lambda f: f[0] == 3 and f[2].get("status") == "Accepted")
        first_event = frame_index(csms, lambda f: f[0] == 2 and f[2] == "TransactionEvent")
        assert answered < first_event
        assert started["trigger_reason"] == "RemoteStart"
        assert started["transaction_info"]["remote_start_id"] == 77
        assert started["evse"] == {"id": 2, "connector_id": 1}
        assert started["id_token"] == {"id_token": "TAG-R", "type": "ISO14443"}
        assert started["offline"] is False
        tx_id = started["transaction_info"]["transaction_id"]
        await csms.wait_for("TransactionEvent", count=2, trigger_reason="MeterValuePeriodic", timeout=5)
        stop = await csms.send(ID, call.RequestStopTransaction(transaction_id=tx_id))
        assert stop.status == "Accepted"
        ended = (await csms.wait_for("TransactionEvent", event_type="Ended"))[0].payload
        assert ended["trigger_reason"] == "RemoteStop"
        assert ended["transaction_info"]["stopped_reason"] == "Remote"
        events = [e for e in _events(csms) if e["transaction_info"]["transaction_id"] == tx_id]
        assert [e["seq_no"] for e in events] == list(range(len(events)))
        assert events[1]["trigger_reason"] == "ChargingStateChanged"
        assert events[1]["transaction_info"]["charging_state"] == "Charging"
        energy = [
            sv["value"]
            for e in events
            for mv in e.get("meter_value", [])
            for sv in mv["sampled_value"]
            if sv["measurand"] == "Energy.Active.Import.Register"
        ]
        assert energy == sorted(energy) and energy[-1] > energy[0]
        periodic = next(e for e in events if e["trigger_reason"] == "MeterValuePeriodic")
        sampled = periodic["meter_value"][0]["sampled_value"]
        assert {sv.get("phase") for sv in sampled if sv["measurand"] == "Current.Import"} == {"L1", "L2", "L3"}
        assert {sv["unit_of_measure"]["unit"] for sv in sampled if sv["measurand"] == "Power.Active.Import"} == {"W"}
        await until(lambda: csms.of("StatusNotification", evse_id=2)[-1].payload["connector_status"] == "Available")
        assert [s.payload["connector_status"] for s in csms.of("StatusNotification", evse_id=2)] == [
            "Available",
            "Occupied",
            "Available",
        ]

    simulate(scenario, protocol=protocol)


def test_local_session_authorizes_first_and_ends_with_the_driver(simulate):
    async def scenario(csms, charger):
        await csms.wait_for("StatusNotification", count=2)
        assert charger.start_local_session(1, "TAG-0042", duration=2.5)
        ended = (await csms.wait_for("TransactionEvent", event_type="Ended", timeout=8))[0].payload
        authorize = csms.of("Authorize")[0]
        started = csms.of("TransactionEvent", event_type="Started")[0]
        assert authorize.at <= started.at and authorize.payload["id_token"]["id_token"] == "TAG-0042"
        assert started.payload["trigger_reason"] == "Authorized"
        assert started.payload["id_token"]["id_token"] == "TAG-0042"
        assert ended["transaction_info"]["stopped_reason"] in ("Local", "EVDisconnected")
        expected = {"Local": "StopAuthorized", "EVDisconnected": "EVCommunicationLost"}
        assert ended["trigger_reason"] == expected[ended["transaction_info"]["stopped_reason"]]

    simulate(scenario, protocol="2.0.1")


def test_offline_transaction_events_are_queued_and_delivered_in_order(simulate):
    async def scenario(csms, charger):
        call = v201.call
        await csms.wait_for("StatusNotification", count=2)
        await csms.send(
            ID,
            call.RequestStartTransaction(id_token={"id_token": "TAG-O", "type": "ISO14443"}, remote_start_id=5),
        )
        started = (await csms.wait_for("TransactionEvent", event_type="Started"))[0].payload
        tx_id = started["transaction_info"]["transaction_id"]
        csms.accepting = False
        await csms.drop(ID)
        await until(lambda: not charger.online)
        online_count = len(_events(csms))
        # A periodic meter event happens meanwhile (TxUpdatedInterval is 1 s here).
        await until(lambda: any(i.build().offline for i in list(charger.tx_queue)), timeout=5)
        charger.stop_local_session(started["evse"]["id"])
        await until(lambda: any(i.build().event_type == "Ended" for i in list(charger.tx_queue)), timeout=5)
        csms.accepting = True
        ended = (await csms.wait_for("TransactionEvent", event_type="Ended", timeout=8))[0].payload
        # A CALL in flight when the connection dropped is sent again (at least once, E04): the CSMS
        # recognises the repeat by (transactionId, seqNo), and so does this test.
        unique: dict[int, dict] = {}
        for e in _events(csms):
            if e["transaction_info"]["transaction_id"] == tx_id:
                unique.setdefault(e["seq_no"], e)
        events = list(unique.values())
        online_count = min(online_count, len(events))
        # Flagged by when they happened: those generated before the drop (even if delivered after) are
        # not offline, everything after it is.
        flags = [e["offline"] for e in events]
        assert not any(flags[:online_count]) and flags == sorted(flags) and flags.count(True) >= 2, flags
        assert ended["offline"] is True
        assert [e["seq_no"] for e in events] == list(range(len(events)))
        assert ended["transaction_info"]["stopped_reason"] == "Local"
        assert csms.connections == 2

    simulate(scenario, protocol="2.0.1")


def test_basic_auth_password_set_by_variables_is_used_after_a_reset(simulate):
    async def scenario(csms, charger):
        call = v201.call
        await csms.wait_for("StatusNotification", count=2)
        password = "a-new-password-1234"
        answer = await csms.send(
            ID,
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                        "attribute_value": password,
                    }
                ]
            ),
        )
        assert answer.set_variable_result[0]["attribute_status"] == "Accepted"
        assert (await csms.send(ID, call.Reset(type="Immediate"))).status == "Accepted"
        boots = await csms.wait_for("BootNotification", count=2, timeout=6)
        assert boots[1].payload["reason"] == "RemoteReset"
        expected = "Basic " + base64.b64encode(f"{ID}:{password}".encode()).decode()
        assert csms.requests[0].headers["Authorization"] != expected
        assert csms.requests[-1].headers["Authorization"] == expected
        events = await csms.wait_for("SecurityEventNotification", count=2, timeout=4)
        assert events[-1].payload["type"] == "ResetOrReboot"

    simulate(scenario, protocol="2.0.1", password="first-password-0001")
