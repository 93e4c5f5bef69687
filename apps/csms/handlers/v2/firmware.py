"""OCPP 2.x block L (firmware)."""

from __future__ import annotations


class FirmwareMixin:
    pass
