"""Charger (OCPP Basic auth) passwords.

They are hashed with PBKDF2 like user passwords, but with far fewer iterations:
after a server restart thousands of chargers reconnect within seconds, and at
Django's default (1,000,000 iterations, ~0.3 s of CPU each) that storm would
take the process down for minutes. The passwords are 16-40 characters and
normally machine-generated, so 60,000 iterations (~12 ms) keeps an offline
attack expensive. The hasher is called directly, not through
PASSWORD_HASHERS, so test settings (MD5 for users) do not change it.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.exceptions import ValidationError
from django.utils.crypto import get_random_string

ITERATIONS = 60_000
MIN_LENGTH = 16
MAX_LENGTH = 40


def validate_charger_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationError(f"A charger password has {MIN_LENGTH} to {MAX_LENGTH} characters.")
    # OCPP 1.6 security whitepaper: passwordString is printable ASCII.
    if not all(32 < ord(c) < 127 for c in password):
        raise ValidationError("A charger password uses printable ASCII characters without spaces.")


def hash_charger_password(password: str) -> str:
    validate_charger_password(password)
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt(), iterations=ITERATIONS)


def check_charger_password(password: str, encoded: str) -> bool:
    if not encoded or not password or len(password) > MAX_LENGTH:
        return False
    try:
        return PBKDF2PasswordHasher().verify(password, encoded)
    except (ValueError, TypeError):
        return False


def generate_charger_password() -> str:
    return get_random_string(32)
