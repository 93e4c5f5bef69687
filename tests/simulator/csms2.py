"""A tiny OCPP 2.0.1 / 2.1 central system for the simulator's tests: the `ocpp` library's v201 /
v21 ChargePoint on the server side over `websockets`, recording every CALL it receives.

The library validates every frame both ways against the version's JSON schemas, so a test that
gets an answer through `send` has also proved the simulator's answer is schema-valid."""

from __future__ import annotations

from ocpp import v21, v201
from ocpp.routing import on

from tests.simulator.csms import FakeCSMS, Received, _now


class Csms2Handlers:
    def __init__(self, id, connection, csms: FakeCSMS):
        super().__init__(id, connection, response_timeout=5)
        self.csms = csms

    async def route_message(self, raw_msg):
        self.csms.frames.append((self.id, raw_msg))
        await super().route_message(raw_msg)

    def _got(self, action: str, payload: dict) -> None:
        self.csms.record(Received(self.id, action, payload))

    @property
    def r(self):
        return self._call_result

    @on("BootNotification")
    def on_boot_notification(self, **payload):
        self._got("BootNotification", payload)
        status = self.csms.boot_statuses.pop(0) if self.csms.boot_statuses else "Accepted"
        return self.r.BootNotification(current_time=_now(), interval=self.csms.interval, status=status)

    @on("Heartbeat")
    def on_heartbeat(self, **payload):
        self._got("Heartbeat", payload)
        return self.r.Heartbeat(current_time=_now())

    @on("Authorize")
    def on_authorize(self, id_token, **payload):
        self._got("Authorize", {"id_token": id_token, **payload})
        status = "Blocked" if id_token["id_token"] in self.csms.blocked else "Accepted"
        return self.r.Authorize(id_token_info={"status": status})

    @on("TransactionEvent")
    def on_transaction_event(self, **payload):
        self._got("TransactionEvent", payload)
        token = payload.get("id_token")
        if token is None:
            return self.r.TransactionEvent()
        status = "Blocked" if token["id_token"] in self.csms.blocked else "Accepted"
        return self.r.TransactionEvent(id_token_info={"status": status})

    @on("GetCertificateStatus")
    def on_get_certificate_status(self, **payload):
        self._got("GetCertificateStatus", payload)
        return self.r.GetCertificateStatus(status="Accepted", ocsp_result="MIIB")

    @on("DataTransfer")
    def on_data_transfer(self, **payload):
        self._got("DataTransfer", payload)
        return self.r.DataTransfer(status="Accepted", data="pong")

    @on("SignCertificate")
    def on_sign_certificate(self, **payload):
        self._got("SignCertificate", payload)
        return self.r.SignCertificate(status="Accepted")


# Notifications whose answer is empty: one recording handler each.
EMPTY = (
    "StatusNotification",
    "MeterValues",
    "NotifyReport",
    "NotifyMonitoringReport",
    "NotifyEvent",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "ReportChargingProfiles",
    "SecurityEventNotification",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "ReservationStatusUpdate",
    "PublishFirmwareStatusNotification",
)


def _empty_handler(action: str):
    def handler(self, **payload):
        self._got(action, payload)
        return getattr(self._call_result, action)()

    handler.__name__ = "on_" + action
    return on(action)(handler)


for _action in EMPTY:
    setattr(Csms2Handlers, "on_" + _action, _empty_handler(_action))


class Csms201ChargePoint(Csms2Handlers, v201.ChargePoint):
    pass


class Csms21ChargePoint(Csms2Handlers, v21.ChargePoint):
    pass


class FakeCSMS201(FakeCSMS):
    subprotocol = "ocpp2.0.1"
    cp_class = Csms201ChargePoint


class FakeCSMS21(FakeCSMS):
    subprotocol = "ocpp2.1"
    cp_class = Csms21ChargePoint


CSMS2 = {"2.0.1": FakeCSMS201, "2.1": FakeCSMS21}
