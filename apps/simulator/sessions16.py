"""Charging sessions of a 1.6 charger: authorization, the transaction messages, connector states."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from ocpp.v16 import call

from apps.simulator.drivers import DriverScheduleMixin
from apps.simulator.meter import EVSession, sample
from apps.simulator.state import Connector, Queued, Transaction, now_iso, parse_iso


class SessionsMixin(DriverScheduleMixin):
    sessions_scheduler_running = False

    # ------------------------------------------------------------------ authorization

    def _offline_status(self, id_tag: str) -> str | None:
        """Local list first, then the cache (3.5); None when the tag is unknown to both."""
        sources = []
        if self.config.bool("LocalAuthListEnabled"):
            sources.append(self.local_list)
        if self.config.bool("AuthorizationCacheEnabled"):
            sources.append(self.auth_cache)
        for source in sources:
            info = source.get(id_tag)
            if info is None:
                continue
            expiry = info.get("expiry_date")
            if expiry and parse_iso(expiry) < datetime.now(UTC):
                return "Expired"
            return info.get("status", "Invalid")
        return None

    def remember(self, id_tag: str, info: dict) -> None:
        if self.config.bool("AuthorizationCacheEnabled"):
            self.auth_cache[id_tag] = dict(info)

    async def authorize(self, id_tag: str) -> str:
        if self.online:
            result = await self.send(call.Authorize(id_tag=id_tag))
            if result is not None:
                self.remember(id_tag, result.id_tag_info)
                return result.id_tag_info["status"]
        if not self.config.bool("LocalAuthorizeOffline"):
            return "Invalid"
        status = self._offline_status(id_tag)
        if status is None:
            return "Accepted" if self.config.bool("AllowOfflineTxForUnknownId") else "Invalid"
        return status

    # ------------------------------------------------------------------ sessions

    def find_tx(self, transaction_id: int) -> Transaction | None:
        for connector in self.connectors.values():
            if connector.tx is not None and connector.tx.id == transaction_id:
                return connector.tx
        return None

    def start_local_session(self, connector_id: int, id_tag: str, *, duration: float | None = None) -> bool:
        """A driver plugs in and presents a card; usable online and offline."""
        connector = self.connectors.get(connector_id)
        if connector is None or not connector.free:
            return False
        connector.claimed = True
        self.spawn(self.run_session(connector, id_tag, remote=False, duration=duration), session=True)
        return True

    def _reservation_for(self, connector: Connector, id_tag: str) -> tuple[bool, int | None]:
        reservation = connector.reservation
        if reservation is None:
            return True, None
        parent = (self.local_list.get(id_tag) or self.auth_cache.get(id_tag) or {}).get("parent_id_tag")
        if id_tag == reservation.id_tag or (parent and parent == reservation.parent_id_tag):
            return True, reservation.id
        return False, None

    async def run_session(
        self, connector: Connector, id_tag: str, *, remote: bool, duration: float | None = None
    ) -> None:
        allowed, reservation_id = self._reservation_for(connector, id_tag)
        if not allowed:
            connector.claimed = False
            return
        try:
            await self.status(connector, "Preparing")
            if not remote or self.config.bool("AuthorizeRemoteTxRequests"):
                if await self.authorize(id_tag) != "Accepted":
                    await self.status(connector, connector.idle_status())
                    return
            if self.winding_down:
                await self.status(connector, connector.idle_status())
                return
            await self._charge(connector, id_tag, reservation_id, duration)
        finally:
            connector.claimed = False

    async def _charge(
        self, connector: Connector, id_tag: str, reservation_id: int | None, duration: float | None
    ) -> None:
        stop_measurands = self.config.csl("StopTxnSampledData")
        ev = EVSession(connector, self.rng, self.options.max_power_w, speedup=self.options.speedup)
        tx = Transaction(connector.id, id_tag, int(connector.energy_wh), now_iso(), reservation_id)
        connector.tx, connector.ev, connector.reservation = tx, ev, None
        tx.transaction_data.append(sample(connector, ev, stop_measurands, "Transaction.Begin", self.rng))
        self.enqueue(self._queued_start(tx))
        self.stats.sessions_started += 1
        self.stats.sessions_active += 1
        try:
            await self.status(connector, "Charging")
            await self._sample_until_stopped(connector, tx, ev, duration, stop_measurands)
            ev.advance()
            tx.transaction_data.append(sample(connector, ev, stop_measurands, "Transaction.End", self.rng))
            self.enqueue(self._queued_stop(tx, int(connector.energy_wh), now_iso()))
        finally:
            connector.tx, connector.ev = None, None
            self.stats.sessions_active -= 1
            self.profiles.clear_tx_profiles(connector.id)
        if tx.stop_reason in ("Reboot", "HardReset", "SoftReset", "PowerLoss"):
            return  # the boot sequence reports every connector afresh
        if tx.stop_reason != "EVDisconnected":
            await self.status(connector, "Finishing")
            await asyncio.sleep(self.options.step_delay)  # the driver unplugs
        await self.settle(connector)

    async def _sample_until_stopped(self, connector, tx, ev, duration, stop_measurands) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration if duration else None
        while True:
            timeout = self.config.int("MeterValueSampleInterval") or self.options.meter_interval
            if deadline is not None:
                timeout = max(0.0, min(timeout, deadline - loop.time()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(tx.stopped.wait(), timeout)
                return
            if deadline is not None and loop.time() >= deadline:
                tx.stop(self.rng.choice(["Local", "EVDisconnected"]))
                return
            ev.limit_w = self.profiles.limit_w(connector.id, datetime.now(UTC), parse_iso(tx.started_at), True)
            ev.advance()
            if ev.full and connector.status == "Charging":
                await self.status(connector, "SuspendedEV")
            value = sample(connector, ev, self.config.csl("MeterValuesSampledData"), "Sample.Periodic", self.rng)
            self.enqueue(self._queued_meter_values(tx, value))
            tx.transaction_data.append(sample(connector, ev, stop_measurands, "Sample.Periodic", self.rng))

    def _queued_start(self, tx: Transaction):
        def on_result(result) -> None:
            tx.id = result.transaction_id
            self.remember(tx.id_tag, result.id_tag_info)
            if result.id_tag_info["status"] != "Accepted" and self.config.bool("StopTransactionOnInvalidId"):
                tx.stop("DeAuthorized")

        # The original timestamp is kept, so a replay after an outage shows when charging really began.
        return Queued(
            kind="StartTransaction",
            build=lambda: call.StartTransaction(
                connector_id=tx.connector_id,
                id_tag=tx.id_tag,
                meter_start=tx.meter_start,
                timestamp=tx.started_at,
                reservation_id=tx.reservation_id,
            ),
            on_result=on_result,
        )

    def _queued_meter_values(self, tx: Transaction, value: dict):
        return Queued(
            kind="MeterValues",
            build=lambda: call.MeterValues(
                connector_id=tx.connector_id,
                transaction_id=tx.id,
                meter_value=[value],
            ),
        )

    def _queued_stop(self, tx: Transaction, meter_stop: int, stopped_at: str):
        def build():
            if tx.id is None:
                return None  # StartTransaction was never accepted: there is nothing to stop
            return call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=stopped_at,
                transaction_id=tx.id,
                reason=tx.stop_reason,
                id_tag=tx.id_tag,
                transaction_data=tx.transaction_data,
            )

        return Queued(kind="StopTransaction", build=build)

    async def settle(self, connector: Connector) -> None:
        """Back to idle, applying an availability change that had to wait for the transaction."""
        if connector.pending_operative is not None:
            connector.operative, connector.pending_operative = connector.pending_operative, None
        await self.status(connector, connector.idle_status())
        station = self.connector0
        if station.pending_operative is not None and not self.busy(0):
            station.operative, station.pending_operative = station.pending_operative, None
            await self.status(station, station.idle_status())

    def busy(self, connector_id: int) -> bool:
        if connector_id == 0:
            return any(c.tx is not None for c in self.connectors.values())
        return self.connectors[connector_id].tx is not None
