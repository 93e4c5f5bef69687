"""What chargers publish (apps.core.events): connectivity, boots and connector states.

Fired by apps.chargers.services after commit; see docs/events.md for when exactly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.core.events import Event


@dataclass(frozen=True)
class ChargerConnected(Event):
    charge_point_id: int
    connection_id: str
    protocol_version: str
    at: datetime


@dataclass(frozen=True)
class ChargerDisconnected(Event):
    """`cause`: "closed" (the websocket closed: charger, network or server shutdown),
    "replaced" is not published (a newer connection took over: the charger stayed online),
    "stale" (the sweep found it silent for too long: a dead server process or a half-open socket)."""

    charge_point_id: int
    cause: str
    at: datetime
    close_code: int | None = None


@dataclass(frozen=True)
class BootAccepted(Event):
    """A BootNotification was stored; `registration_status` is what the charger was told
    (Accepted, Pending or Rejected) -- named for the common case."""

    charge_point_id: int
    registration_status: str
    firmware_version: str
    at: datetime


@dataclass(frozen=True)
class ConnectorStatusChanged(Event):
    """A connector's current state changed (status, error code or vendor error code); an
    older notification delivered late changes nothing and publishes nothing. `old_status`
    is "" for a connector seen for the first time."""

    charge_point_id: int
    evse_id: int
    connector_id: int
    old_status: str
    status: str
    error_code: str
    vendor_error_code: str
    old_error_code: str
    at: datetime
