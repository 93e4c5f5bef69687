"""Who may do what: one table of named actions, read by the portal's pages (`role_required`),
the API (`Policy`, from each view's `policy` declaration) and the OCPP console (the raw
command API and the charger page's command form, through `command_policy`).

A page, an endpoint or a console action names its rule here; no view keeps its own role list.
A name missing from the table allows nobody, and a view that declares no rule for an unsafe
method refuses it, so a new endpoint must choose a rule (tests/accounts/test_policy_matrix.py
fails on one that does not).
"""

from apps.accounts.models import ADMIN_ROLES, STAFF_ROLES, Role

ADMINS = ADMIN_ROLES
# Everyone who works for the organisation (sees the operator portal).
STAFF = STAFF_ROLES
# The people who run the chargers day to day.
OPERATORS = ADMIN_ROLES | {Role.OPERATOR_STAFF, Role.TECHNICIAN}
MONEY_READERS = ADMIN_ROLES | {Role.FINANCE}
# Any signed-in person, drivers included (their own tokens, profile and wallets; the
# queryset, not the role, limits what they see).
EVERYONE = frozenset(Role)

POLICY: dict[str, frozenset] = {
    "portal.view": STAFF,
    "account.self": EVERYONE,
    "driver.self": frozenset({Role.DRIVER}),
    "users.manage": ADMINS,
    "organization.manage": ADMINS,
    "resellers.manage": frozenset({Role.RESELLER_ADMIN}),
    "ocpp_settings.view": ADMINS,
    "ocpp_settings.change": ADMINS,
    # Sites: staff read them; only admins create, edit or delete them (as the Locations page).
    "locations.view": STAFF,
    "locations.change": ADMINS,
    "chargers.view": STAFF,
    "chargers.change": OPERATORS,
    # Sending commands, reading the message log and the command history.
    "chargers.operate": OPERATORS,
    # The OCPP message log carries card numbers: the people who operate chargers (page and API).
    "chargers.messages": OPERATORS,
    "devicemodel.view": STAFF,
    "devicemodel.change": OPERATORS,
    # Logs can hold card numbers and other personal data: the people who operate chargers.
    "diagnostics.view": OPERATORS,
    "diagnostics.settings": ADMINS,
    # What a charger holds about a person, and erasing it (GDPR requests): admins.
    "customer_data": ADMINS,
    # Raw writes of security settings (see SECURITY_COMPONENTS): admins.
    "chargers.security": ADMINS,
    "idtokens.view": STAFF,
    "idtokens.change": OPERATORS,
    "locallists.view": STAFF,
    "locallists.change": OPERATORS,
    "locallists.push": OPERATORS,
    "reservations.view": STAFF,
    "reservations.change": OPERATORS,
    "smartcharging.view": STAFF,
    "smartcharging.change": OPERATORS,
    "certificates.view": STAFF,
    "certificates.install": OPERATORS,
    "certificates.authority": ADMINS,
    "transactions.view": STAFF,
    "tariffs.view": STAFF,
    # Estimates are POSTs but change nothing: staff may run them.
    "tariffs.estimate": STAFF,
    "tariffs.change": ADMINS,
    "money.view": MONEY_READERS,
    # Moving money by hand (wallet adjustments and refunds, card refunds): admins, recorded per person.
    "money.move": ADMINS,
    # Refunds change what a driver owes; finance reads money but does not move it.
    "money.credit_notes": ADMINS,
    "payments.gateways": ADMINS,
    # A driver's own wallets (the queryset limits which); money readers see all of them.
    "wallets.view": EVERYONE,
    "wallets.topup": EVERYONE,
}


# ------------------------------------------------------------------------- the OCPP console
# Every outbound OCPP action names the page rule that sends it from the portal, so the raw
# console (API and the charger page's JSON form) allows exactly what the pages allow.
# An action missing here is admin-only.
COMMAND_RULES: dict[str, str] = {
    # The charger page's command panel.
    "ChangeAvailability": "chargers.operate",
    "ChangeConfiguration": "chargers.operate",
    "GetConfiguration": "chargers.operate",
    "TriggerMessage": "chargers.operate",
    "ExtendedTriggerMessage": "chargers.operate",
    "UnlockConnector": "chargers.operate",
    "Reset": "chargers.operate",
    "ClearCache": "chargers.operate",
    "RemoteStartTransaction": "chargers.operate",
    "RemoteStopTransaction": "chargers.operate",
    "RequestStartTransaction": "chargers.operate",
    "RequestStopTransaction": "chargers.operate",
    "GetTransactionStatus": "chargers.operate",
    "UpdateFirmware": "chargers.operate",
    "GetDiagnostics": "diagnostics.view",
    "GetLog": "diagnostics.view",
    "GetLocalListVersion": "chargers.operate",
    # Reservations and smart charging pages.
    "ReserveNow": "reservations.change",
    "CancelReservation": "reservations.change",
    "SetChargingProfile": "smartcharging.change",
    "ClearChargingProfile": "smartcharging.change",
    "GetChargingProfiles": "smartcharging.change",
    "GetCompositeSchedule": "smartcharging.change",
    # Device model pages (2.x).
    "GetVariables": "devicemodel.change",
    "SetVariables": "devicemodel.change",
    "GetBaseReport": "devicemodel.change",
    "GetReport": "devicemodel.change",
    "SetNetworkProfile": "devicemodel.change",
    "GetMonitoringReport": "diagnostics.view",
    "SetMonitoringBase": "diagnostics.view",
    "SetMonitoringLevel": "diagnostics.view",
    "SetVariableMonitoring": "diagnostics.view",
    "ClearVariableMonitoring": "diagnostics.view",
    "SetDisplayMessage": "diagnostics.view",
    "GetDisplayMessages": "diagnostics.view",
    "ClearDisplayMessage": "diagnostics.view",
    # Certificates page.
    "InstallCertificate": "certificates.install",
    "DeleteCertificate": "certificates.install",
    "GetInstalledCertificateIds": "certificates.install",
    # The Customer information page is admin-only, report and erase alike.
    "CustomerInformation": "customer_data",
    # The Local lists pages push tracked versions; a raw SendLocalList would desynchronise them.
    "SendLocalList": "organization.manage",
}

# Sent by no page to anyone but admins (vendor extensions, 2.1 energy-market and tariff
# messages, raw certificate and firmware plumbing the pages drive through tracked flows).
ADMIN_ONLY_COMMANDS = frozenset(
    {
        "AFRRSignal",
        "AdjustPeriodicEventStream",
        "CertificateSigned",
        "ChangeTransactionTariff",
        "ClearDERControl",
        "ClearTariffs",
        "CostUpdated",
        "DataTransfer",
        "GetDERControl",
        "GetPeriodicEventStream",
        "GetTariffs",
        "NotifyAllowedEnergyTransfer",
        "NotifyWebPaymentStarted",
        "PublishFirmware",
        "RequestBatterySwap",
        "SetDERControl",
        "SetDefaultTariff",
        "SignedUpdateFirmware",
        "UnpublishFirmware",
        "UpdateDynamicSchedule",
        "UsePriorityCharging",
    }
)

# Security settings: the Security page rotates passwords and upgrades profiles through
# tracked flows; a raw write would leave EVzone with credentials the charger no longer has.
SECURITY_COMPONENTS = frozenset({"SecurityCtrlr"})
SECURITY_KEYS_V16 = frozenset({"AuthorizationKey", "SecurityProfile", "CpoName", "AdditionalRootCertificateCheck"})


def allowed(user, name: str) -> bool:
    """May this user do the named action? Unknown names allow nobody."""
    roles = POLICY.get(name)
    if roles is None or not (user and user.is_authenticated and user.is_active):
        return False
    return user.role in roles


def command_policy(action: str, payload) -> str:
    """The rule for sending `action` with `payload` from the raw console."""
    if not isinstance(payload, dict):
        payload = {}
    if action == "SetVariables":
        for item in payload.get("setVariableData") or []:
            component = (item.get("component") or {}) if isinstance(item, dict) else {}
            if isinstance(component, dict) and component.get("name") in SECURITY_COMPONENTS:
                return "chargers.security"
    if action == "ChangeConfiguration" and payload.get("key") in SECURITY_KEYS_V16:
        return "chargers.security"
    return COMMAND_RULES.get(action, "organization.manage")


def crud(view: str, change: str, **extra: str) -> dict[str, str]:
    """A viewset's `policy`: reads under `view`, writes under `change`, plus extra actions."""
    reads = dict.fromkeys(("list", "retrieve"), view)
    writes = dict.fromkeys(("create", "update", "partial_update", "destroy"), change)
    return reads | writes | extra
