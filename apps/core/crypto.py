"""Secrets at rest: gateway credentials (apps.payments) and CA private keys (apps.certificates),
encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The key is settings.FIELD_ENCRYPTION_KEY (a Fernet key, from the environment) when set, else
derived from SECRET_KEY. Prefer a separate key in production: rotating SECRET_KEY (for
sessions) would otherwise make everything stored here unreadable. One key for every app:
one secret to manage and rotate.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

# Part of the derived key: changing it would make every secret stored so far unreadable.
_DERIVATION_SALT = b"evzone.payments.credentials:"


class DecryptionError(ValueError):
    """Stored data that the current key cannot decrypt (the key was changed, or the data is corrupt)."""


def fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(_DERIVATION_SALT + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def encrypt_bytes(data: bytes) -> str:
    return fernet().encrypt(data).decode()


def decrypt_bytes(token: str) -> bytes:
    try:
        return fernet().decrypt(token.encode())
    except InvalidToken as exc:
        raise DecryptionError("Stored secret cannot be decrypted: was FIELD_ENCRYPTION_KEY changed?") from exc


def encrypt_json(data: dict) -> str:
    return encrypt_bytes(json.dumps(data, sort_keys=True).encode())


def decrypt_json(token: str) -> dict:
    """The dict stored by encrypt_json; {} for nothing stored."""
    if not token:
        return {}
    return json.loads(decrypt_bytes(token))
