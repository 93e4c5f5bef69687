"""OCPP 2.x block M (certificates)."""

from __future__ import annotations


class CertificatesMixin:
    pass
