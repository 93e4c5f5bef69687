"""One virtual OCPP 2.0.1 / 2.1 charging station: boot, statuses, heartbeat and the 2.x state.

The connection life cycle and the ordered outbound queue are shared with 1.6 (link.py). Each
EVSE has one connector (connectorId 1); `self.connectors` is keyed by EVSE id and reuses the
1.6 Connector record, whose idle states (Available/Reserved/Unavailable) are 2.x connector
statuses as well. The per-connection `SimChargePoint2` only answers CSMS calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from ocpp import v21, v201

from apps.simulator.chargepoint2 import SimChargePoint21, SimChargePoint201
from apps.simulator.devicemodel2 import DeviceModel, clock_getter, default_variables
from apps.simulator.flows2 import Flows2Mixin
from apps.simulator.link import ChargerLink
from apps.simulator.sessions2 import Sessions2Mixin
from apps.simulator.smart import ProfileStore
from apps.simulator.state import Connector, Queued, SimOptions, Stats, now_iso

VERSIONS = {
    "2.0.1": ("ocpp2.0.1", v201.call, SimChargePoint201),
    "2.1": ("ocpp2.1", v21.call, SimChargePoint21),
}


class Charger2(Sessions2Mixin, Flows2Mixin, ChargerLink):
    def __init__(self, identity: str, options: SimOptions, stats: Stats, rng: random.Random):
        self._init_link(identity, options, stats, rng)
        self.version = options.protocol
        self.subprotocol, self.call, self._cp_class = VERSIONS[self.version]
        self.firmware = options.firmware
        self.serial = f"{identity}-{rng.randrange(10**8):08d}"
        self.iccid = "8949" + "".join(str(rng.randrange(10)) for _ in range(15))
        self.connectors = {n: Connector(n, energy_wh=rng.uniform(1e5, 5e6)) for n in range(1, options.connectors + 1)}
        self.connector0 = Connector(0)  # the station as a whole, for ChangeAvailability without an EVSE
        self.dm = DeviceModel(
            default_variables(
                evses=options.connectors,
                heartbeat=options.heartbeat,
                meter_interval=options.meter_interval,
                options=options,
            )
        )
        self.dm.find("SecurityCtrlr", "Identity").value = identity
        self.dm.find("ClockCtrlr", "DateTime").getter = clock_getter
        self.dm.find("ChargingStation", "AvailabilityState").getter = lambda: self._availability(self.connector0)
        for n, evse in self.connectors.items():
            self.dm.find("EVSE", "AvailabilityState", evse=n).getter = lambda e=evse: self._availability(e)
            self.dm.find("Connector", "AvailabilityState", evse=n, connector=1).getter = lambda e=evse: (
                self._availability(e)
            )
            self.dm.find("EVSE", "Power", evse=n).getter = lambda e=evse: f"{e.ev.power_w:.0f}" if e.ev else "0"
        self.local_list: dict[str, dict] = {}
        self.local_list_version = 0
        self.auth_cache: dict[str, dict] = {}
        self.profiles = ProfileStore()
        self.profiles2: dict[int, tuple[int, dict]] = {}  # profile id -> (evse id, profile as received)
        self.certificates: dict[str, list[dict]] = {}
        self.station_certificate: str | None = None
        self.network_profiles: dict[int, dict] = {}
        self.display_messages: dict[int, dict] = {}
        self.costs: dict[str, float] = {}
        self.firmware_status = ("Idle", None)
        self.log_status = ("Idle", None)
        self.boot_reason = "PowerUp"
        self.reset_when_idle = False
        self.resetting = False  # between a station reset and the next accepted boot
        self._announced = False
        self._event_ids = 0

    # ------------------------------------------------------------------ hooks of ChargerLink

    def make_cp(self, ws):
        return self._cp_class(self.identity, ws, self, response_timeout=self.options.call_timeout)

    def heartbeat_payload(self):
        return self.call.Heartbeat()

    def heartbeat_interval(self) -> int:
        return self.dm.int("OCPPCommCtrlr", "HeartbeatInterval")

    def tx_attempts(self) -> int:
        return self.dm.int("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent")

    def tx_retry_interval(self) -> int:
        return self.dm.int("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent")

    def background_loops(self) -> list:
        return [self.clock_aligned_loop()]

    # ------------------------------------------------------------------ state helpers

    def _availability(self, connector: Connector) -> str:
        if connector.id == 0:
            return "Available" if connector.operative else "Unavailable"
        return connector.status

    def connector(self, evse_id: int | None) -> Connector | None:
        if not evse_id:
            return self.connector0
        return self.connectors.get(evse_id)

    def status_payload(self, evse: Connector):
        return self.call.StatusNotification(
            timestamp=now_iso(), connector_status=evse.status, evse_id=evse.id, connector_id=1
        )

    async def status(self, evse: Connector, status: str | None = None) -> None:
        if status is not None and status != evse.status:
            evse.status = status
            self._notify_delta(evse)
        elif status is not None:
            evse.status = status
        await self.send(self.status_payload(evse))

    def _notify_delta(self, evse: Connector) -> None:
        """A Delta monitor on a connector's AvailabilityState reports each change with NotifyEvent (N07)."""
        var = self.dm.find("Connector", "AvailabilityState", evse=evse.id, connector=1)
        for monitor in self.dm.monitors_on(var):
            self.spawn(self.notify_event(var, evse.status, trigger="Delta", monitor_id=monitor.id))

    async def notify_event(
        self,
        var,
        actual: str,
        *,
        trigger: str = "Delta",
        monitor_id: int | None = None,
        kind: str = "CustomMonitor",
        tech_info: str | None = None,
    ) -> None:
        self._event_ids += 1
        event = {
            "event_id": self._event_ids,
            "timestamp": now_iso(),
            "trigger": trigger,
            "actual_value": actual,
            "event_notification_type": kind,
            "component": var.component_dict(),
            "variable": var.variable_dict(),
        }
        if monitor_id is not None:
            event["variable_monitoring_id"] = monitor_id
        if tech_info:
            event["tech_info"] = tech_info
        await self.send(self.call.NotifyEvent(generated_at=now_iso(), seq_no=0, event_data=[event]))

    # ------------------------------------------------------------------ boot

    def boot_payload(self, reason: str | None = None):
        return self.call.BootNotification(
            charging_station={
                "model": self.options.model,
                "vendor_name": self.options.vendor,
                "serial_number": self.serial,
                "firmware_version": self.firmware,
                "modem": {"iccid": self.iccid[:20], "imsi": "26201" + self.iccid[-10:]},
            },
            reason=reason or self.boot_reason,
        )

    async def boot(self) -> None:
        while not self.online:
            result = await self.cp.call(self.boot_payload(), suppress=False)
            self.boots += 1
            self.registration = result.status
            if result.status == "Accepted":
                self.accept(result.interval)
                return
            # Pending/Rejected: wait the interval before the next BootNotification (B02/B03); a
            # Pending station keeps answering the CSMS meanwhile (SetVariables, GetBaseReport, ...)
            # and boots at once when a TriggerMessage(BootNotification) is accepted.
            self._booted.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._booted.wait(), result.interval or self.options.boot_retry)

    def accept(self, interval: int) -> None:
        self.stats.accepted += 1
        self.online = True
        if interval:
            self.dm.put("OCPPCommCtrlr", "HeartbeatInterval", str(interval))
        self._hb_wakeup.set()
        self._booted.set()
        self.resetting = False
        reason, self.boot_reason = self.boot_reason, "PowerUp"
        if not self._announced:
            self._announced = True
            self.spawn(self.security_event("StartupOfTheDevice", "simulator started"))
        elif reason != "PowerUp":
            self.spawn(self.security_event("ResetOrReboot", reason))

    async def security_event(self, kind: str, info: str | None = None) -> None:
        await self.send(self.call.SecurityEventNotification(type=kind, timestamp=now_iso(), tech_info=info))

    def _report_all_statuses(self) -> None:
        for evse in reversed(list(self.connectors.values())):
            payload = self.status_payload(evse)
            self.enqueue(Queued(build=lambda p=payload: p, kind="StatusNotification", transactional=False), front=True)

    async def _reboot_now(self) -> None:
        """Power cycle: volatile state goes, availability and queued TransactionEvents stay."""
        self._reboot.clear()
        reason = self._reboot_reason or "RemoteReset"
        self._reboot_reason = None
        self.resetting = True
        for evse in self.connectors.values():
            if evse.tx is not None:
                evse.tx.stop("ImmediateReset")
        await asyncio.gather(*list(self.sessions), return_exceptions=True)
        for evse in [self.connector0, *self.connectors.values()]:
            if evse.pending_operative is not None:
                evse.operative, evse.pending_operative = evse.pending_operative, None
            evse.status = evse.idle_status()
        self.boot_reason = reason
        await self._sleep_or_stop(min(1.0, self.options.step_delay))
