"""The charger's configuration key store (OCPP 1.6 chapter 9 plus the security whitepaper)."""

from __future__ import annotations

from dataclasses import dataclass

MEASURANDS = {
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "RPM",
    "SoC",
    "Temperature",
    "Voltage",
}
# What this meter can actually produce; asking for more is Rejected rather than silently ignored.
SUPPORTED_MEASURANDS = {
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "SoC",
    "Power.Offered",
    "Frequency",
    "Temperature",
}
PROFILES = "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"


@dataclass
class Key:
    value: str
    kind: str = "str"  # int | bool | csl | str
    readonly: bool = False
    # AuthorizationKey must never be read back (security whitepaper 1.6, section 2).
    writeonly: bool = False
    reboot: bool = False


def default_keys(*, connectors: int, heartbeat: int, meter_interval: int) -> dict[str, Key]:
    i, b, c = "int", "bool", "csl"
    return {
        # 9.1 Core
        "AllowOfflineTxForUnknownId": Key("true", b),
        "AuthorizationCacheEnabled": Key("true", b),
        "AuthorizeRemoteTxRequests": Key("false", b),
        "BlinkRepeat": Key("3", i),
        "ClockAlignedDataInterval": Key("0", i),
        "ConnectionTimeOut": Key("60", i),
        "ConnectorPhaseRotation": Key(",".join(["0.RST"] + [f"{n}.RST" for n in range(1, connectors + 1)]), c),
        "ConnectorPhaseRotationMaxLength": Key(str(connectors + 1), i, readonly=True),
        "GetConfigurationMaxKeys": Key("100", i, readonly=True),
        "HeartbeatInterval": Key(str(heartbeat), i),
        "LightIntensity": Key("80", i),
        "LocalAuthorizeOffline": Key("true", b),
        "LocalPreAuthorize": Key("false", b),
        "MaxEnergyOnInvalidId": Key("0", i),
        "MeterValuesAlignedData": Key("Energy.Active.Import.Register", c),
        "MeterValuesAlignedDataMaxLength": Key("8", i, readonly=True),
        "MeterValuesSampledData": Key(
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC", c
        ),
        "MeterValuesSampledDataMaxLength": Key("8", i, readonly=True),
        "MeterValueSampleInterval": Key(str(meter_interval), i),
        "MinimumStatusDuration": Key("0", i),
        "NumberOfConnectors": Key(str(connectors), i, readonly=True),
        "ResetRetries": Key("3", i),
        "StopTransactionOnEVSideDisconnect": Key("true", b),
        "StopTransactionOnInvalidId": Key("true", b),
        "StopTxnAlignedData": Key("", c),
        "StopTxnAlignedDataMaxLength": Key("8", i, readonly=True),
        "StopTxnSampledData": Key("Energy.Active.Import.Register", c),
        "StopTxnSampledDataMaxLength": Key("8", i, readonly=True),
        "SupportedFeatureProfiles": Key(PROFILES, c, readonly=True),
        "SupportedFeatureProfilesMaxLength": Key("6", i, readonly=True),
        "TransactionMessageAttempts": Key("3", i),
        "TransactionMessageRetryInterval": Key("10", i),
        "UnlockConnectorOnEVSideDisconnect": Key("true", b),
        "WebSocketPingInterval": Key("0", i, reboot=True),
        # 9.2 Local Auth List Management
        "LocalAuthListEnabled": Key("true", b),
        "LocalAuthListMaxLength": Key("1000", i, readonly=True),
        "SendLocalListMaxLength": Key("250", i, readonly=True),
        # 9.3 Reservation
        "ReserveConnectorZeroSupported": Key("false", b, readonly=True),
        # 9.4 Smart Charging
        "ChargeProfileMaxStackLevel": Key("8", i, readonly=True),
        "ChargingScheduleAllowedChargingRateUnit": Key("Current,Power", c, readonly=True),
        "ChargingScheduleMaxPeriods": Key("24", i, readonly=True),
        "ConnectorSwitch3to1PhaseSupported": Key("false", b, readonly=True),
        "MaxChargingProfilesInstalled": Key("16", i, readonly=True),
        # Security whitepaper
        "AdditionalRootCertificateCheck": Key("false", b, readonly=True),
        "AuthorizationKey": Key("", writeonly=True),
        "CertificateSignedMaxChainSize": Key("10000", i, readonly=True),
        "CertificateStoreMaxLength": Key("10", i, readonly=True),
        "CpoName": Key(""),
        "SecurityProfile": Key("1", i),
    }


class ConfigStore:
    def __init__(self, keys: dict[str, Key]):
        self.keys = keys

    def __getitem__(self, name: str) -> str:
        return self.keys[name].value

    def int(self, name: str) -> int:
        return int(self.keys[name].value or 0)

    def bool(self, name: str) -> bool:
        return self.keys[name].value.lower() == "true"

    def csl(self, name: str) -> list[str]:
        return [part.strip() for part in self.keys[name].value.split(",") if part.strip()]

    def get(self, names: list[str] | None) -> tuple[list[dict], list[str]]:
        wanted = names or list(self.keys)
        known, unknown = [], []
        for name in wanted[: self.int("GetConfigurationMaxKeys")] if names else wanted:
            key = self.keys.get(name)
            if key is None:
                unknown.append(name)
                continue
            entry = {"key": name, "readonly": key.readonly}
            if not key.writeonly:
                entry["value"] = key.value
            known.append(entry)
        return known, unknown

    def change(self, name: str, value: str) -> str:
        """Return the ConfigurationStatus a real charger would give."""
        key = self.keys.get(name)
        if key is None:
            return "NotSupported"
        if key.readonly or not self._valid(key, name, value):
            return "Rejected"
        key.value = value.lower() if key.kind == "bool" else value
        return "RebootRequired" if key.reboot else "Accepted"

    def _valid(self, key: Key, name: str, value: str) -> bool:
        if key.kind == "int":
            return value.strip().isdigit()
        if key.kind == "bool":
            return value.lower() in ("true", "false")
        if name in ("MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData", "StopTxnAlignedData"):
            items = [v.strip() for v in value.split(",") if v.strip()]
            limit = self.int(f"{name}MaxLength")
            return len(items) <= limit and all(v in SUPPORTED_MEASURANDS for v in items)
        if name == "AuthorizationKey":
            # Security whitepaper: 16 to 40 bytes (sent as hex or plain text by CSMSs in the wild).
            return 16 <= len(value) <= 40
        return True
