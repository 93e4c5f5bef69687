"""Charging sessions of a 2.x station: authorization and the TransactionEvent stream (E, F, J).

Sequence of a session (TxStartPoint Authorized,EVConnected):
  local:  Authorize -> StatusNotification Occupied -> Started(Authorized, EVConnected)
  remote: StatusNotification Occupied -> Started(RemoteStart, remoteStartId)
  then    Updated(ChargingStateChanged, Charging), Updated(MeterValuePeriodic)...,
          Ended(StopAuthorized | RemoteStop | EVCommunicationLost | ResetCommand | ...), Available.

Every TransactionEvent is built when it happens (its timestamp, seqNo and meter values are those
of that moment) and queued as a transaction message: when the connection is down it waits, with
offline=true, and is delivered in order after the reconnect (E04, the 2.x offline behaviour).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apps.simulator.drivers import DriverScheduleMixin
from apps.simulator.meter import EVSession, sample
from apps.simulator.state import Connector, Queued, now_iso, parse_iso

# stoppedReason -> the triggerReason of the Ended event
STOP_TRIGGERS = {
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "EVDisconnected": "EVCommunicationLost",
    "ImmediateReset": "ResetCommand",
    "Reboot": "ResetCommand",
    "DeAuthorized": "Deauthorized",
    "UnlockCommand": "UnlockCommand",
    "PowerLoss": "AbnormalCondition",
    "SOCLimitReached": "ChargingStateChanged",
    "StoppedByEV": "StopAuthorized",
    "Other": "AbnormalCondition",
}


@dataclass
class Tx2:
    evse_id: int
    id_token: dict
    meter_start: int
    started_at: str
    remote_start_id: int | None = None
    reservation_id: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: itertools.count = field(default_factory=itertools.count)
    charging_state: str = "EVConnected"
    stop_reason: str | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stopped.set()


def sampled_values_2x(value: dict) -> dict:
    """A 1.6-shaped MeterValue from meter.sample() in the 2.x shape: numbers, unitOfMeasure, no format."""
    out = []
    for sv in value["sampledValue"]:
        item = {"value": float(sv["value"]), "context": sv["context"], "measurand": sv["measurand"]}
        if sv.get("phase"):
            item["phase"] = sv["phase"]
        if sv.get("location"):
            item["location"] = sv["location"]
        if sv.get("unit"):
            item["unit_of_measure"] = {"unit": sv["unit"]}
        out.append(item)
    return {"timestamp": value["timestamp"], "sampled_value": out}


def id_token(token: str, kind: str = "ISO14443") -> dict:
    return {"id_token": token, "type": kind}


class Sessions2Mixin(DriverScheduleMixin):
    # ------------------------------------------------------------------ authorization (C01, C12..C15)

    def _local_status(self, token: str) -> str | None:
        sources = []
        if self.dm.bool("LocalAuthListCtrlr", "Enabled"):
            sources.append(self.local_list)
        if self.dm.bool("AuthCacheCtrlr", "Enabled"):
            sources.append(self.auth_cache)
        for source in sources:
            info = source.get(token)
            if info is None:
                continue
            expiry = info.get("cache_expiry_date_time")
            if expiry and parse_iso(expiry) < datetime.now(UTC):
                return "Expired"
            return info.get("status", "Invalid")
        return None

    def remember(self, token: str, info: dict) -> None:
        if self.dm.bool("AuthCacheCtrlr", "Enabled"):
            self.auth_cache[token] = dict(info)

    async def authorize(self, token: dict) -> str:
        if self.online:
            result = await self.send(self.call.Authorize(id_token=token))
            if result is not None:
                self.remember(token["id_token"], result.id_token_info)
                return result.id_token_info["status"]
        if not self.dm.bool("AuthCtrlr", "LocalAuthorizeOffline"):
            return "Invalid"
        status = self._local_status(token["id_token"])
        if status is None:
            return "Accepted" if self.dm.bool("AuthCtrlr", "OfflineTxForUnknownIdEnabled") else "Invalid"
        return status

    # ------------------------------------------------------------------ sessions

    def find_tx(self, transaction_id: str) -> Tx2 | None:
        for evse in self.connectors.values():
            if evse.tx is not None and evse.tx.id == transaction_id:
                return evse.tx
        return None

    def start_local_session(self, evse_id: int, token: str, *, duration: float | None = None) -> bool:
        """A driver presents a card and plugs in; usable online and offline."""
        evse = self.connectors.get(evse_id)
        if evse is None or not evse.free:
            return False
        evse.claimed = True
        self.spawn(self.run_session(evse, id_token(token), duration=duration), session=True)
        return True

    def reservation_for(self, evse: Connector, token: dict, group: dict | None = None) -> tuple[bool, int | None]:
        reservation = evse.reservation
        if reservation is None:
            return True, None
        if token["id_token"] == reservation.id_tag or (
            reservation.parent_id_tag and group and group.get("id_token") == reservation.parent_id_tag
        ):
            return True, reservation.id
        return False, None

    async def run_session(
        self,
        evse: Connector,
        token: dict,
        *,
        remote_start_id: int | None = None,
        duration: float | None = None,
        group: dict | None = None,
    ) -> None:
        remote = remote_start_id is not None
        try:
            allowed, reservation_id = self.reservation_for(evse, token, group)
            if not allowed:
                return
            if not remote or self.dm.bool("AuthCtrlr", "AuthorizeRemoteStart"):
                if await self.authorize(token) != "Accepted":
                    return
            if self.winding_down:
                return
            await self._charge(evse, token, remote_start_id, reservation_id, duration)
        finally:
            evse.claimed = False

    async def _charge(self, evse: Connector, token: dict, remote_start_id, reservation_id, duration) -> None:
        ev = EVSession(evse, self.rng, self.options.max_power_w, speedup=self.options.speedup)
        tx = Tx2(evse.id, token, int(evse.energy_wh), now_iso(), remote_start_id, reservation_id)
        evse.tx, evse.ev, evse.reservation = tx, ev, None
        self.stats.sessions_started += 1
        self.stats.sessions_active += 1
        try:
            await self.status(evse, "Occupied")
            self.transaction_event(
                tx,
                "Started",
                "RemoteStart" if remote_start_id is not None else "Authorized",
                measurands=self.dm.csl("SampledDataCtrlr", "TxStartedMeasurands"),
                context="Transaction.Begin",
                with_token=True,
            )
            tx.charging_state = "Charging"
            self.transaction_event(tx, "Updated", "ChargingStateChanged")
            await self._sample_until_stopped(evse, tx, ev, duration)
            ev.advance()
            tx.charging_state = "Idle" if tx.stop_reason == "EVDisconnected" else "EVConnected"
            self.transaction_event(
                tx,
                "Ended",
                STOP_TRIGGERS.get(tx.stop_reason, "AbnormalCondition"),
                measurands=self.dm.csl("SampledDataCtrlr", "TxEndedMeasurands"),
                context="Transaction.End",
                with_token=tx.stop_reason == "Local",
            )
        finally:
            evse.tx, evse.ev = None, None
            self.stats.sessions_active -= 1
            self.clear_tx_profiles(evse.id)
        if self.resetting:
            return  # the station reboots: the boot sequence reports every EVSE afresh
        if tx.stop_reason != "EVDisconnected":
            await asyncio.sleep(self.options.step_delay)  # the driver unplugs
        await self.settle(evse)

    async def _sample_until_stopped(self, evse: Connector, tx: Tx2, ev: EVSession, duration) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration if duration else None
        while True:
            timeout = self.dm.int("SampledDataCtrlr", "TxUpdatedInterval") or self.options.meter_interval
            if deadline is not None:
                timeout = max(0.0, min(timeout, deadline - loop.time()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(tx.stopped.wait(), timeout)
                return
            if deadline is not None and loop.time() >= deadline:
                tx.stop(self.rng.choice(["Local", "EVDisconnected"]))
                return
            ev.limit_w = self.profiles.limit_w(evse.id, datetime.now(UTC), parse_iso(tx.started_at), True)
            ev.advance()
            if ev.full and tx.charging_state == "Charging":
                tx.charging_state = "SuspendedEV"
                self.transaction_event(tx, "Updated", "ChargingStateChanged")
            self.transaction_event(tx, "Updated", "MeterValuePeriodic")

    def transaction_event(
        self,
        tx: Tx2,
        event_type: str,
        trigger: str,
        *,
        measurands: list[str] | None = None,
        context: str = "Sample.Periodic",
        with_token: bool = False,
        queue: bool = True,
    ):
        """Build one TransactionEvent now and queue it (or return it, for a triggered one)."""
        evse = self.connectors[tx.evse_id]
        if measurands is None:
            measurands = self.dm.csl("SampledDataCtrlr", "TxUpdatedMeasurands")
        info: dict = {"transaction_id": tx.id, "charging_state": tx.charging_state}
        if event_type == "Started" and tx.remote_start_id is not None:
            info["remote_start_id"] = tx.remote_start_id
        if event_type == "Ended":
            info["stopped_reason"] = tx.stop_reason or "Other"
        kwargs: dict = {}
        if event_type == "Started":
            kwargs["evse"] = {"id": tx.evse_id, "connector_id": 1}
            if tx.reservation_id is not None:
                kwargs["reservation_id"] = tx.reservation_id
        if with_token:
            kwargs["id_token"] = tx.id_token
        if measurands:
            value = sample(evse, evse.ev, measurands, context, self.rng)
            if not value["sampledValue"]:
                value = None
            if value is not None:
                kwargs["meter_value"] = [sampled_values_2x(value)]
        payload = self.call.TransactionEvent(
            event_type=event_type,
            timestamp=now_iso(),
            trigger_reason=trigger,
            seq_no=next(tx.seq),
            transaction_info=info,
            # Generated while the CSMS could not be told: E04 wants these flagged.
            offline=not self.online,
            **kwargs,
        )
        if not queue:
            return payload

        def on_result(result) -> None:
            status = (result.id_token_info or {}).get("status")
            if status is None:
                return
            self.remember(tx.id_token["id_token"], result.id_token_info)
            if status != "Accepted" and event_type != "Ended" and self.dm.bool("TxCtrlr", "StopTxOnInvalidId"):
                tx.stop("DeAuthorized")

        self.enqueue(Queued(build=lambda: payload, kind="TransactionEvent", on_result=on_result))
        return payload

    async def settle(self, evse: Connector) -> None:
        """Back to idle, applying an availability change that had to wait for the transaction."""
        if evse.pending_operative is not None:
            evse.operative, evse.pending_operative = evse.pending_operative, None
        await self.status(evse, evse.idle_status())
        station = self.connector0
        if station.pending_operative is not None and not self.busy(0):
            station.operative, station.pending_operative = station.pending_operative, None
            for other in self.connectors.values():
                if other.tx is None:
                    other.operative = station.operative
                    await self.status(other, other.idle_status())
        if self.reset_when_idle and not self.busy(0):
            self.reset_when_idle = False
            self.request_reboot("RemoteReset")

    def busy(self, evse_id: int) -> bool:
        if evse_id == 0:
            return any(c.tx is not None for c in self.connectors.values())
        return self.connectors[evse_id].tx is not None
