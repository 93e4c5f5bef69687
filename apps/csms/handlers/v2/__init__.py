"""OCPP 2.0.1 and 2.1 sessions (see session.py for how the block mixins compose)."""

from apps.csms.handlers.v2.session import V21Session, V201Session

__all__ = ["V201Session", "V21Session"]
