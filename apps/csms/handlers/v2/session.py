"""The OCPP 2.0.1 and 2.1 sessions: one class per version, both built from the same
block mixins, so a feature written for 2.0.1 answers the same way in 2.1.

Mixins keep `@on("Action")` routes with plain action names (the `ocpp` library builds
its route map from every method carrying `_on_action`, wherever it is defined) and
return snake_case dicts; the base turns them into camelCase and validates them
against the version's schema before they go out.
"""

from __future__ import annotations

import functools

from ocpp.charge_point import snake_to_camel_case
from ocpp.v21 import ChargePoint as LibChargePoint21
from ocpp.v201 import ChargePoint as LibChargePoint201

from apps.csms import catalogue as actions
from apps.csms.handlers.base import CallOutcome, SessionBase
from apps.csms.handlers.v2.authorization import AuthorizationMixin
from apps.csms.handlers.v2.certificates import CertificatesMixin, CertificatesV21Mixin
from apps.csms.handlers.v2.common import V2Helpers, snake_action
from apps.csms.handlers.v2.core import CoreMixin
from apps.csms.handlers.v2.diagnostics import DiagnosticsMixin
from apps.csms.handlers.v2.display import DisplayMixin
from apps.csms.handlers.v2.firmware import FirmwareMixin
from apps.csms.handlers.v2.provisioning import ProvisioningMixin
from apps.csms.handlers.v2.smartcharging import SmartChargingMixin
from apps.csms.handlers.v2.transactions import TransactionsMixin
from apps.csms.handlers.v2.v21 import V21Mixin
from apps.csms.protocol import CALLRESULT, V2_ERRORS, FrameError, validate


@functools.cache
def _empty_answer_is_valid(version: str, action: str) -> bool:
    try:
        validate(version=version, message_type=CALLRESULT, action=action, payload={}, errors=V2_ERRORS)
    except (FrameError, OSError):
        return False
    return True


class V2SessionBase(
    CoreMixin,
    AuthorizationMixin,
    TransactionsMixin,
    ProvisioningMixin,
    SmartChargingMixin,
    FirmwareMixin,
    CertificatesMixin,
    DiagnosticsMixin,
    DisplayMixin,
    V2Helpers,
    SessionBase,
):
    errors = V2_ERRORS
    # OCPP 2.0.1 B02/B03: while Pending or Rejected a station sends only BootNotification
    # (and what the CSMS triggers); it may certainly not charge on our authority.
    requires_acceptance = frozenset({"Authorize", "TransactionEvent"})
    inbound_actions: frozenset[str] = frozenset()

    def fallback_handler(self, action: str):
        """Station -> CSMS notifications nobody has a handler for yet are still accepted,
        validated and kept (ChargerEvent) when their answer is empty: the station has
        done nothing wrong, and the data is there when a feature wants it."""
        if action not in self.inbound_actions or not _empty_answer_is_valid(self.version, action):
            return None

        async def store(**payload):
            # Kept as on the wire (camelCase), like the message log.
            await self._event(action, payload=snake_to_camel_case(payload))
            return {}

        return store

    async def after_command(self, action: str, payload: dict, outcome: CallOutcome) -> None:
        """Store what an answered command tells us: `answered_<action>(payload, answer)` on a mixin."""
        if not outcome.ok or outcome.schema_error:
            return
        hook = getattr(self, f"answered_{snake_action(action)}", None)
        if hook is not None:
            await hook(payload, outcome.frame.payload)


class V201Session(V2SessionBase, LibChargePoint201):
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    known_actions = actions.ALL_201
    inbound_actions = actions.INBOUND_201
    outbound_actions = actions.OUTBOUND_201


class V21Session(V21Mixin, CertificatesV21Mixin, V2SessionBase, LibChargePoint21):
    version = "2.1"
    subprotocol = "ocpp2.1"
    rpc21 = True
    known_actions = actions.ALL_21
    inbound_actions = actions.INBOUND_21
    outbound_actions = actions.OUTBOUND_21
