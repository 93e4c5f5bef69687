"""apps.core.crypto: the one Fernet key for secrets at rest (gateway credentials, CA keys)."""

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet

from apps.core import crypto

OTHER_KEY = Fernet.generate_key().decode()


def test_round_trips_json_and_bytes():
    assert crypto.decrypt_json(crypto.encrypt_json({"secret_key": "sk_test_1"})) == {"secret_key": "sk_test_1"}
    assert crypto.decrypt_json("") == {}
    assert crypto.decrypt_bytes(crypto.encrypt_bytes(b"-----BEGIN PRIVATE KEY-----")) == b"-----BEGIN PRIVATE KEY-----"


def test_without_a_key_it_is_derived_from_secret_key_as_before(settings):
    # The derivation apps.payments.crypto used: secrets stored before the move stay readable.
    settings.FIELD_ENCRYPTION_KEY = ""
    digest = hashlib.sha256(b"evzone.payments.credentials:" + settings.SECRET_KEY.encode()).digest()
    stored = Fernet(base64.urlsafe_b64encode(digest)).encrypt(b'{"api_key": "old"}').decode()
    assert crypto.decrypt_json(stored) == {"api_key": "old"}


def test_a_configured_key_is_used_and_a_changed_one_is_reported(settings):
    settings.FIELD_ENCRYPTION_KEY = OTHER_KEY
    token = crypto.encrypt_bytes(b"x")
    assert Fernet(OTHER_KEY).decrypt(token) == b"x"
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(crypto.DecryptionError, match="FIELD_ENCRYPTION_KEY"):
        crypto.decrypt_bytes(token)
    with pytest.raises(ValueError):  # callers that caught ValueError before still do
        crypto.decrypt_json(token)
