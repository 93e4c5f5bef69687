"""Answers to every CSMS-to-station call of OCPP 2.0.1, shared by 2.1.

The handlers are written once against `self._call_result`, which the library's v201 / v21
ChargePoint sets to its own call_result module; where 2.1 changed a message the payloads here are
valid for both (the library validates every answer against the version's schema).

As in chargepoint16.py: handlers decide and answer, and what the station sends as a consequence
is registered with `self.later(...)` and started only after the answer has been written. Handler
names start with `on_` so none replaces a base method of the library's ChargePoint.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ocpp import v21, v201
from ocpp.exceptions import NotImplementedError, NotSupportedError, OccurenceConstraintViolationError
from ocpp.routing import on

from apps.simulator.chargepoint16 import _hash_data
from apps.simulator.state import Reservation, parse_iso

TRIGGERS = {
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "StatusNotification",
    "TransactionEvent",
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
}


def _rejected(reason: str, info: str | None = None) -> dict:
    out = {"reason_code": reason}
    if info:
        out["additional_info"] = info[:512]
    return out


class Handlers2:
    def __init__(self, id, connection, charger, **kwargs):
        super().__init__(id, connection, **kwargs)
        self.charger = charger
        self._follow_ups: list = []

    # ------------------------------------------------------------------ plumbing (as in chargepoint16)

    def later(self, coro, *, session: bool = False) -> None:
        self._follow_ups.append((coro, session))

    async def route_message(self, raw_msg):
        self.charger.stats.messages_in += 1
        try:
            await super().route_message(raw_msg)
        finally:
            pending, self._follow_ups = self._follow_ups, []
            for coro, session in pending:
                self.charger.spawn(coro, session=session)

    async def _handle_call(self, msg):
        try:
            return await super()._handle_call(msg)
        except NotSupportedError as exc:
            # OCPP-J: an action the receiver does not know is NotImplemented (the library swaps the codes).
            raise NotImplementedError(details=exc.details) from exc

    async def _send(self, message):
        self.charger.stats.messages_out += 1
        await super()._send(message)

    async def _call_soon(self, fn, *args):
        fn(*args)

    @property
    def r(self):
        return self._call_result

    # ------------------------------------------------------------------ B: provisioning

    @on("GetVariables")
    def on_get_variables(self, get_variable_data, **kwargs):
        dm = self.charger.dm
        limit = dm.int("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables")
        results = []
        for n, item in enumerate(get_variable_data):
            if n >= limit:
                # B06.FR.05 / TC_B_08_CS: answer the first ItemsPerMessageGetVariables, reject the rest.
                results.append(
                    {
                        "attribute_status": "Rejected",
                        "component": item["component"],
                        "variable": item["variable"],
                        "attribute_status_info": _rejected("TooManyElements"),
                    }
                )
                continue
            results.append(dm.get(item["component"], item["variable"], item.get("attribute_type")))
        return self.r.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data, **kwargs):
        ch = self.charger
        limit = ch.dm.int("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables")
        results = []
        for n, item in enumerate(set_variable_data):
            out = {"component": item["component"], "variable": item["variable"]}
            if item.get("attribute_type"):
                out["attribute_type"] = item["attribute_type"]
            if n >= limit:
                out.update(attribute_status="Rejected", attribute_status_info=_rejected("TooManyElements"))
                results.append(out)
                continue
            status, var = ch.dm.set(
                item["component"], item["variable"], item.get("attribute_type"), item["attribute_value"]
            )
            out["attribute_status"] = status
            results.append(out)
            if status in ("Accepted", "RebootRequired") and var is not None:
                self._applied(var)
        return self.r.SetVariables(set_variable_result=results)

    def _applied(self, var) -> None:
        ch = self.charger
        if (var.component, var.name) == ("OCPPCommCtrlr", "HeartbeatInterval"):
            ch._hb_wakeup.set()
        elif (var.component, var.name) == ("SecurityCtrlr", "BasicAuthPassword"):
            # Used from the next connection on (a reset or a dropped connection), like AuthorizationKey in 1.6.
            ch.password = var.value

    @on("GetBaseReport")
    def on_get_base_report(self, request_id, report_base, **kwargs):
        entries = self.charger.dm.base_report(report_base)
        if not entries:
            return self.r.GetBaseReport(status="EmptyResultSet")
        self.later(self.charger.notify_report(request_id, entries))
        return self.r.GetBaseReport(status="Accepted")

    @on("GetReport")
    def on_get_report(self, request_id, component_variable=None, component_criteria=None, **kwargs):
        entries = self.charger.dm.criteria_report(component_variable, component_criteria)
        if not entries:
            return self.r.GetReport(status="EmptyResultSet")
        self.later(self.charger.notify_report(request_id, entries))
        return self.r.GetReport(status="Accepted")

    @on("SetNetworkProfile")
    def on_set_network_profile(self, configuration_slot, connection_data, **kwargs):
        allowed = self.charger.dm.find("OCPPCommCtrlr", "NetworkConfigurationPriority").values_list.split(",")
        if str(configuration_slot) not in allowed:
            return self.r.SetNetworkProfile(status="Rejected")
        self.charger.network_profiles[configuration_slot] = connection_data
        return self.r.SetNetworkProfile(status="Accepted")

    @on("Reset")
    def on_reset(self, type, evse_id=None, **kwargs):
        ch = self.charger
        if evse_id is not None and evse_id not in ch.connectors:
            return self.r.Reset(status="Rejected")
        if type == "OnIdle" and ch.busy(evse_id or 0):
            if evse_id:
                return self.r.Reset(status="Scheduled")  # nothing to reboot on an EVSE: done when idle
            ch.reset_when_idle = True
            return self.r.Reset(status="Scheduled")
        self.later(ch.reset_flow(evse_id))
        return self.r.Reset(status="Accepted")

    # ------------------------------------------------------------------ C: authorization

    @on("ClearCache")
    def on_clear_cache(self, **kwargs):
        if not self.charger.dm.bool("AuthCacheCtrlr", "Enabled"):
            return self.r.ClearCache(status="Rejected")
        self.charger.auth_cache.clear()
        return self.r.ClearCache(status="Accepted")

    # ------------------------------------------------------------------ D: local authorization list

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **kwargs):
        ch = self.charger
        return self.r.GetLocalListVersion(version_number=ch.local_list_version)

    @on("SendLocalList")
    def on_send_local_list(self, version_number, update_type, local_authorization_list=None, **kwargs):
        ch = self.charger
        entries = local_authorization_list or []
        if not ch.dm.bool("LocalAuthListCtrlr", "Enabled"):
            return self.r.SendLocalList(status="Failed", status_info=_rejected("NotEnabled"))
        if len(entries) > ch.dm.int("LocalAuthListCtrlr", "ItemsPerMessage"):
            return self.r.SendLocalList(status="Failed", status_info=_rejected("TooManyElements"))
        if update_type == "Full":
            new = {e["id_token"]["id_token"]: e["id_token_info"] for e in entries if e.get("id_token_info")}
        else:
            if version_number <= ch.local_list_version:
                return self.r.SendLocalList(status="VersionMismatch")
            new = dict(ch.local_list)
            for e in entries:
                if e.get("id_token_info"):
                    new[e["id_token"]["id_token"]] = e["id_token_info"]
                else:
                    new.pop(e["id_token"]["id_token"], None)
        if len(new) > ch.dm.int("LocalAuthListCtrlr", "Storage"):
            return self.r.SendLocalList(status="Failed", status_info=_rejected("ListFull"))
        ch.local_list, ch.local_list_version = new, version_number
        ch.dm.put("LocalAuthListCtrlr", "Entries", str(len(new)))
        return self.r.SendLocalList(status="Accepted")

    # ------------------------------------------------------------------ E/F: transactions, remote control

    @on("RequestStartTransaction")
    def on_request_start_transaction(
        self, id_token, remote_start_id, evse_id=None, group_id_token=None, charging_profile=None, **kwargs
    ):
        ch = self.charger
        if evse_id is None:
            evse = next(
                (e for e in ch.connectors.values() if e.free and ch.reservation_for(e, id_token, group_id_token)[0]),
                None,
            )
        else:
            evse = ch.connectors.get(evse_id)
        if evse is None or not evse.free or not ch.reservation_for(evse, id_token, group_id_token)[0]:
            return self.r.RequestStartTransaction(status="Rejected")
        if charging_profile is not None:
            # F01.FR.12: only a TxProfile may come with a remote start.
            if charging_profile.get("charging_profile_purpose") != "TxProfile":
                return self.r.RequestStartTransaction(status="Rejected", status_info=_rejected("InvalidProfile"))
            ch.install_profile(evse.id, charging_profile)
        evse.claimed = True
        duration = ch.rng.uniform(0.4, 0.8) * ch.options.session_every if ch.options.session_every else None
        self.later(
            ch.run_session(evse, id_token, remote_start_id=remote_start_id, duration=duration, group=group_id_token),
            session=True,
        )
        return self.r.RequestStartTransaction(status="Accepted")

    @on("RequestStopTransaction")
    def on_request_stop_transaction(self, transaction_id, **kwargs):
        tx = self.charger.find_tx(transaction_id)
        if tx is None:
            return self.r.RequestStopTransaction(status="Rejected")
        self.later(self._call_soon(tx.stop, "Remote"))
        return self.r.RequestStopTransaction(status="Accepted")

    @on("GetTransactionStatus")
    def on_get_transaction_status(self, transaction_id=None, **kwargs):
        ch = self.charger

        def queued(item) -> bool:
            if item.kind != "TransactionEvent":
                return False
            if transaction_id is None:
                return True
            payload = item.build()
            return payload is not None and payload.transaction_info["transaction_id"] == transaction_id

        in_queue = any(queued(i) for i in ch.tx_queue)
        if transaction_id is None:
            return self.r.GetTransactionStatus(messages_in_queue=in_queue)
        return self.r.GetTransactionStatus(
            messages_in_queue=in_queue, ongoing_indicator=ch.find_tx(transaction_id) is not None
        )

    @on("UnlockConnector")
    def on_unlock_connector(self, evse_id, connector_id, **kwargs):
        evse = self.charger.connectors.get(evse_id)
        if evse is None or connector_id != 1:
            return self.r.UnlockConnector(status="UnknownConnector")
        if evse.tx is not None:
            # F05.FR.02: an authorized transaction keeps its cable; the CSMS must stop it first.
            return self.r.UnlockConnector(status="OngoingAuthorizedTransaction")
        return self.r.UnlockConnector(status="Unlocked")

    @on("TriggerMessage")
    def on_trigger_message(self, requested_message, evse=None, **kwargs):
        ch = self.charger
        if requested_message not in TRIGGERS:
            return self.r.TriggerMessage(status="NotImplemented")
        evse_id = (evse or {}).get("id")
        if evse_id and evse_id not in ch.connectors:
            return self.r.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and ch.online:
            # F06.FR.17: a station that is already accepted does not boot again on request.
            return self.r.TriggerMessage(status="Rejected")
        if requested_message == "TransactionEvent" and not any(e.tx for e in ch._evses(evse_id)):
            return self.r.TriggerMessage(status="Rejected")
        self.later(ch.send_triggered(requested_message, evse_id))
        return self.r.TriggerMessage(status="Accepted")

    # ------------------------------------------------------------------ G: availability

    @on("ChangeAvailability")
    def on_change_availability(self, operational_status, evse=None, **kwargs):
        ch = self.charger
        evse_id = (evse or {}).get("id") or 0
        target = ch.connector(evse_id)
        if target is None or (evse and evse.get("connector_id") not in (None, 1)):
            return self.r.ChangeAvailability(status="Rejected")
        operative = operational_status == "Operative"
        affected = [target] if evse_id else [ch.connector0, *ch.connectors.values()]
        if ch.busy(evse_id) and not operative:
            for item in affected:
                if item.id == 0 or item.tx is not None:
                    item.pending_operative = operative
                else:
                    item.operative = operative
            if evse_id == 0:
                self.later(ch.availability_flow(0))
            return self.r.ChangeAvailability(status="Scheduled")
        for item in affected:
            item.operative, item.pending_operative = operative, None
        self.later(ch.availability_flow(evse_id))
        return self.r.ChangeAvailability(status="Accepted")

    # ------------------------------------------------------------------ H: reservation

    @on("ReserveNow")
    def on_reserve_now(self, id, expiry_date_time, id_token, evse_id=None, group_id_token=None, **kwargs):
        ch = self.charger
        if not ch.dm.bool("ReservationCtrlr", "Enabled"):
            return self.r.ReserveNow(status="Rejected")
        if evse_id is None:
            if not ch.dm.bool("ReservationCtrlr", "NonEvseSpecific"):
                return self.r.ReserveNow(status="Rejected")
            evse = next((e for e in ch.connectors.values() if e.free and e.reservation is None), None)
            if evse is None:
                return self.r.ReserveNow(status="Occupied")
        else:
            evse = ch.connectors.get(evse_id)
        if evse is None:
            return self.r.ReserveNow(status="Rejected")
        if evse.status == "Faulted":
            return self.r.ReserveNow(status="Faulted")
        if not evse.operative:
            return self.r.ReserveNow(status="Unavailable")
        current = evse.reservation
        if (
            evse.tx is not None
            or evse.claimed
            or (current and current.id != id)
            or evse.status not in ("Available", "Reserved")
        ):
            return self.r.ReserveNow(status="Occupied")
        for other in ch.connectors.values():
            if other.reservation and other.reservation.id == id and other is not evse:
                other.reservation = None
                self.later(ch.availability_flow(other.id))
        group = (group_id_token or {}).get("id_token")
        reservation = Reservation(id, evse.id, id_token["id_token"], parse_iso(expiry_date_time), group)
        evse.reservation = reservation
        self.later(ch.reservation_flow(evse, reservation))
        return self.r.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id, **kwargs):
        ch = self.charger
        for evse in ch.connectors.values():
            if evse.reservation and evse.reservation.id == reservation_id:
                evse.reservation = None
                self.later(ch.availability_flow(evse.id))
                return self.r.CancelReservation(status="Accepted")
        return self.r.CancelReservation(status="Rejected")

    # ------------------------------------------------------------------ K: smart charging

    @on("SetChargingProfile")
    def on_set_charging_profile(self, evse_id, charging_profile, **kwargs):
        ch = self.charger
        profile = charging_profile
        purpose = profile["charging_profile_purpose"]
        if evse_id and evse_id not in ch.connectors:
            return self.r.SetChargingProfile(status="Rejected", status_info=_rejected("UnknownEVSE"))
        if profile["stack_level"] > ch.dm.int("SmartChargingCtrlr", "ProfileStackLevel"):
            return self.r.SetChargingProfile(status="Rejected", status_info=_rejected("StackLevel"))
        if purpose == "ChargingStationMaxProfile" and evse_id != 0:
            return self.r.SetChargingProfile(status="Rejected", status_info=_rejected("NotStationWide"))
        if purpose == "ChargingStationExternalConstraints":
            return self.r.SetChargingProfile(status="Rejected", status_info=_rejected("ExternalOnly"))
        if purpose == "TxProfile":
            tx = ch.connectors[evse_id].tx if evse_id else None
            if tx is None or profile.get("transaction_id") not in (None, tx.id):
                return self.r.SetChargingProfile(status="Rejected", status_info=_rejected("NoTransaction"))
        ch.install_profile(evse_id, profile)
        return self.r.SetChargingProfile(status="Accepted")

    @on("GetChargingProfiles")
    def on_get_charging_profiles(self, request_id, charging_profile, evse_id=None, **kwargs):
        found = self.charger.select_profiles(evse_id, charging_profile or {})
        if not found:
            return self.r.GetChargingProfiles(status="NoProfiles")
        self.later(self.charger.report_profiles_flow(request_id, found))
        return self.r.GetChargingProfiles(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, charging_profile_id=None, charging_profile_criteria=None, **kwargs):
        removed = self.charger.clear_profiles(charging_profile_id, charging_profile_criteria)
        return self.r.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, duration, evse_id, charging_rate_unit=None, **kwargs):
        ch = self.charger
        if evse_id and evse_id not in ch.connectors:
            return self.r.GetCompositeSchedule(status="Rejected", status_info=_rejected("UnknownEVSE"))
        schedule = ch.composite_schedule(evse_id, duration, charging_rate_unit or "A")
        return self.r.GetCompositeSchedule(status="Accepted", schedule=schedule)

    # ------------------------------------------------------------------ L: firmware

    @on("UpdateFirmware")
    def on_update_firmware(self, request_id, firmware, **kwargs):
        certificate = firmware.get("signing_certificate")
        if certificate is not None and "BEGIN CERTIFICATE" not in certificate:
            return self.r.UpdateFirmware(status="InvalidCertificate")
        self.later(self.charger.firmware_flow(request_id, firmware))
        return self.r.UpdateFirmware(status="Accepted")

    # ------------------------------------------------------------------ M: certificates

    @on("CertificateSigned")
    def on_certificate_signed(self, certificate_chain, certificate_type=None, **kwargs):
        if "BEGIN CERTIFICATE" not in certificate_chain or len(certificate_chain) > 10_000:
            return self.r.CertificateSigned(status="Rejected")
        self.charger.station_certificate = certificate_chain
        return self.r.CertificateSigned(status="Accepted")

    @on("InstallCertificate")
    def on_install_certificate(self, certificate_type, certificate, **kwargs):
        ch = self.charger
        if "BEGIN CERTIFICATE" not in certificate:
            return self.r.InstallCertificate(status="Rejected")
        if sum(len(v) for v in ch.certificates.values()) >= 20:
            return self.r.InstallCertificate(status="Failed")
        installed = ch.certificates.setdefault(certificate_type, [])
        data = _hash_data(certificate)
        if data not in installed:
            installed.append(data)
        ch.dm.put("SecurityCtrlr", "CertificateEntries", str(sum(len(v) for v in ch.certificates.values())))
        return self.r.InstallCertificate(status="Accepted")

    @on("GetInstalledCertificateIds")
    def on_get_installed_certificate_ids(self, certificate_type=None, **kwargs):
        chain = [
            {"certificate_type": kind, "certificate_hash_data": data}
            for kind, items in self.charger.certificates.items()
            if not certificate_type or kind in certificate_type
            for data in items
        ]
        if not chain:
            return self.r.GetInstalledCertificateIds(status="NotFound")
        return self.r.GetInstalledCertificateIds(status="Accepted", certificate_hash_data_chain=chain)

    @on("DeleteCertificate")
    def on_delete_certificate(self, certificate_hash_data, **kwargs):
        keys = ("issuer_name_hash", "issuer_key_hash", "serial_number")
        wanted = {k: certificate_hash_data.get(k) for k in keys}
        for installed in self.charger.certificates.values():
            for data in installed:
                if all(data[k] == v for k, v in wanted.items()):
                    installed.remove(data)
                    return self.r.DeleteCertificate(status="Accepted")
        return self.r.DeleteCertificate(status="NotFound")

    # ------------------------------------------------------------------ N: diagnostics, monitoring

    @on("GetLog")
    def on_get_log(self, log, log_type, request_id, **kwargs):
        ch = self.charger
        filename = f"{ch.identity}-{log_type}-{ch.stamp()}.log"
        self.later(ch.log_flow(request_id, log.get("remote_location", ""), filename))
        return self.r.GetLog(status="Accepted", filename=filename)

    @on("SetVariableMonitoring")
    def on_set_variable_monitoring(self, set_monitoring_data, **kwargs):
        dm = self.charger.dm
        if len(set_monitoring_data) > dm.int("MonitoringCtrlr", "ItemsPerMessage", "SetVariableMonitoring"):
            raise OccurenceConstraintViolationError(details={"limit": "ItemsPerMessageSetVariableMonitoring"})
        return self.r.SetVariableMonitoring(set_monitoring_result=[dm.set_monitor(i) for i in set_monitoring_data])

    @on("ClearVariableMonitoring")
    def on_clear_variable_monitoring(self, id, **kwargs):
        dm = self.charger.dm
        return self.r.ClearVariableMonitoring(clear_monitoring_result=[dm.clear_monitor(i) for i in id])

    @on("SetMonitoringBase")
    def on_set_monitoring_base(self, monitoring_base, **kwargs):
        dm = self.charger.dm
        if monitoring_base in ("FactoryDefault", "HardWiredOnly"):
            # Neither keeps custom monitors (N03): the simulator has no preconfigured ones either.
            dm.monitors.clear()
        dm.put("MonitoringCtrlr", "ActiveMonitoringBase", monitoring_base)
        return self.r.SetMonitoringBase(status="Accepted")

    @on("SetMonitoringLevel")
    def on_set_monitoring_level(self, severity, **kwargs):
        if not 0 <= severity <= 9:
            return self.r.SetMonitoringLevel(status="Rejected")
        self.charger.dm.put("MonitoringCtrlr", "ActiveMonitoringLevel", str(severity))
        return self.r.SetMonitoringLevel(status="Accepted")

    @on("GetMonitoringReport")
    def on_get_monitoring_report(self, request_id, component_variable=None, monitoring_criteria=None, **kwargs):
        ch = self.charger
        entries = ch.dm.monitoring_report(
            monitoring_criteria, component_variable, with_event_type=ch.version != "2.0.1"
        )
        if not entries:
            return self.r.GetMonitoringReport(status="EmptyResultSet")
        self.later(ch.notify_monitoring_report(request_id, entries))
        return self.r.GetMonitoringReport(status="Accepted")

    @on("CustomerInformation")
    def on_customer_information(
        self, request_id, report, clear, id_token=None, customer_identifier=None, customer_certificate=None, **kwargs
    ):
        if report and not (id_token or customer_identifier or customer_certificate):
            return self.r.CustomerInformation(status="Invalid")
        token = (id_token or {}).get("id_token") or customer_identifier
        self.later(self.charger.customer_information_flow(request_id, report, clear, token))
        return self.r.CustomerInformation(status="Accepted")

    # ------------------------------------------------------------------ O: display messages

    @on("SetDisplayMessage")
    def on_set_display_message(self, message, **kwargs):
        ch = self.charger
        if message["priority"] not in ch.dm.csl("DisplayMessageCtrlr", "SupportedPriorities"):
            return self.r.SetDisplayMessage(status="NotSupportedPriority")
        if message["message"]["format"] not in ch.dm.csl("DisplayMessageCtrlr", "SupportedFormats"):
            return self.r.SetDisplayMessage(status="NotSupportedMessageFormat")
        if message.get("transaction_id") and ch.find_tx(message["transaction_id"]) is None:
            return self.r.SetDisplayMessage(status="UnknownTransaction")
        if message["id"] not in ch.display_messages and len(ch.display_messages) >= ch.dm.int(
            "DisplayMessageCtrlr", "DisplayMessages"
        ):
            return self.r.SetDisplayMessage(status="Rejected")
        ch.display_messages[message["id"]] = message
        return self.r.SetDisplayMessage(status="Accepted")

    @on("GetDisplayMessages")
    def on_get_display_messages(self, request_id, id=None, priority=None, state=None, **kwargs):
        found = [
            m
            for m in self.charger.display_messages.values()
            if (not id or m["id"] in id) and priority in (None, m["priority"]) and state in (None, m.get("state"))
        ]
        if not found:
            return self.r.GetDisplayMessages(status="Unknown")
        self.later(self.charger.display_messages_flow(request_id, found))
        return self.r.GetDisplayMessages(status="Accepted")

    @on("ClearDisplayMessage")
    def on_clear_display_message(self, id, **kwargs):
        if self.charger.display_messages.pop(id, None) is None:
            return self.r.ClearDisplayMessage(status="Unknown")
        return self.r.ClearDisplayMessage(status="Accepted")

    # ------------------------------------------------------------------ I: tariff and cost, P: data transfer

    @on("CostUpdated")
    def on_cost_updated(self, total_cost, transaction_id, **kwargs):
        self.charger.costs[transaction_id] = total_cost
        return self.r.CostUpdated()

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id, message_id=None, data=None, **kwargs):
        ch = self.charger
        if vendor_id != ch.options.vendor:
            return self.r.DataTransfer(status="UnknownVendorId")
        if message_id == "Echo":
            return self.r.DataTransfer(status="Accepted", data=data)
        if message_id == "GetMeterRegisters":
            return self.r.DataTransfer(
                status="Accepted", data={str(e.id): int(e.energy_wh) for e in ch.connectors.values()}
            )
        if message_id == "Time":
            return self.r.DataTransfer(status="Accepted", data=datetime.now(UTC).isoformat())
        return self.r.DataTransfer(status="UnknownMessageId")


class SimChargePoint201(Handlers2, v201.ChargePoint):
    pass


class SimChargePoint21(Handlers2, v21.ChargePoint):
    pass
