"""One virtual OCPP 1.6J charger: boot, statuses, heartbeat payloads and the 1.6 state.

The connection life cycle and the ordered outbound queue are shared with 2.x (link.py). State
that survives a dropped connection or a reboot (connectors, meter registers, the key store, the
local list, queued transaction messages) lives here; the per-connection `SimChargePoint16` in
chargepoint16.py only answers CSMS calls and delegates back.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from ocpp.v16 import call

from apps.simulator.chargepoint16 import SimChargePoint16
from apps.simulator.flows16 import FlowsMixin
from apps.simulator.keys import ConfigStore, default_keys
from apps.simulator.link import ChargerLink
from apps.simulator.sessions16 import SessionsMixin
from apps.simulator.smart import ProfileStore
from apps.simulator.state import Connector, Queued, SimOptions, Stats, now_iso


class Charger16(SessionsMixin, FlowsMixin, ChargerLink):
    subprotocol = "ocpp1.6"

    def __init__(self, identity: str, options: SimOptions, stats: Stats, rng: random.Random):
        self._init_link(identity, options, stats, rng)
        self.firmware = options.firmware
        self.serial = f"{identity}-{rng.randrange(10**8):08d}"
        self.iccid = "8949" + "".join(str(rng.randrange(10)) for _ in range(15))
        self.config = ConfigStore(
            default_keys(
                connectors=options.connectors, heartbeat=options.heartbeat, meter_interval=options.meter_interval
            )
        )
        self.connectors = {n: Connector(n, energy_wh=rng.uniform(1e5, 5e6)) for n in range(1, options.connectors + 1)}
        self.connector0 = Connector(0)
        self.local_list: dict[str, dict] = {}
        self.local_list_version = 0
        self.auth_cache: dict[str, dict] = {}
        self.profiles = ProfileStore()
        self.certificates: dict[str, list[dict]] = {}
        self.charge_point_certificate: str | None = None
        self.firmware_status = "Idle"
        self.diagnostics_status = "Idle"
        self.log_status = ("Idle", None)

    # ------------------------------------------------------------------ hooks of ChargerLink

    def make_cp(self, ws) -> SimChargePoint16:
        return SimChargePoint16(self.identity, ws, self, response_timeout=self.options.call_timeout)

    def heartbeat_payload(self) -> call.Heartbeat:
        return call.Heartbeat()

    def heartbeat_interval(self) -> int:
        return self.config.int("HeartbeatInterval")

    def tx_attempts(self) -> int:
        return self.config.int("TransactionMessageAttempts")

    def tx_retry_interval(self) -> int:
        return self.config.int("TransactionMessageRetryInterval")

    def background_loops(self) -> list:
        return [self.clock_aligned_loop()]

    # ------------------------------------------------------------------ plumbing

    async def status(
        self, connector: Connector, status: str | None = None, *, error_code: str | None = None, info: str | None = None
    ) -> None:
        if status is not None:
            connector.status = status
        if error_code is not None:
            connector.error_code = error_code
        await self.send(self.status_payload(connector, info))

    def status_payload(self, connector: Connector, info: str | None = None) -> call.StatusNotification:
        return call.StatusNotification(
            connector_id=connector.id,
            error_code=connector.error_code,
            status=connector.status,
            timestamp=now_iso(),
            info=info,
        )

    def connector(self, connector_id: int | None) -> Connector | None:
        if connector_id == 0:
            return self.connector0
        return self.connectors.get(connector_id)

    # ------------------------------------------------------------------ life cycle

    def boot_payload(self) -> call.BootNotification:
        return call.BootNotification(
            charge_point_vendor=self.options.vendor,
            charge_point_model=self.options.model,
            charge_point_serial_number=self.serial,
            charge_box_serial_number=self.serial,
            firmware_version=self.firmware,
            iccid=self.iccid,
            imsi="26201" + self.iccid[-10:],
            meter_type="SimMeter AC3",
            meter_serial_number=f"M-{self.serial}",
        )

    async def boot(self) -> None:
        while not self.online:
            result = await self.cp.call(self.boot_payload(), suppress=False)
            self.boots += 1
            self.registration = result.status
            if result.status == "Accepted":
                self.accept(result.interval)
                return
            # Pending/Rejected: the interval is the wait before the next BootNotification (4.2),
            # cut short when the CSMS triggers a BootNotification that it accepts.
            self._booted.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._booted.wait(), result.interval or self.options.boot_retry)

    def accept(self, interval: int) -> None:
        self.stats.accepted += 1
        self.online = True
        self.config.change("HeartbeatInterval", str(interval or self.options.heartbeat))
        self._hb_wakeup.set()
        self._booted.set()

    def _report_all_statuses(self) -> None:
        # Ahead of transaction messages queued while offline: the CSMS learns the present
        # state first, then the history (the order real chargers use after a reboot).
        for connector in reversed([self.connector0, *self.connectors.values()]):
            payload = self.status_payload(connector)
            self.enqueue(Queued(build=lambda p=payload: p, kind="StatusNotification", transactional=False), front=True)

    async def _reboot_now(self) -> None:
        """Power cycle: volatile state goes, availability and queued transactions stay (5.14)."""
        self._reboot.clear()
        reason = self._reboot_reason or "Reboot"
        self._reboot_reason = None
        for connector in self.connectors.values():
            if connector.tx is not None:
                connector.tx.stop(reason)
        await asyncio.gather(*list(self.sessions), return_exceptions=True)
        for connector in [self.connector0, *self.connectors.values()]:
            if connector.pending_operative is not None:
                connector.operative, connector.pending_operative = connector.pending_operative, None
            connector.status = connector.idle_status()
            connector.error_code = "NoError"
        self.spawn(self._after_reboot(reason))
        await self._sleep_or_stop(min(1.0, self.options.step_delay))

    async def _after_reboot(self, reason: str) -> None:
        while not self.online:
            if self._stop.is_set():
                return
            await asyncio.sleep(0.05)
        await self.send(call.SecurityEventNotification(type="ResetOrReboot", timestamp=now_iso(), tech_info=reason))
