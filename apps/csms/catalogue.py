"""The action catalogue: which OCPP actions each protocol version has, and which way each travels.

The one place that knows this. The protocol adapters (apps.csms.handlers) read it to
route and refuse frames, the command port (apps.csms.commands) to refuse what a charger
cannot be sent, and the portal to offer the commands of a charger's own version -- so
none of them needs to import another to find out.

The `ocpp` library lists every action of a version but not who sends it; the
specification does (1.6 section 4/5, 2.0.1 Part 2, 2.1 Part 2 "Messages"). The
direction matters twice: a charger sending a CSMS->station action gets NotSupported,
and the command bus refuses to send a station->CSMS action.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocpp.v16.enums import Action as Action16
from ocpp.v16.enums import MessageTrigger as Trigger16
from ocpp.v21.enums import MessageTriggerEnumType as Trigger21
from ocpp.v201.enums import MessageTriggerEnumType as Trigger201

from apps.accounts.policy import command_policy
from apps.csms.protocol import SUBPROTOCOL_VERSIONS, V2_ERRORS, V16_ERRORS, ErrorCodes

ALL_16 = frozenset(a.value for a in Action16)
# CSMS -> charger in OCPP 1.6J with the security extension. DataTransfer goes both ways.
OUTBOUND_16 = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "InstallCertificate",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SignedUpdateFirmware",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)
INBOUND_16 = (ALL_16 - OUTBOUND_16) | {"DataTransfer"}

# Station -> CSMS in OCPP 2.0.1. DataTransfer goes both ways.
INBOUND_201 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)

# Station -> CSMS messages OCPP 2.1 adds (V2X/DER, periodic event streams, batteries,
# settlement, priority charging). NotifyPeriodicEventStream is a SEND (no answer).
INBOUND_21 = INBOUND_201 | frozenset(
    {
        "BatterySwap",
        "ClosePeriodicEventStream",
        "GetCertificateChainStatus",
        "NotifyDERAlarm",
        "NotifyDERStartStop",
        "NotifyPeriodicEventStream",
        "NotifyPriorityCharging",
        "NotifySettlement",
        "OpenPeriodicEventStream",
        "PullDynamicScheduleUpdate",
        "ReportDERControl",
        "VatNumberValidation",
    }
)

ALL_201 = (
    frozenset(
        {
            "CancelReservation",
            "CertificateSigned",
            "ChangeAvailability",
            "ClearCache",
            "ClearChargingProfile",
            "ClearDisplayMessage",
            "ClearVariableMonitoring",
            "CostUpdated",
            "CustomerInformation",
            "DeleteCertificate",
            "GetBaseReport",
            "GetChargingProfiles",
            "GetCompositeSchedule",
            "GetDisplayMessages",
            "GetInstalledCertificateIds",
            "GetLocalListVersion",
            "GetLog",
            "GetMonitoringReport",
            "GetReport",
            "GetTransactionStatus",
            "GetVariables",
            "InstallCertificate",
            "PublishFirmware",
            "RequestStartTransaction",
            "RequestStopTransaction",
            "ReserveNow",
            "Reset",
            "SendLocalList",
            "SetChargingProfile",
            "SetDisplayMessage",
            "SetMonitoringBase",
            "SetMonitoringLevel",
            "SetNetworkProfile",
            "SetVariableMonitoring",
            "SetVariables",
            "TriggerMessage",
            "UnlockConnector",
            "UnpublishFirmware",
            "UpdateFirmware",
        }
    )
    | INBOUND_201
)

ALL_21 = (
    ALL_201
    | INBOUND_21
    | frozenset(
        {
            "AFRRSignal",
            "AdjustPeriodicEventStream",
            "ChangeTransactionTariff",
            "ClearDERControl",
            "ClearTariffs",
            "GetDERControl",
            "GetPeriodicEventStream",
            "GetTariffs",
            "NotifyAllowedEnergyTransfer",
            "NotifyWebPaymentStarted",
            "RequestBatterySwap",
            "SetDERControl",
            "SetDefaultTariff",
            "UpdateDynamicSchedule",
            "UsePriorityCharging",
        }
    )
)

OUTBOUND_201 = (ALL_201 - INBOUND_201) | {"DataTransfer"}
OUTBOUND_21 = (ALL_21 - INBOUND_21) | {"DataTransfer"}


@dataclass(frozen=True)
class Catalogue:
    """One protocol version as the rest of EVzone needs to know it."""

    subprotocol: str  # the websocket subprotocol token and ChargePoint.protocol_version
    version: str  # the `ocpp` library's schema folder name
    errors: ErrorCodes
    known: frozenset[str]
    inbound: frozenset[str]
    outbound: frozenset[str]
    # What TriggerMessage may ask for (1.6 MessageTrigger, 2.x MessageTriggerEnumType), in the
    # specification's order: the portal's trigger menu.
    triggers: tuple[str, ...]


CATALOGUES = {
    c.subprotocol: c
    for c in (
        Catalogue(
            "ocpp1.6",
            SUBPROTOCOL_VERSIONS["ocpp1.6"],
            V16_ERRORS,
            ALL_16,
            INBOUND_16,
            OUTBOUND_16,
            tuple(t.value for t in Trigger16),
        ),
        Catalogue(
            "ocpp2.0.1",
            SUBPROTOCOL_VERSIONS["ocpp2.0.1"],
            V2_ERRORS,
            ALL_201,
            INBOUND_201,
            OUTBOUND_201,
            tuple(t.value for t in Trigger201),
        ),
        Catalogue(
            "ocpp2.1",
            SUBPROTOCOL_VERSIONS["ocpp2.1"],
            V2_ERRORS,
            ALL_21,
            INBOUND_21,
            OUTBOUND_21,
            tuple(t.value for t in Trigger21),
        ),
    )
}


def catalogue_for(protocol_version: str) -> Catalogue | None:
    return CATALOGUES.get(protocol_version.strip().lower())


# Every action some version lets the central system send.
ALL_OUTBOUND = frozenset().union(*(c.outbound for c in CATALOGUES.values()))


def console_rule(action: str, payload) -> str:
    """The policy name (apps.accounts.policy) for sending `action` with `payload` from a raw
    console: the API's POST .../ocpp/{Action} and the charger page's command form. A name no
    version sends gets the console's own rule, so the command port can answer
    "unknown_action" rather than a bare 403."""
    if action not in ALL_OUTBOUND:
        return "chargers.operate"
    return command_policy(action, payload)
