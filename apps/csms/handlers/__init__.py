"""One session class per OCPP version."""

from apps.csms.handlers.v2 import V21Session, V201Session
from apps.csms.handlers.v16 import V16Session

SESSIONS = {cls.subprotocol: cls for cls in (V16Session, V201Session, V21Session)}
# Newest first: when a charger offers several, we take the newest we also speak.
PREFERENCE = ["ocpp2.1", "ocpp2.0.1", "ocpp1.6"]


def negotiate_subprotocol(offered: list[str]) -> str | None:
    """The offered token to echo (exactly as the charger wrote it), or None."""
    by_name = {p.strip().lower(): p for p in offered}
    for candidate in PREFERENCE:
        if candidate in SESSIONS and candidate in by_name:
            return by_name[candidate]
    return None


def session_class(protocol_version: str):
    return SESSIONS.get(protocol_version.strip().lower())
