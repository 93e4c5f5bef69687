"""OCPP 2.x block O (display messages)."""

from __future__ import annotations


class DisplayMixin:
    pass
