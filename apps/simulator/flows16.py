"""Multi-message flows a 1.6 charger runs after answering a CSMS command.

Each coroutine here is started with `Charger16.spawn` once the answer has gone out, never
awaited inside a handler: the CSMS must see the answer before the messages that follow it.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from ocpp.v16 import call

from apps.simulator.meter import sample
from apps.simulator.state import Connector, parse_iso


def _next_version(current: str, location: str) -> str:
    found = re.search(r"(\d+\.\d+(?:\.\d+)?)", location.rsplit("/", 1)[-1])
    if found:
        return found.group(1)
    parts = current.split(".")
    if parts[-1].isdigit():
        parts[-1] = str(int(parts[-1]) + 1)
        return ".".join(parts)
    return current + ".1"


async def _wait_until(when: str | None, cap: float = 3600) -> None:
    if not when:
        return
    delay = (parse_iso(when) - datetime.now(UTC)).total_seconds()
    if delay > 0:
        await asyncio.sleep(min(delay, cap))


class FlowsMixin:
    async def send_triggered(self, message: str, connector_id: int | None) -> None:
        if message == "BootNotification":
            result = await self.send(self.boot_payload(), before_accept=True)
            if result is not None:
                self.registration = result.status
                if result.status == "Accepted" and not self.online:
                    self.accept(result.interval)
        elif message == "Heartbeat":
            await self.send(call.Heartbeat())
        elif message == "StatusNotification":
            targets = (
                [self.connector(connector_id)]
                if connector_id is not None
                else [self.connector0, *self.connectors.values()]
            )
            for connector in targets:
                await self.status(connector)
        elif message == "MeterValues":
            ids = [connector_id] if connector_id else list(self.connectors)
            for cid in ids:
                await self._triggered_meter_values(self.connectors[cid])
        elif message == "FirmwareStatusNotification":
            await self.send(call.FirmwareStatusNotification(status=self.firmware_status))
        elif message == "DiagnosticsStatusNotification":
            await self.send(call.DiagnosticsStatusNotification(status=self.diagnostics_status))
        elif message == "LogStatusNotification":
            status, request_id = self.log_status
            await self.send(call.LogStatusNotification(status=status, request_id=request_id or 0))
        elif message == "SignChargePointCertificate":
            await self.send(call.SignCertificate(csr=self.csr()))

    async def _triggered_meter_values(self, connector: Connector) -> None:
        if connector.ev is not None:
            connector.ev.advance()
        value = sample(connector, connector.ev, self.config.csl("MeterValuesSampledData"), "Trigger", self.rng)
        if connector.ev is None:
            # Without a car only the register is meaningful.
            value["sampledValue"] = [
                v for v in value["sampledValue"] if v["measurand"] == "Energy.Active.Import.Register"
            ]
        tx_id = connector.tx.id if connector.tx is not None else None
        await self.send(call.MeterValues(connector_id=connector.id, transaction_id=tx_id, meter_value=[value]))

    def csr(self) -> str:
        body = f"CN={self.identity},O={self.config['CpoName'] or 'EVzone'}".encode().hex()
        return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"

    async def clock_aligned_loop(self) -> None:
        """Sample.Clock readings at multiples of ClockAlignedDataInterval past midnight UTC (3.16.2)."""
        while True:
            interval = self.config.int("ClockAlignedDataInterval")
            if interval <= 0:
                await asyncio.sleep(1)
                continue
            now = datetime.now(UTC)
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            elapsed = (now - midnight).total_seconds()
            await asyncio.sleep(interval - elapsed % interval)
            measurands = self.config.csl("MeterValuesAlignedData")
            for connector in self.connectors.values():
                if connector.ev is not None:
                    connector.ev.advance()
                value = sample(connector, connector.ev, measurands, "Sample.Clock", self.rng)
                if connector.tx is not None:
                    self.enqueue(self._queued_meter_values(connector.tx, value))
                else:
                    value["sampledValue"] = [
                        v for v in value["sampledValue"] if v["measurand"] == "Energy.Active.Import.Register"
                    ]
                    self.spawn(self.send(call.MeterValues(connector_id=connector.id, meter_value=[value])))

    # ------------------------------------------------------------------ reset and availability

    async def reset_flow(self, kind: str) -> None:
        reason = "HardReset" if kind == "Hard" else "SoftReset"
        if kind == "Soft":
            # A soft reset ends transactions gracefully and delivers StopTransaction first (5.14).
            for connector in self.connectors.values():
                if connector.tx is not None:
                    connector.tx.stop(reason)
            await asyncio.gather(*list(self.sessions), return_exceptions=True)
            for _ in range(int(10 / 0.05)):
                if not self.tx_queue:
                    break
                await asyncio.sleep(0.05)
        # Let a CALL in flight be answered first: a CSMS still busy with it would otherwise find the
        # socket closed when it replies, and never read the Reset answer queued behind it.
        for _ in range(40):
            cp = self.cp
            if cp is None or not cp._call_lock.locked():
                break
            await asyncio.sleep(0.05)
        self.request_reboot(reason)

    async def availability_flow(self, connector_id: int) -> None:
        if connector_id == 0:
            for connector in [self.connector0, *self.connectors.values()]:
                if connector.tx is None:
                    await self.status(connector, connector.idle_status())
        else:
            connector = self.connectors[connector_id]
            await self.status(connector, connector.idle_status())

    # ------------------------------------------------------------------ reservations

    async def reservation_flow(self, connector: Connector, reservation) -> None:
        await self.status(connector, "Reserved")
        delay = (reservation.expiry - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, delay))
        if connector.reservation is reservation:
            connector.reservation = None
            await self.status(connector, connector.idle_status())

    # ------------------------------------------------------------------ firmware, diagnostics, logs

    async def firmware_flow(self, location: str, retrieve_date: str) -> None:
        await _wait_until(retrieve_date)
        for status in ("Downloading", "Downloaded", "Installing", "Installed"):
            if status == "Downloaded" and "fail" in location.lower():
                status = "DownloadFailed"
            self.firmware_status = status
            await self.send(call.FirmwareStatusNotification(status=status))
            if status == "DownloadFailed":
                break
            if status == "Installing":
                self.firmware = _next_version(self.firmware, location)
            if status != "Installed":
                await asyncio.sleep(self.options.step_delay)
        # "Idle" only once nothing is in progress (4.5): what a later trigger should report.
        self.firmware_status = "Idle"

    async def signed_firmware_flow(self, request_id: int, firmware: dict) -> None:
        await _wait_until(firmware.get("retrieve_date_time"))
        location = firmware.get("location", "")
        steps = ["Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"]
        for status in steps:
            if status == "Downloaded" and "fail" in location.lower():
                status = "DownloadFailed"
            if status == "SignatureVerified" and not firmware.get("signature"):
                status = "InvalidSignature"
            if status == "Installing":
                await _wait_until(firmware.get("install_date_time"))
                self.firmware = _next_version(self.firmware, location)
            self.firmware_status = status
            await self.send(call.SignedFirmwareStatusNotification(status=status, request_id=request_id))
            if status in ("DownloadFailed", "InvalidSignature", "Installed"):
                break
            await asyncio.sleep(self.options.step_delay)
        self.firmware_status = "Idle"

    async def diagnostics_flow(self, location: str) -> None:
        self.diagnostics_status = "Uploading"
        await self.send(call.DiagnosticsStatusNotification(status="Uploading"))
        await asyncio.sleep(self.options.step_delay)
        final = "UploadFailed" if "fail" in location.lower() else "Uploaded"
        await self.send(call.DiagnosticsStatusNotification(status=final))
        self.diagnostics_status = "Idle"

    async def log_flow(self, request_id: int, location: str) -> None:
        self.log_status = ("Uploading", request_id)
        await self.send(call.LogStatusNotification(status="Uploading", request_id=request_id))
        await asyncio.sleep(self.options.step_delay)
        final = "UploadFailure" if "fail" in location.lower() else "Uploaded"
        await self.send(call.LogStatusNotification(status=final, request_id=request_id))
        self.log_status = ("Idle", request_id)

    async def data_transfer(self, message_id: str, data: str | None = None, vendor_id: str | None = None):
        return await self.send(
            call.DataTransfer(vendor_id=vendor_id or self.options.vendor, message_id=message_id, data=data)
        )

    def stamp(self) -> str:
        return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
