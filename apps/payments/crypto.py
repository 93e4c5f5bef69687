"""Encryption of gateway credentials at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key is FIELD_ENCRYPTION_KEY (a Fernet key, settings from the environment) when set,
else derived from SECRET_KEY. Prefer a separate key in production: rotating SECRET_KEY (for
sessions) would otherwise make stored credentials unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(b"evzone.payments.credentials:" + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def encrypt_json(data: dict) -> str:
    return _fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("Gateway credentials cannot be decrypted: was the encryption key changed?") from exc
