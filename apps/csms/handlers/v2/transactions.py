"""OCPP 2.x blocks E (TransactionEvent), F (remote control answers), H (reservations), I (cost), J (MeterValues)."""

from __future__ import annotations


class TransactionsMixin:
    pass
