"""Which OCPP 2.x actions travel in which direction.

The `ocpp` library lists every action of a version but not who sends it; the
specification does (2.0.1 Part 2, 2.1 Part 2 "Messages"). The direction matters
twice: a charger sending a CSMS->station action gets NotSupported, and the
command bus refuses to send a station->CSMS action.
"""

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
