"""The OCPP 2.x device model of a virtual charging station (2.0.1 part 1 chapter 4, part 2 B and N).

Components (ChargingStation, EVSE n, Connector n.1 and the controllers) carry variables with
attributes (Actual, and for some Target/MinSet/MaxSet), a mutability and characteristics. The
store answers GetVariables/SetVariables per item and builds NotifyReport / NotifyMonitoringReport
entries. Payload dicts use the library's snake_case keys, both in and out.

Variables whose value is live state (AvailabilityState, the clock) are read through a getter the
charger installs, so a report never shows a stale copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from apps.simulator.keys import SUPPORTED_MEASURANDS
from apps.simulator.state import now_iso

ATTRIBUTES = ("Actual", "Target", "MinSet", "MaxSet")
MONITOR_TYPES = ("UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned")
MEASURAND_LISTS = {
    ("SampledDataCtrlr", "TxStartedMeasurands"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("SampledDataCtrlr", "TxEndedMeasurands"),
    ("AlignedDataCtrlr", "Measurands"),
    ("AlignedDataCtrlr", "TxEndedMeasurands"),
}


@dataclass
class Variable:
    component: str
    name: str
    value: str = ""
    data_type: str = "string"  # string decimal integer dateTime boolean OptionList SequenceList MemberList
    mutability: str = "ReadWrite"
    component_instance: str | None = None
    variable_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    unit: str | None = None
    values_list: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    reboot: bool = False
    # Further attributes this variable has besides Actual, e.g. {"MaxSet": "22000"}.
    extra: dict[str, str] = field(default_factory=dict)
    getter: Callable[[], str] | None = None

    @property
    def actual(self) -> str:
        return self.getter() if self.getter is not None else self.value

    def component_dict(self) -> dict:
        out: dict = {"name": self.component}
        if self.component_instance:
            out["instance"] = self.component_instance
        if self.evse is not None:
            out["evse"] = {"id": self.evse}
            if self.connector is not None:
                out["evse"]["connector_id"] = self.connector
        return out

    def variable_dict(self) -> dict:
        out = {"name": self.name}
        if self.variable_instance:
            out["instance"] = self.variable_instance
        return out

    def report_entry(self) -> dict:
        attributes = []
        for kind in ("Actual", *self.extra):
            attribute = {"type": kind, "mutability": self.mutability if kind == "Actual" else "ReadWrite"}
            # A WriteOnly value (a password) is never reported back: a password must not be readable over OCPP.
            if self.mutability != "WriteOnly":
                attribute["value"] = self.actual if kind == "Actual" else self.extra[kind]
            attributes.append(attribute)
        characteristics: dict = {"data_type": self.data_type, "supports_monitoring": self.data_type != "string"}
        for key in ("unit", "values_list", "min_limit", "max_limit"):
            if getattr(self, key) is not None:
                characteristics[key] = getattr(self, key)
        return {
            "component": self.component_dict(),
            "variable": self.variable_dict(),
            "variable_attribute": attributes,
            "variable_characteristics": characteristics,
        }


def _matches_component(var: Variable, component: dict) -> bool:
    if var.component != component.get("name") or var.component_instance != component.get("instance"):
        return False
    evse = component.get("evse")
    if evse is None:
        return var.evse is None
    return var.evse == evse.get("id") and var.connector == evse.get("connector_id")


def default_variables(*, evses: int, heartbeat: int, meter_interval: int, options) -> list[Variable]:
    i, b, d, o, m, s = "integer", "boolean", "decimal", "OptionList", "MemberList", "SequenceList"
    ro, wo = "ReadOnly", "WriteOnly"
    measurands = ",".join(sorted(SUPPORTED_MEASURANDS))
    v: list[Variable] = [
        # ChargingStation
        Variable(
            "ChargingStation",
            "AvailabilityState",
            "Available",
            o,
            ro,
            values_list="Available,Occupied,Reserved,Unavailable,Faulted",
        ),
        Variable("ChargingStation", "Available", "true", b, ro),
        Variable("ChargingStation", "Model", options.model, mutability=ro),
        Variable("ChargingStation", "VendorName", options.vendor, mutability=ro),
        Variable("ChargingStation", "SupplyPhases", "3", i, ro),
        Variable("ChargingStation", "Problem", "false", b, ro),
        # OCPPCommCtrlr
        Variable("OCPPCommCtrlr", "HeartbeatInterval", str(heartbeat), i, unit="s", min_limit=1),
        Variable("OCPPCommCtrlr", "MessageTimeout", "30", i, ro, variable_instance="Default", unit="s"),
        Variable("OCPPCommCtrlr", "MessageAttempts", "3", i, variable_instance="TransactionEvent", min_limit=1),
        Variable("OCPPCommCtrlr", "MessageAttemptInterval", "10", i, variable_instance="TransactionEvent", unit="s"),
        Variable("OCPPCommCtrlr", "OfflineThreshold", "60", i, unit="s"),
        Variable("OCPPCommCtrlr", "ResetRetries", "2", i),
        Variable("OCPPCommCtrlr", "NetworkConfigurationPriority", "0", s, values_list="0,1,2", reboot=True),
        Variable("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "3", i),
        Variable("OCPPCommCtrlr", "FileTransferProtocols", "HTTP,HTTPS", m, ro, values_list="HTTP,HTTPS,FTP"),
        Variable("OCPPCommCtrlr", "WebSocketPingInterval", "0", i, unit="s", reboot=True),
        # SecurityCtrlr
        Variable("SecurityCtrlr", "BasicAuthPassword", "", mutability=wo),
        Variable("SecurityCtrlr", "SecurityProfile", "1", i, ro),
        Variable("SecurityCtrlr", "Identity", "", mutability=ro),
        Variable("SecurityCtrlr", "OrganizationName", "EVzone"),
        Variable("SecurityCtrlr", "CertificateEntries", "0", i, ro),
        # DeviceDataCtrlr: how much one message may carry, in both directions.
        Variable("DeviceDataCtrlr", "ItemsPerMessage", "20", i, ro, variable_instance="GetReport"),
        Variable("DeviceDataCtrlr", "ItemsPerMessage", "20", i, ro, variable_instance="GetVariables"),
        Variable("DeviceDataCtrlr", "ItemsPerMessage", "20", i, ro, variable_instance="SetVariables"),
        Variable("DeviceDataCtrlr", "BytesPerMessage", "16000", i, ro, variable_instance="GetReport"),
        Variable("DeviceDataCtrlr", "BytesPerMessage", "16000", i, ro, variable_instance="GetVariables"),
        Variable("DeviceDataCtrlr", "BytesPerMessage", "16000", i, ro, variable_instance="SetVariables"),
        # TxCtrlr
        Variable("TxCtrlr", "EVConnectionTimeOut", "60", i, unit="s"),
        Variable("TxCtrlr", "StopTxOnEVSideDisconnect", "true", b),
        Variable("TxCtrlr", "StopTxOnInvalidId", "true", b),
        Variable(
            "TxCtrlr",
            "TxStartPoint",
            "Authorized,EVConnected",
            m,
            values_list="ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed,EnergyTransfer,DataSigned",
        ),
        Variable(
            "TxCtrlr",
            "TxStopPoint",
            "EVConnected,Authorized",
            m,
            values_list="ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed,EnergyTransfer",
        ),
        Variable("TxCtrlr", "MaxEnergyOnInvalidId", "0", i, unit="Wh"),
        # SampledDataCtrlr / AlignedDataCtrlr
        Variable("SampledDataCtrlr", "Enabled", "true", b),
        Variable("SampledDataCtrlr", "TxStartedMeasurands", "Energy.Active.Import.Register", m, values_list=measurands),
        Variable(
            "SampledDataCtrlr",
            "TxUpdatedMeasurands",
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC",
            m,
            values_list=measurands,
        ),
        Variable("SampledDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register", m, values_list=measurands),
        Variable("SampledDataCtrlr", "TxUpdatedInterval", str(meter_interval), i, unit="s"),
        Variable("SampledDataCtrlr", "TxEndedInterval", "0", i, unit="s"),
        Variable("AlignedDataCtrlr", "Enabled", "true", b),
        Variable("AlignedDataCtrlr", "Measurands", "Energy.Active.Import.Register", m, values_list=measurands),
        Variable("AlignedDataCtrlr", "Interval", "0", i, unit="s"),
        Variable("AlignedDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register", m, values_list=measurands),
        Variable("AlignedDataCtrlr", "TxEndedInterval", "0", i, unit="s"),
        # Authorization
        Variable("AuthCtrlr", "Enabled", "true", b),
        Variable("AuthCtrlr", "AuthorizeRemoteStart", "false", b),
        Variable("AuthCtrlr", "LocalAuthorizeOffline", "true", b),
        Variable("AuthCtrlr", "LocalPreAuthorize", "false", b),
        Variable("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true", b),
        Variable("AuthCacheCtrlr", "Enabled", "true", b),
        Variable("LocalAuthListCtrlr", "Enabled", "true", b),
        Variable("LocalAuthListCtrlr", "Entries", "0", i, ro),
        Variable("LocalAuthListCtrlr", "ItemsPerMessage", "250", i, ro),
        Variable("LocalAuthListCtrlr", "BytesPerMessage", "16000", i, ro),
        Variable("LocalAuthListCtrlr", "Storage", "1000", i, ro, extra={"MaxSet": "1000"}),
        # Reservation, smart charging, display, monitoring, clock
        Variable("ReservationCtrlr", "Enabled", "true", b),
        Variable("ReservationCtrlr", "NonEvseSpecific", "true", b),
        Variable("SmartChargingCtrlr", "Enabled", "true", b),
        Variable("SmartChargingCtrlr", "ProfileStackLevel", "8", i, ro),
        Variable("SmartChargingCtrlr", "PeriodsPerSchedule", "24", i, ro),
        Variable("SmartChargingCtrlr", "Entries", "0", i, ro, variable_instance="ChargingProfiles"),
        Variable("SmartChargingCtrlr", "RateUnit", "A,W", m, ro, values_list="A,W"),
        Variable("SmartChargingCtrlr", "LimitChangeSignificance", "0.1", d),
        Variable("DisplayMessageCtrlr", "Enabled", "true", b),
        Variable("DisplayMessageCtrlr", "DisplayMessages", "10", i, ro),
        Variable("DisplayMessageCtrlr", "SupportedFormats", "ASCII,UTF8", m, ro, values_list="ASCII,HTML,URI,UTF8"),
        Variable(
            "DisplayMessageCtrlr",
            "SupportedPriorities",
            "AlwaysFront,InFront,NormalCycle",
            m,
            ro,
            values_list="AlwaysFront,InFront,NormalCycle",
        ),
        Variable("MonitoringCtrlr", "Enabled", "true", b),
        Variable("MonitoringCtrlr", "ItemsPerMessage", "20", i, ro, variable_instance="SetVariableMonitoring"),
        Variable("MonitoringCtrlr", "ItemsPerMessage", "20", i, ro, variable_instance="ClearVariableMonitoring"),
        Variable(
            "MonitoringCtrlr", "ActiveMonitoringBase", "All", o, ro, values_list="All,FactoryDefault,HardWiredOnly"
        ),
        Variable("MonitoringCtrlr", "ActiveMonitoringLevel", "9", i, ro, min_limit=0, max_limit=9),
        Variable("MonitoringCtrlr", "OfflineQueuingSeverity", "4", i, min_limit=0, max_limit=9),
        Variable("ClockCtrlr", "DateTime", "", "dateTime", ro),
        Variable("ClockCtrlr", "TimeSource", "Heartbeat", s, values_list="Heartbeat,NTP,GPS,RealTimeClock"),
        Variable("CustomizationCtrlr", "CustomImplementationEnabled", "false", b, ro, variable_instance="EVzone"),
    ]
    for n in range(1, evses + 1):
        power = str(int(options.max_power_w))
        v += [
            Variable(
                "EVSE",
                "AvailabilityState",
                "Available",
                o,
                ro,
                evse=n,
                values_list="Available,Occupied,Reserved,Unavailable,Faulted",
            ),
            Variable("EVSE", "Available", "true", b, ro, evse=n),
            Variable("EVSE", "Power", "0", d, ro, evse=n, unit="W", extra={"MaxSet": power}),
            Variable("EVSE", "SupplyPhases", "3", i, ro, evse=n),
            Variable(
                "Connector",
                "AvailabilityState",
                "Available",
                o,
                ro,
                evse=n,
                connector=1,
                values_list="Available,Occupied,Reserved,Unavailable,Faulted",
            ),
            Variable("Connector", "Available", "true", b, ro, evse=n, connector=1),
            Variable("Connector", "ConnectorType", "cType2", mutability=ro, evse=n, connector=1),
            Variable("Connector", "SupplyPhases", "3", i, ro, evse=n, connector=1),
        ]
    return v


@dataclass
class Monitor:
    id: int
    variable: Variable
    type: str
    value: float
    severity: int
    transaction: bool = False


class DeviceModel:
    def __init__(self, variables: list[Variable]):
        self.variables = variables
        self.monitors: dict[int, Monitor] = {}
        self._monitor_ids = 0

    # ------------------------------------------------------------------ typed access for the charger

    def find(
        self,
        component: str,
        name: str,
        instance: str | None = None,
        evse: int | None = None,
        connector: int | None = None,
    ) -> Variable:
        for var in self.variables:
            if (var.component, var.name, var.variable_instance, var.evse, var.connector) == (
                component,
                name,
                instance,
                evse,
                connector,
            ):
                return var
        raise KeyError((component, name, instance, evse))

    def value(self, component: str, name: str, instance: str | None = None) -> str:
        return self.find(component, name, instance).actual

    def int(self, component: str, name: str, instance: str | None = None) -> int:
        try:
            return int(float(self.value(component, name, instance) or 0))
        except ValueError:
            return 0

    def bool(self, component: str, name: str, instance: str | None = None) -> bool:
        return self.value(component, name, instance).lower() == "true"

    def csl(self, component: str, name: str, instance: str | None = None) -> list[str]:
        return [p.strip() for p in self.value(component, name, instance).split(",") if p.strip()]

    def put(self, component: str, name: str, value: str, instance: str | None = None) -> None:
        """Internal update (not a SetVariables): ignores mutability."""
        self.find(component, name, instance).value = value

    # ------------------------------------------------------------------ GetVariables / SetVariables

    def _lookup(self, component: dict, variable: dict) -> tuple[str, Variable | None]:
        in_component = [v for v in self.variables if _matches_component(v, component)]
        if not in_component:
            return "UnknownComponent", None
        for var in in_component:
            if var.name == variable.get("name") and var.variable_instance == variable.get("instance"):
                return "Accepted", var
        return "UnknownVariable", None

    def get(self, component: dict, variable: dict, attribute_type: str | None) -> dict:
        kind = attribute_type or "Actual"
        result: dict = {"component": component, "variable": variable}
        if attribute_type:
            result["attribute_type"] = attribute_type
        status, var = self._lookup(component, variable)
        if var is not None:
            if kind != "Actual" and kind not in var.extra:
                status = "NotSupportedAttributeType"
            elif var.mutability == "WriteOnly":
                # Reading a WriteOnly variable is Rejected: its value never leaves the station.
                status = "Rejected"
            else:
                result["attribute_value"] = var.actual if kind == "Actual" else var.extra[kind]
        result["attribute_status"] = status
        return result

    def set(
        self, component: dict, variable: dict, attribute_type: str | None, value: str
    ) -> tuple[str, Variable | None]:
        kind = attribute_type or "Actual"
        status, var = self._lookup(component, variable)
        if var is None:
            return status, None
        if kind != "Actual" and kind not in var.extra:
            return "NotSupportedAttributeType", var
        if (var.mutability == "ReadOnly" and kind == "Actual") or not self._valid(var, value):
            return "Rejected", var
        if kind == "Actual":
            var.value = value.lower() if var.data_type == "boolean" else value
        else:
            var.extra[kind] = value
        return ("RebootRequired" if var.reboot else "Accepted"), var

    def _valid(self, var: Variable, value: str) -> bool:
        if var.data_type == "integer":
            try:
                number = int(value)
            except ValueError:
                return False
        elif var.data_type == "decimal":
            try:
                number = float(value)
            except ValueError:
                return False
        elif var.data_type == "boolean":
            return value.lower() in ("true", "false")
        else:
            number = None
        if number is not None:
            return (var.min_limit is None or number >= var.min_limit) and (
                var.max_limit is None or number <= var.max_limit
            )
        if var.values_list is not None:
            allowed = set(var.values_list.split(","))
            items = [p.strip() for p in value.split(",") if p.strip()] if var.data_type != "OptionList" else [value]
            if (var.component, var.name) in MEASURAND_LISTS:
                allowed &= SUPPORTED_MEASURANDS
            return all(item in allowed for item in items)
        return len(value) <= 1000

    # ------------------------------------------------------------------ reports

    def base_report(self, report_base: str) -> list[dict]:
        if report_base == "ConfigurationInventory":
            chosen = [v for v in self.variables if v.mutability != "ReadOnly"]
        elif report_base == "SummaryInventory":
            # B07: availability and problem state of every component, the station at a glance.
            chosen = [v for v in self.variables if v.name in ("AvailabilityState", "Available", "Problem")]
        else:
            chosen = list(self.variables)
        return [v.report_entry() for v in chosen]

    def criteria_report(
        self, component_variable: list[dict] | None, component_criteria: list[str] | None
    ) -> list[dict]:
        chosen = list(self.variables)
        if component_variable:

            def wanted(var: Variable) -> bool:
                for cv in component_variable:
                    component = cv["component"]
                    if var.component != component["name"]:
                        continue
                    if component.get("instance") is not None and var.component_instance != component["instance"]:
                        continue
                    evse = component.get("evse")
                    if evse is not None and (
                        var.evse != evse["id"]
                        or (evse.get("connector_id") is not None and var.connector != evse["connector_id"])
                    ):
                        continue
                    variable = cv.get("variable")
                    if variable is not None and (var.name, var.variable_instance) != (
                        variable["name"],
                        variable.get("instance"),
                    ):
                        continue
                    return True
                return False

            chosen = [v for v in chosen if wanted(v)]
        if component_criteria:
            # A component qualifies when it has the named variable (Active, Available, Enabled, Problem)
            # set to true; then all of its variables are reported (B08).
            keys = {
                (v.component, v.component_instance, v.evse, v.connector)
                for v in self.variables
                if v.name in component_criteria and v.actual.lower() == "true"
            }
            chosen = [v for v in chosen if (v.component, v.component_instance, v.evse, v.connector) in keys]
        return [v.report_entry() for v in chosen]

    # ------------------------------------------------------------------ monitoring (N04..N07)

    def set_monitor(self, item: dict) -> dict:
        component, variable = item["component"], item["variable"]
        result = {"type": item["type"], "severity": item["severity"], "component": component, "variable": variable}
        status, var = self._lookup(component, variable)
        if var is None:
            result["status"] = status
            return result
        if item["type"] not in MONITOR_TYPES or var.data_type == "string":
            result["status"] = "UnsupportedMonitorType"
            return result
        monitor_id = item.get("id")
        if monitor_id is not None and monitor_id not in self.monitors:
            result["status"] = "Rejected"  # an id given names an existing monitor to replace
            return result
        for existing in self.monitors.values():
            if existing.variable is var and existing.type == item["type"] and existing.id != monitor_id:
                if existing.value == item["value"]:
                    result["status"] = "Duplicate"
                    return result
        if monitor_id is None:
            self._monitor_ids += 1
            monitor_id = self._monitor_ids
        self.monitors[monitor_id] = Monitor(
            monitor_id, var, item["type"], float(item["value"]), item["severity"], bool(item.get("transaction"))
        )
        result.update(status="Accepted", id=monitor_id)
        return result

    def clear_monitor(self, monitor_id: int) -> dict:
        if monitor_id not in self.monitors:
            return {"status": "NotFound", "id": monitor_id}
        del self.monitors[monitor_id]
        return {"status": "Accepted", "id": monitor_id}

    def monitoring_report(
        self, criteria: list[str] | None, component_variable: list[dict] | None, with_event_type: bool
    ) -> list[dict]:
        kinds = {
            "ThresholdMonitoring": ("UpperThreshold", "LowerThreshold"),
            "DeltaMonitoring": ("Delta",),
            "PeriodicMonitoring": ("Periodic", "PeriodicClockAligned"),
        }
        allowed = {t for c in (criteria or kinds) for t in kinds[c]}
        scope = None
        if component_variable:
            scope = {
                id(v)
                for v in self.variables
                for e in [v.report_entry()]
                if any(
                    e["component"]["name"] == cv["component"]["name"]
                    and ("variable" not in cv or cv["variable"]["name"] == v.name)
                    for cv in component_variable
                )
            }
        grouped: dict[int, dict] = {}
        for monitor in self.monitors.values():
            var = monitor.variable
            if monitor.type not in allowed or (scope is not None and id(var) not in scope):
                continue
            entry = grouped.setdefault(
                id(var), {"component": var.component_dict(), "variable": var.variable_dict(), "variable_monitoring": []}
            )
            data = {
                "id": monitor.id,
                "transaction": monitor.transaction,
                "value": monitor.value,
                "type": monitor.type,
                "severity": monitor.severity,
            }
            if with_event_type:
                data["event_notification_type"] = "CustomMonitor"  # required from 2.1 on
            entry["variable_monitoring"].append(data)
        return list(grouped.values())

    def monitors_on(self, var: Variable, kind: str = "Delta") -> list[Monitor]:
        return [m for m in self.monitors.values() if m.variable is var and m.type == kind]


def clock_getter() -> str:
    return now_iso()
