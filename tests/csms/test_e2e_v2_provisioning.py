"""End to end over real websockets with an OCPP 2.0.1 station: Pending boot → the vendor
template's SetVariables (split by the station's ItemsPerMessage) → accepted → TriggerMessage
BootNotification → the station boots Accepted; a FullInventory report in two parts; and a
password rotation after which only the new password opens a connection."""

import asyncio
import contextlib

import pytest
import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint as Station201
from ocpp.v201 import call, call_result

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.devicemodel.models import Component, DeviceReport, TemplateApplication, VendorTemplate
from apps.devicemodel.services import report_part_record
from tests.csms.e2e import basic, in_thread, now_iso, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "pending-2x-charger-pass"
STATION = {"model": "Wallbox X", "vendor_name": "EVzoneTest", "firmware_version": "2.0.4"}


class Station(Station201):
    """Answers the provisioning commands; `received` keeps (action, kwargs); `trigger_boot`
    makes it send a BootNotification after answering a TriggerMessage for one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.boots: list[str] = []

    @on("SetVariables")
    async def on_set_variables(self, set_variable_data, **kw):
        self.received.append(("SetVariables", set_variable_data))
        return call_result.SetVariables(
            set_variable_result=[
                {"attribute_status": "Accepted", "component": d["component"], "variable": d["variable"]}
                for d in set_variable_data
            ]
        )

    @on("GetBaseReport")
    async def on_get_base_report(self, request_id, report_base, **kw):
        self.received.append(("GetBaseReport", {"request_id": request_id, "report_base": report_base}))
        asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(self._report(request_id)))
        return call_result.GetBaseReport(status="Accepted")

    async def _report(self, request_id):
        def entry(component, variable, value, instance=None):
            v = {"name": variable, **({"instance": instance} if instance else {})}
            return {"component": {"name": component}, "variable": v, "variable_attribute": [{"value": value}]}

        # Two parts, the last one first: the CSMS must wait for both.
        await self.call(
            call.NotifyReport(
                request_id=request_id,
                generated_at=now_iso(),
                seq_no=1,
                report_data=[entry("DeviceDataCtrlr", "ItemsPerMessage", "2", "SetVariables")],
            )
        )
        await self.call(
            call.NotifyReport(
                request_id=request_id,
                generated_at=now_iso(),
                seq_no=0,
                tbc=True,
                report_data=[entry("OCPPCommCtrlr", "HeartbeatInterval", "300")],
            )
        )

    @on("TriggerMessage")
    async def on_trigger_message(self, requested_message, **kw):
        self.received.append(("TriggerMessage", {"requested_message": requested_message}))
        if requested_message == "BootNotification":
            asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(self.boot("Triggered")))
        return call_result.TriggerMessage(status="Accepted")

    async def boot(self, reason="PowerUp"):
        answer = await self.call(call.BootNotification(charging_station=STATION, reason=reason))
        self.boots.append(answer.status)
        return answer


@contextlib.asynccontextmanager
async def station(server, identity, password):
    ws = await websockets.connect(
        server.url(identity),
        host="127.0.0.1",
        port=server.port,
        subprotocols=["ocpp2.0.1"],
        additional_headers=basic(identity, password),
        open_timeout=5,
    )
    st = Station(identity, ws, response_timeout=10)
    task = asyncio.create_task(st.start())
    try:
        yield st
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await ws.close()


@pytest.fixture
def template(e2e_db):
    from apps.devicemodel.vendortemplates import vendor_template_save

    e2e_db.run(
        vendor_template_save,
        name="EVzoneTest Pending",
        vendor="evzonetest",
        model="Wallbox X",
        variables_text=(
            "OCPPCommCtrlr.OfflineThreshold = 300\nOCPPCommCtrlr.HeartbeatInterval = 60\nAuthCtrlr.Enabled = true"
        ),
        auto_accept=True,
    )
    yield
    # Templates are not among the tables the e2e fixture empties.
    e2e_db.run(lambda: VendorTemplate.objects.all().delete())


def test_pending_boot_is_configured_from_the_template_then_accepted(e2e_db, template):
    cp = e2e_db.run(charge_point_create, identity="DM-PEND", password=PASSWORD, registration_status="Pending")
    # What an earlier report said about the station's limits: two items per SetVariables.
    e2e_db.run(
        report_part_record,
        charge_point_id=cp.pk,
        request_id=1,
        seq_no=0,
        generated_at=cp.created_at,
        tbc=False,
        report_data=[
            {
                "component": {"name": "DeviceDataCtrlr"},
                "variable": {"name": "ItemsPerMessage", "instance": "SetVariables"},
                "variableAttribute": [{"value": "2", "mutability": "ReadOnly"}],
            }
        ],
    )

    async def scenario():
        async with station(e2e_db, "DM-PEND", PASSWORD) as st:
            assert (await st.boot()).status == "Pending"

            async def accepted_boot():
                return "Accepted" in st.boots

            await wait_for(accepted_boot, timeout=15)
            return st.received

    received = asyncio.run(scenario())
    actions = [a for a, _ in received]
    assert actions == ["SetVariables", "SetVariables", "TriggerMessage"]
    assert [len(data) for a, data in received if a == "SetVariables"] == [2, 1]
    assert received[0][1][0] == {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "OfflineThreshold"},
        "attribute_value": "300",
    }
    run = e2e_db.run(lambda: TemplateApplication.objects.get(charge_point__identity="DM-PEND"))
    assert (run.status, run.accepted_charger, run.trigger) == ("Applied", True, "pending_boot")
    assert [r["status"] for r in run.results] == ["Accepted"] * 3
    assert e2e_db.run(lambda: ChargePoint.objects.get(identity="DM-PEND").registration_status) == "Accepted"
    # The answers were stored by the session as they passed (answered_set_variables).
    values = e2e_db.run(
        lambda: sorted(
            Component.objects.get(charge_point__identity="DM-PEND", name="OCPPCommCtrlr").variables.values_list(
                "name", "attributes__value", "attributes__last_set_status"
            )
        )
    )
    assert values == [("HeartbeatInterval", "60", "Accepted"), ("OfflineThreshold", "300", "Accepted")]


def test_full_inventory_from_a_pending_station(e2e_db):
    """The operator can read a Pending station's device model (B02); parts come out of order."""
    e2e_db.run(charge_point_create, identity="DM-REP", password=PASSWORD, registration_status="Pending")

    def request():
        from apps.devicemodel.provisioning import device_base_report_request

        cp = ChargePoint.objects.get(identity="DM-REP")
        return device_base_report_request(charge_point=cp, report_base="FullInventory").status

    async def scenario():
        async with station(e2e_db, "DM-REP", PASSWORD) as st:
            assert (await st.boot()).status == "Pending"
            assert await in_thread(e2e_db.schema, request) in ("Accepted", "Receiving", "Complete")

            async def complete():
                def check():
                    return DeviceReport.objects.filter(
                        charge_point__identity="DM-REP", report_base="FullInventory", status="Complete"
                    ).exists()

                return await in_thread(e2e_db.schema, check)

            await wait_for(complete, timeout=10)

    asyncio.run(scenario())
    names = e2e_db.run(
        lambda: sorted(Component.objects.filter(charge_point__identity="DM-REP").values_list("name", flat=True))
    )
    assert names == ["DeviceDataCtrlr", "OCPPCommCtrlr"]


def test_password_rotation_only_the_new_password_connects(e2e_db):
    e2e_db.run(charge_point_create, identity="DM-PWD", password=PASSWORD)

    def rotate():
        from apps.devicemodel.security import password_rotate

        return password_rotate(charge_point=ChargePoint.objects.get(identity="DM-PWD")).status

    async def scenario():
        async with station(e2e_db, "DM-PWD", PASSWORD) as st:
            assert (await st.boot()).status == "Accepted"
            assert await in_thread(e2e_db.schema, rotate) == "Accepted"
            [(action, data)] = st.received
            assert data[0]["variable"] == {"name": "BasicAuthPassword"}
            new_password = data[0]["attribute_value"]
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with station(e2e_db, "DM-PWD", PASSWORD):
                pass
        async with station(e2e_db, "DM-PWD", new_password) as st:
            assert (await st.boot()).status == "Accepted"

    asyncio.run(scenario())
