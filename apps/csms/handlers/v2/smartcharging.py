"""OCPP 2.x block K (smart charging)."""

from __future__ import annotations


class SmartChargingMixin:
    pass
