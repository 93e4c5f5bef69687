"""OCPP 2.x messages only OCPP 2.1 has."""

from __future__ import annotations


class V21Mixin:
    pass
