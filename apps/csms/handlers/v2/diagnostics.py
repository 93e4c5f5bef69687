"""OCPP 2.x block N (logs, NotifyEvent, customer information)."""

from __future__ import annotations


class DiagnosticsMixin:
    pass
