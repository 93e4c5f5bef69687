"""Multi-message flows a 2.x station runs after answering a CSMS command.

Each coroutine here is started with `spawn` once the answer has gone out (see chargepoint2.py),
never awaited inside a handler: the CSMS must see the answer before what follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

from apps.simulator.flows16 import _next_version, _wait_until
from apps.simulator.meter import sample
from apps.simulator.sessions2 import sampled_values_2x
from apps.simulator.state import Connector, now_iso

log = logging.getLogger("evzone.simulator")

PURPOSES_16 = {
    # The 2.x purposes mapped onto smart.ProfileStore's 1.6 names; the limit arithmetic is the same.
    "ChargingStationMaxProfile": "ChargePointMaxProfile",
    "TxDefaultProfile": "TxDefaultProfile",
    "TxProfile": "TxProfile",
    "ChargingStationExternalConstraints": "ExternalConstraints",
}


def _chunks(items: list, size: int) -> list[list]:
    size = max(1, size)
    return [items[n : n + size] for n in range(0, len(items), size)] or [[]]


def make_csr(identity: str, organization: str) -> str:
    """A real PKCS#10 request (EC P-256), what A02/A03 ask the station to send in SignCertificate."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:  # a bare load-test rig without cryptography still gets the right shape
        body = f"CN={identity},O={organization}".encode().hex()
        return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, identity), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _upload(url: str, filename: str, content: bytes, timeout: float) -> bool:
    """HTTP POST multipart/form-data with one part named "file", what most stations do for logs."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.info("log upload to %s failed: %r", url, exc)
        return False


class Flows2Mixin:
    async def requested_send(self, payload):
        """Send what the CSMS asked for. Also while Pending: B02 lets the CSMS read and configure a
        Pending station, and the NotifyReport/trigger answers must reach it then."""
        return await self.send(payload, before_accept=not self.online and self.registration == "Pending")

    # ------------------------------------------------------------------ TriggerMessage (F06)

    async def send_triggered(self, message: str, evse_id: int | None) -> None:
        call = self.call
        if message == "BootNotification":
            result = await self.send(self.boot_payload("Triggered"), before_accept=True)
            if result is not None:
                self.registration = result.status
                if result.status == "Accepted" and not self.online:
                    self.accept(result.interval)
        elif message == "Heartbeat":
            await self.requested_send(call.Heartbeat())
        elif message == "StatusNotification":
            for evse in self._evses(evse_id):
                await self.requested_send(self.status_payload(evse))
        elif message == "MeterValues":
            for evse in self._evses(evse_id):
                if evse.ev is not None:
                    evse.ev.advance()
                value = sample(evse, evse.ev, self.dm.csl("AlignedDataCtrlr", "Measurands"), "Trigger", self.rng)
                await self.requested_send(call.MeterValues(evse_id=evse.id, meter_value=[sampled_values_2x(value)]))
        elif message == "TransactionEvent":
            for evse in self._evses(evse_id):
                if evse.tx is not None:
                    self.transaction_event(evse.tx, "Updated", "Trigger", context="Trigger")
        elif message == "FirmwareStatusNotification":
            status, request_id = self.firmware_status
            await self.requested_send(call.FirmwareStatusNotification(status=status, request_id=request_id))
        elif message == "LogStatusNotification":
            status, request_id = self.log_status
            await self.requested_send(call.LogStatusNotification(status=status, request_id=request_id))
        elif message == "PublishFirmwareStatusNotification":
            await self.requested_send(call.PublishFirmwareStatusNotification(status="Idle"))
        elif message == "SignChargingStationCertificate":
            await self.sign_certificate("ChargingStationCertificate")
        elif message == "SignV2GCertificate":
            await self.sign_certificate("V2GCertificate")
        elif message == "SignCombinedCertificate":
            # One CSR for a certificate used on both connections; 2.0.1 has no type for it, and a
            # SignCertificate without certificateType is the combined request (A02 note).
            await self.sign_certificate(None)

    def _evses(self, evse_id: int | None) -> list[Connector]:
        return [self.connectors[evse_id]] if evse_id else list(self.connectors.values())

    async def sign_certificate(self, kind: str | None) -> None:
        csr = make_csr(self.identity, self.dm.value("SecurityCtrlr", "OrganizationName") or "EVzone")
        await self.requested_send(self.call.SignCertificate(csr=csr, certificate_type=kind))

    # ------------------------------------------------------------------ aligned data (J01)

    async def clock_aligned_loop(self) -> None:
        while True:
            interval = self.dm.int("AlignedDataCtrlr", "Interval")
            if interval <= 0 or not self.dm.bool("AlignedDataCtrlr", "Enabled"):
                await asyncio.sleep(1)
                continue
            now = datetime.now(UTC)
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            await asyncio.sleep(interval - (now - midnight).total_seconds() % interval)
            measurands = self.dm.csl("AlignedDataCtrlr", "Measurands")
            for evse in self.connectors.values():
                if evse.ev is not None:
                    evse.ev.advance()
                if evse.tx is not None:
                    self.transaction_event(
                        evse.tx, "Updated", "MeterValueClock", measurands=measurands, context="Sample.Clock"
                    )
                else:
                    value = sample(evse, None, ["Energy.Active.Import.Register"], "Sample.Clock", self.rng)
                    self.spawn(
                        self.send(self.call.MeterValues(evse_id=evse.id, meter_value=[sampled_values_2x(value)]))
                    )

    # ------------------------------------------------------------------ reset and availability (B11, B12, G03)

    async def reset_flow(self, evse_id: int | None) -> None:
        if evse_id:
            evse = self.connectors[evse_id]
            if evse.tx is not None:
                evse.tx.stop("ImmediateReset")
            return
        self.resetting = True
        for evse in self.connectors.values():
            if evse.tx is not None:
                evse.tx.stop("ImmediateReset")
        await asyncio.gather(*list(self.sessions), return_exceptions=True)
        # The Ended events go out before the socket closes (they are queued otherwise, which is fine too).
        for _ in range(int(5 / 0.05)):
            if not self.tx_queue:
                break
            await asyncio.sleep(0.05)
        for _ in range(40):
            cp = self.cp
            if cp is None or not cp._call_lock.locked():
                break
            await asyncio.sleep(0.05)
        self.request_reboot("RemoteReset")

    async def availability_flow(self, evse_id: int) -> None:
        for evse in self._evses(evse_id):
            if evse.tx is None:
                await self.status(evse, evse.idle_status())

    # ------------------------------------------------------------------ reservations (H01..H04)

    async def reservation_flow(self, evse: Connector, reservation) -> None:
        await self.status(evse, "Reserved")
        delay = (reservation.expiry - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, delay))
        if evse.reservation is reservation:
            evse.reservation = None
            await self.send(
                self.call.ReservationStatusUpdate(reservation_id=reservation.id, reservation_update_status="Expired")
            )
            if evse.tx is None:
                await self.status(evse, evse.idle_status())

    # ------------------------------------------------------------------ firmware (L01)

    async def firmware_flow(self, request_id: int, firmware: dict) -> None:
        await _wait_until(firmware.get("retrieve_date_time"))
        location = firmware.get("location", "")
        for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"):
            if status == "Downloaded" and "fail" in location.lower():
                status = "DownloadFailed"
            if status == "SignatureVerified" and not firmware.get("signature"):
                continue  # unsigned firmware: nothing to verify
            if status == "Installing":
                await _wait_until(firmware.get("install_date_time"))
                self.firmware = _next_version(self.firmware, location)
            self.firmware_status = (status, request_id)
            await self.send(self.call.FirmwareStatusNotification(status=status, request_id=request_id))
            if status in ("DownloadFailed", "Installed"):
                break
            await asyncio.sleep(self.options.step_delay)
        if self.firmware_status[0] == "Installed":
            await self.security_event("FirmwareUpdated", f"now {self.firmware}")
        self.firmware_status = ("Idle", None)

    # ------------------------------------------------------------------ logs (N01)

    async def log_flow(self, request_id: int, location: str, filename: str) -> None:
        self.log_status = ("Uploading", request_id)
        await self.send(self.call.LogStatusNotification(status="Uploading", request_id=request_id))
        if location.lower().startswith(("http://", "https://")):
            target = location + filename if location.endswith("/") else location
            content = self.log_text().encode()
            ok = await asyncio.to_thread(_upload, target, filename, content, self.options.call_timeout)
        else:
            await asyncio.sleep(self.options.step_delay)
            ok = "fail" not in location.lower()
        final = "Uploaded" if ok else "UploadFailure"
        self.log_status = (final, request_id)
        await self.send(self.call.LogStatusNotification(status=final, request_id=request_id))
        self.log_status = ("Idle", request_id)

    def log_text(self) -> str:
        lines = [
            f"{now_iso()} {self.identity} {self.options.vendor} {self.options.model} firmware {self.firmware}",
            f"ocpp {self.version} boots={self.boots} registration={self.registration}",
        ]
        for evse in self.connectors.values():
            tx = f" tx={evse.tx.id}" if evse.tx is not None else ""
            lines.append(f"evse {evse.id}: {evse.status} energy={int(evse.energy_wh)}Wh{tx}")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ reports (B07, B08, N02, N09, O04)

    async def notify_report(self, request_id: int, entries: list[dict]) -> None:
        parts = _chunks(entries, self.dm.int("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"))
        generated = now_iso()
        for seq, part in enumerate(parts):
            await self.requested_send(
                self.call.NotifyReport(
                    request_id=request_id,
                    generated_at=generated,
                    seq_no=seq,
                    report_data=part or None,
                    tbc=seq < len(parts) - 1,
                )
            )

    async def notify_monitoring_report(self, request_id: int, entries: list[dict]) -> None:
        parts = _chunks(entries, self.dm.int("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"))
        generated = now_iso()
        for seq, part in enumerate(parts):
            await self.requested_send(
                self.call.NotifyMonitoringReport(
                    request_id=request_id,
                    seq_no=seq,
                    generated_at=generated,
                    monitor=part or None,
                    tbc=seq < len(parts) - 1,
                )
            )

    async def customer_information_flow(self, request_id: int, report: bool, clear: bool, token: str | None) -> None:
        data = "No customer data"
        if token:
            known = {"cache": token in self.auth_cache, "localList": token in self.local_list}
            data = f"idToken {token}: " + ", ".join(f"{k}={v}" for k, v in known.items())
            if clear:
                self.auth_cache.pop(token, None)
        elif clear:
            data = "cleared"
        if report or clear:
            await self.requested_send(
                self.call.NotifyCustomerInformation(
                    data=data[:512], seq_no=0, generated_at=now_iso(), request_id=request_id, tbc=False
                )
            )

    async def display_messages_flow(self, request_id: int, messages: list[dict]) -> None:
        parts = _chunks(messages, 10)
        for seq, part in enumerate(parts):
            await self.requested_send(
                self.call.NotifyDisplayMessages(request_id=request_id, message_info=part, tbc=seq < len(parts) - 1)
            )

    # ------------------------------------------------------------------ smart charging (K01, K09, K10)

    def install_profile(self, evse_id: int, profile: dict) -> None:
        schedule = profile["charging_schedule"][0]
        view = {
            "charging_profile_id": profile["id"],
            "stack_level": profile["stack_level"],
            "charging_profile_purpose": PURPOSES_16.get(profile["charging_profile_purpose"], "Other"),
            "charging_profile_kind": profile.get("charging_profile_kind", "Absolute"),
            "recurrency_kind": profile.get("recurrency_kind"),
            "valid_from": profile.get("valid_from"),
            "charging_schedule": schedule,
        }
        self.profiles.install(evse_id, view)
        # ProfileStore dropped what the new one replaces (same id, or same purpose+level on the EVSE).
        kept = {p["charging_profile_id"] for _, p in self.profiles.items}
        self.profiles2 = {pid: item for pid, item in self.profiles2.items() if pid in kept}
        self.profiles2[profile["id"]] = (evse_id, profile)
        self.dm.put("SmartChargingCtrlr", "Entries", str(len(self.profiles2)), "ChargingProfiles")

    def clear_tx_profiles(self, evse_id: int) -> None:
        self.profiles.clear_tx_profiles(evse_id)
        kept = {p["charging_profile_id"] for _, p in self.profiles.items}
        self.profiles2 = {pid: item for pid, item in self.profiles2.items() if pid in kept}

    def clear_profiles(self, profile_id: int | None, criteria: dict | None) -> bool:
        criteria = criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        removed = self.profiles.clear(
            id=profile_id,
            connector_id=criteria.get("evse_id"),
            purpose=PURPOSES_16.get(purpose) if purpose else None,
            stack_level=criteria.get("stack_level"),
        )
        kept = {p["charging_profile_id"] for _, p in self.profiles.items}
        self.profiles2 = {pid: item for pid, item in self.profiles2.items() if pid in kept}
        self.dm.put("SmartChargingCtrlr", "Entries", str(len(self.profiles2)), "ChargingProfiles")
        return removed

    def select_profiles(self, evse_id: int | None, criteria: dict) -> list[tuple[int, dict]]:
        ids = criteria.get("charging_profile_id")
        out = []
        for evse, profile in self.profiles2.values():
            if evse_id is not None and evse != evse_id:
                continue
            if ids and profile["id"] not in ids:
                continue
            if criteria.get("charging_profile_purpose") not in (None, profile["charging_profile_purpose"]):
                continue
            if criteria.get("stack_level") not in (None, profile["stack_level"]):
                continue
            sources = criteria.get("charging_limit_source")
            if sources and "CSO" not in sources:
                continue
            out.append((evse, profile))
        return out

    async def report_profiles_flow(self, request_id: int, found: list[tuple[int, dict]]) -> None:
        by_evse: dict[int, list[dict]] = {}
        for evse, profile in found:
            by_evse.setdefault(evse, []).append(profile)
        evses = sorted(by_evse)
        for n, evse in enumerate(evses):
            await self.requested_send(
                self.call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source="CSO",
                    evse_id=evse,
                    charging_profile=by_evse[evse],
                    tbc=n < len(evses) - 1,
                )
            )

    def composite_schedule(self, evse_id: int, duration: int, unit: str) -> dict:
        now = datetime.now(UTC).replace(microsecond=0)
        schedule = self.profiles.composite(evse_id, duration, unit, now, self.options.max_power_w)
        return {
            "evse_id": evse_id,
            "duration": duration,
            "schedule_start": now.isoformat().replace("+00:00", "Z"),
            "charging_rate_unit": unit,
            "charging_schedule_period": [
                {"start_period": p["startPeriod"], "limit": p["limit"]} for p in schedule["chargingSchedulePeriod"]
            ],
        }

    # ------------------------------------------------------------------ misc

    async def data_transfer(self, message_id: str, data=None, vendor_id: str | None = None):
        return await self.send(
            self.call.DataTransfer(vendor_id=vendor_id or self.options.vendor, message_id=message_id, data=data)
        )

    def stamp(self) -> str:
        return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    async def wait_online(self) -> None:
        while not self.online and not self._stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._booted.wait(), 0.5)
