"""Answers to every CSMS-to-charger call of OCPP 1.6J and its security extension.

Handlers decide and answer; anything the charger sends as a consequence is registered with
`self.later(...)` and started only after the library has written the answer (see
`route_message`). Handler names all start with `on_`: a handler that reused a base method
name (`start`, `call`, ...) would silently replace it and kill the connection.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from ocpp.exceptions import NotImplementedError, NotSupportedError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from apps.simulator.state import Reservation, parse_iso

ROOT_TYPES = ("CentralSystemRootCertificate", "ManufacturerRootCertificate")


def _hash_data(pem: str) -> dict:
    # A real charger hashes the issuer name/key of the parsed certificate; without parsing
    # X.509 here, hashing the PEM gives stable, unique identifiers with the same shape.
    digest = hashlib.sha256(pem.encode()).hexdigest()
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": digest[:64],
        "issuer_key_hash": hashlib.sha256(digest.encode()).hexdigest(),
        "serial_number": digest[:16],
    }


class SimChargePoint16(ChargePoint):
    def __init__(self, id, connection, charger, **kwargs):
        super().__init__(id, connection, **kwargs)
        self.charger = charger
        self._follow_ups: list = []

    # ------------------------------------------------------------------ plumbing

    def later(self, coro, *, session: bool = False) -> None:
        self._follow_ups.append((coro, session))

    async def route_message(self, raw_msg):
        self.charger.stats.messages_in += 1
        try:
            await super().route_message(raw_msg)
        finally:
            # The answer to a CALL has been written by now: only then start what follows it.
            pending, self._follow_ups = self._follow_ups, []
            for coro, session in pending:
                self.charger.spawn(coro, session=session)

    async def _handle_call(self, msg):
        try:
            return await super()._handle_call(msg)
        except NotSupportedError as exc:
            # Every 1.6 action is handled here, so this is an unknown one: OCPP-J 4.2.3 calls that
            # NotImplemented (the library swaps the two codes, see shared/NOTES.md).
            raise NotImplementedError(details=exc.details) from exc

    async def _send(self, message):
        self.charger.stats.messages_out += 1
        await super()._send(message)

    # ------------------------------------------------------------------ Core

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, id_tag, connector_id=None, charging_profile=None, **kwargs):
        ch = self.charger
        if connector_id is None:
            connector = next((c for c in ch.connectors.values() if c.free and ch._reservation_for(c, id_tag)[0]), None)
        else:
            connector = ch.connectors.get(connector_id)
        if connector is None or not connector.free or not ch._reservation_for(connector, id_tag)[0]:
            return call_result.RemoteStartTransaction(status="Rejected")
        if charging_profile is not None:
            if charging_profile.get("charging_profile_purpose") != "TxProfile":
                return call_result.RemoteStartTransaction(status="Rejected")
            ch.profiles.install(connector.id, charging_profile)
        connector.claimed = True
        duration = ch.rng.uniform(0.4, 0.8) * ch.options.session_every if ch.options.session_every else None
        self.later(ch.run_session(connector, id_tag, remote=True, duration=duration), session=True)
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id, **kwargs):
        tx = self.charger.find_tx(transaction_id)
        if tx is None:
            return call_result.RemoteStopTransaction(status="Rejected")
        self.later(self._call_soon(tx.stop, "Remote"))
        return call_result.RemoteStopTransaction(status="Accepted")

    async def _call_soon(self, fn, *args):
        fn(*args)

    @on(Action.reset)
    def on_reset(self, type, **kwargs):
        self.later(self.charger.reset_flow(type))
        return call_result.Reset(status="Accepted")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id, **kwargs):
        connector = self.charger.connectors.get(connector_id)
        if connector is None:
            return call_result.UnlockConnector(status="NotSupported")
        if connector.tx is not None:
            self.later(self._call_soon(connector.tx.stop, "UnlockCommand"))
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.change_availability)
    def on_change_availability(self, connector_id, type, **kwargs):
        ch = self.charger
        target = ch.connector(connector_id)
        if target is None:
            return call_result.ChangeAvailability(status="Rejected")
        operative = type == "Operative"
        affected = [target] if connector_id else [ch.connector0, *ch.connectors.values()]
        if ch.busy(connector_id) and not operative:
            # Idle connectors change now; busy ones, and the station as a whole, when their
            # transactions end (sessions16.settle).
            for connector in affected:
                if connector.id == 0 or connector.tx is not None:
                    connector.pending_operative = operative
                else:
                    connector.operative = operative
            if connector_id == 0:
                self.later(ch.availability_flow(0))
            return call_result.ChangeAvailability(status="Scheduled")
        for connector in affected:
            connector.operative, connector.pending_operative = operative, None
        self.later(ch.availability_flow(connector_id))
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **kwargs):
        status = self.charger.config.change(key, value)
        if status == "Accepted":
            if key == "HeartbeatInterval":
                self.charger._hb_wakeup.set()
            elif key == "AuthorizationKey":
                # Used from the next connection on, as the security whitepaper describes.
                self.charger.password = value
        return call_result.ChangeConfiguration(status=status)

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **kwargs):
        known, unknown = self.charger.config.get(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.clear_cache)
    def on_clear_cache(self, **kwargs):
        if not self.charger.config.bool("AuthorizationCacheEnabled"):
            return call_result.ClearCache(status="Rejected")
        self.charger.auth_cache.clear()
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id, message_id=None, data=None, **kwargs):
        if vendor_id != self.charger.options.vendor:
            return call_result.DataTransfer(status="UnknownVendorId")
        if message_id == "Echo":
            return call_result.DataTransfer(status="Accepted", data=data)
        if message_id == "GetMeterRegisters":
            registers = {str(c.id): int(c.energy_wh) for c in self.charger.connectors.values()}
            return call_result.DataTransfer(status="Accepted", data=str(registers).replace("'", '"'))
        return call_result.DataTransfer(status="UnknownMessageId")

    # ------------------------------------------------------------------ Remote trigger

    def _trigger(self, requested_message, connector_id, allowed):
        ch = self.charger
        if requested_message not in allowed:
            return "NotImplemented"
        if connector_id is not None and ch.connector(connector_id) is None:
            return "Rejected"
        self.later(ch.send_triggered(requested_message, connector_id))
        return "Accepted"

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message, connector_id=None, **kwargs):
        allowed = (
            "BootNotification",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "MeterValues",
            "StatusNotification",
        )
        return call_result.TriggerMessage(status=self._trigger(requested_message, connector_id, allowed))

    @on(Action.extended_trigger_message)
    def on_extended_trigger_message(self, requested_message, connector_id=None, **kwargs):
        allowed = (
            "BootNotification",
            "LogStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "MeterValues",
            "SignChargePointCertificate",
            "StatusNotification",
        )
        return call_result.ExtendedTriggerMessage(status=self._trigger(requested_message, connector_id, allowed))

    # ------------------------------------------------------------------ Firmware management

    @on(Action.update_firmware)
    def on_update_firmware(self, location, retrieve_date, **kwargs):
        self.later(self.charger.firmware_flow(location, retrieve_date))
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location, **kwargs):
        file_name = f"{self.charger.identity}-diagnostics-{self.charger.stamp()}.log"
        self.later(self.charger.diagnostics_flow(location))
        return call_result.GetDiagnostics(file_name=file_name)

    @on(Action.signed_update_firmware)
    def on_signed_update_firmware(self, request_id, firmware, **kwargs):
        if "BEGIN CERTIFICATE" not in firmware.get("signing_certificate", ""):
            return call_result.SignedUpdateFirmware(status="InvalidCertificate")
        self.later(self.charger.signed_firmware_flow(request_id, firmware))
        return call_result.SignedUpdateFirmware(status="Accepted")

    @on(Action.get_log)
    def on_get_log(self, log, log_type, request_id, **kwargs):
        filename = f"{self.charger.identity}-{log_type}-{self.charger.stamp()}.log"
        self.later(self.charger.log_flow(request_id, log.get("remote_location", "")))
        return call_result.GetLog(status="Accepted", filename=filename)

    # ------------------------------------------------------------------ Local auth list

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **kwargs):
        ch = self.charger
        return call_result.GetLocalListVersion(
            list_version=ch.local_list_version if ch.config.bool("LocalAuthListEnabled") else -1
        )

    @on(Action.send_local_list)
    def on_send_local_list(self, list_version, update_type, local_authorization_list=None, **kwargs):
        ch = self.charger
        entries = local_authorization_list or []
        if not ch.config.bool("LocalAuthListEnabled"):
            return call_result.SendLocalList(status="NotSupported")
        if len(entries) > ch.config.int("SendLocalListMaxLength"):
            return call_result.SendLocalList(status="Failed")
        if update_type == "Full":
            new = {e["id_tag"]: e["id_tag_info"] for e in entries if e.get("id_tag_info")}
        else:
            # Differential updates must move the version forward (3.6.2).
            if list_version <= ch.local_list_version:
                return call_result.SendLocalList(status="VersionMismatch")
            new = dict(ch.local_list)
            for e in entries:
                if e.get("id_tag_info"):
                    new[e["id_tag"]] = e["id_tag_info"]
                else:
                    new.pop(e["id_tag"], None)
        if len(new) > ch.config.int("LocalAuthListMaxLength"):
            return call_result.SendLocalList(status="Failed")
        ch.local_list, ch.local_list_version = new, list_version
        return call_result.SendLocalList(status="Accepted")

    # ------------------------------------------------------------------ Reservation

    @on(Action.reserve_now)
    def on_reserve_now(self, connector_id, expiry_date, id_tag, reservation_id, parent_id_tag=None, **kwargs):
        ch = self.charger
        if connector_id == 0 and not ch.config.bool("ReserveConnectorZeroSupported"):
            return call_result.ReserveNow(status="Rejected")
        connector = ch.connectors.get(connector_id)
        if connector is None:
            return call_result.ReserveNow(status="Rejected")
        if connector.status == "Faulted":
            return call_result.ReserveNow(status="Faulted")
        if not connector.operative:
            return call_result.ReserveNow(status="Unavailable")
        current = connector.reservation
        if (
            connector.tx is not None
            or connector.claimed
            or (current and current.id != reservation_id)
            or (connector.status not in ("Available", "Reserved"))
        ):
            return call_result.ReserveNow(status="Occupied")
        # The same reservation id elsewhere is replaced (6.42).
        for other in ch.connectors.values():
            if other.reservation and other.reservation.id == reservation_id and other is not connector:
                other.reservation = None
                self.later(ch.availability_flow(other.id))
        reservation = Reservation(reservation_id, connector_id, id_tag, parse_iso(expiry_date), parent_id_tag)
        connector.reservation = reservation
        self.later(ch.reservation_flow(connector, reservation))
        return call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id, **kwargs):
        ch = self.charger
        for connector in ch.connectors.values():
            if connector.reservation and connector.reservation.id == reservation_id:
                connector.reservation = None
                self.later(ch.availability_flow(connector.id))
                return call_result.CancelReservation(status="Accepted")
        return call_result.CancelReservation(status="Rejected")

    # ------------------------------------------------------------------ Smart charging

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id, cs_charging_profiles, **kwargs):
        ch = self.charger
        profile = cs_charging_profiles
        purpose = profile["charging_profile_purpose"]
        if ch.connector(connector_id) is None:
            return call_result.SetChargingProfile(status="Rejected")
        if profile["stack_level"] > ch.config.int("ChargeProfileMaxStackLevel"):
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "TxProfile":
            tx = ch.connectors[connector_id].tx if connector_id else None
            if tx is None or ("transaction_id" in profile and profile["transaction_id"] != tx.id):
                return call_result.SetChargingProfile(status="Rejected")
        ch.profiles.install(connector_id, profile)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self, id=None, connector_id=None, charging_profile_purpose=None, stack_level=None, **kwargs
    ):
        removed = self.charger.profiles.clear(
            id=id, connector_id=connector_id, purpose=charging_profile_purpose, stack_level=stack_level
        )
        return call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id, duration, charging_rate_unit=None, **kwargs):
        ch = self.charger
        if ch.connector(connector_id) is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        now = datetime.now(UTC).replace(microsecond=0)
        schedule = ch.profiles.composite(connector_id, duration, charging_rate_unit or "A", now, ch.options.max_power_w)
        schedule["startSchedule"] = now.isoformat().replace("+00:00", "Z")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=schedule["startSchedule"],
            charging_schedule=schedule,
        )

    # ------------------------------------------------------------------ Security extension

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type, certificate, **kwargs):
        ch = self.charger
        if "BEGIN CERTIFICATE" not in certificate:
            return call_result.InstallCertificate(status="Rejected")
        installed = ch.certificates.setdefault(certificate_type, [])
        total = sum(len(v) for v in ch.certificates.values())
        if total >= ch.config.int("CertificateStoreMaxLength"):
            return call_result.InstallCertificate(status="Failed")
        data = _hash_data(certificate)
        if data not in installed:
            installed.append(data)
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type, **kwargs):
        installed = self.charger.certificates.get(certificate_type) or []
        if not installed:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=list(installed))

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data, **kwargs):
        wanted = {k: certificate_hash_data.get(k) for k in ("issuer_name_hash", "issuer_key_hash", "serial_number")}
        for installed in self.charger.certificates.values():
            for data in installed:
                if all(data[k] == v for k, v in wanted.items()):
                    installed.remove(data)
                    return call_result.DeleteCertificate(status="Accepted")
        return call_result.DeleteCertificate(status="NotFound")

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain, **kwargs):
        ch = self.charger
        if "BEGIN CERTIFICATE" not in certificate_chain or len(certificate_chain) > ch.config.int(
            "CertificateSignedMaxChainSize"
        ):
            return call_result.CertificateSigned(status="Rejected")
        ch.charge_point_certificate = certificate_chain
        return call_result.CertificateSigned(status="Accepted")
