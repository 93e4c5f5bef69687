"""OCPP 2.x block B beyond boot (device model, Get/SetVariables, Pending configuration, Reset,
network profiles) and the monitoring half of block N."""

from __future__ import annotations


class ProvisioningMixin:
    pass
