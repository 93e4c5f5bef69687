"""Charger (OCPP Basic auth) passwords.

They are hashed with PBKDF2 like user passwords, but with far fewer iterations:
after a server restart thousands of chargers reconnect within seconds, and at
Django's default (1,000,000 iterations, ~0.3 s of CPU each) that storm would
take the process down for minutes. The passwords are 16-40 characters and
normally machine-generated, so 60,000 iterations (~12 ms) keeps an offline
attack expensive. The hasher is called directly, not through
PASSWORD_HASHERS, so test settings (MD5 for users) do not change it.

A charger that reconnects (a network blip, a proxy restart) presents the same
password again, and 12 ms of PBKDF2 per handshake adds up in a reconnect storm:
`check_charger_password_cached` remembers successful checks per process. The
cache holds only an HMAC, under a random key that never leaves the process, of
(charger id, stored hash, password) -- never the password, nor anything that
lets an attacker who reads memory test guesses faster than PBKDF2 without also
reading the key. A new hash (password changed) simply never matches old entries.
Only successes are cached: a wrong password always costs the full hash.
"""

import hashlib
import hmac
import secrets
import threading

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


# Enough for every charger a process holds (10,000 per process is the design target)
# plus churn; each entry is a 32-byte digest (~100 bytes with the dict slot).
VERIFIED_CACHE_SIZE = 20_000
_verified: dict[bytes, None] = {}
_verified_lock = threading.Lock()
_cache_key = secrets.token_bytes(32)


def _verified_key(charge_point_id: int, encoded: str, password: str) -> bytes:
    # NUL separates the fields: none of them can contain one (printable ASCII password,
    # Django's hash format), so two different triples never MAC the same message.
    message = f"{charge_point_id}\0{encoded}\0{password}".encode()
    return hmac.new(_cache_key, message, hashlib.sha256).digest()


def check_charger_password_cached(password: str, encoded: str, *, charge_point_id: int) -> bool:
    """check_charger_password, skipping PBKDF2 when this process verified the same
    password against the same stored hash of the same charger before."""
    if not encoded or not password or len(password) > MAX_LENGTH:
        return False
    key = _verified_key(charge_point_id, encoded, password)
    if key in _verified:
        return True
    if not check_charger_password(password, encoded):
        return False
    with _verified_lock:
        _verified[key] = None
        if len(_verified) > VERIFIED_CACHE_SIZE:
            # Insertion order: the oldest verification goes first.
            del _verified[next(iter(_verified))]
    return True


def verified_cache_clear() -> None:
    with _verified_lock:
        _verified.clear()
