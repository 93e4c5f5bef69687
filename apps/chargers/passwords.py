"""Charger (OCPP Basic auth) passwords.

They are hashed with PBKDF2 like user passwords, but with far fewer iterations:
after a server restart thousands of chargers reconnect within seconds, and at
Django's default (1,000,000 iterations, ~0.3 s of CPU each) that storm would
take the process down for minutes. The passwords are 16-40 characters and
normally machine-generated, so 60,000 iterations (~12 ms) keeps an offline
attack expensive. The hasher is called directly, not through
PASSWORD_HASHERS, so test settings (MD5 for users) do not change it.

Remembering successful checks
-----------------------------
A charger presents the same password on every reconnect, and even 12 ms of PBKDF2
per handshake adds up: 5,000 chargers reconnecting after a deploy are ~70 s of CPU.
`check_charger_password_cached` therefore remembers successes at two levels:

1. Per process, a dict of HMACs under a random key that never leaves the process,
   of (schema, charger id, stored hash, password). Gone when the process stops.
2. Shared by every ASGI process and surviving their restarts, the Django cache
   (Redis in every deployment), `OCPP_AUTH_CACHE_SECONDS` (default 24 h; 0 turns
   this level off). The Redis key is `cpauth:` + HMAC(schema, charger id, stored
   hash); the value is HMAC(schema, charger id, stored hash, password), both under
   keys derived from SECRET_KEY (`salted_hmac`, distinct salts). A restart storm then
   costs one Redis GET per handshake instead of PBKDF2. Entries of chargers that keep
   talking to a process are rewritten every half TTL (`shared_entries_keep`, called by
   the message log writer), so a charger connected for weeks still has one.

What this does and does not give away:

- Never the password, and never a failure: a wrong password always pays the full
  PBKDF2, cached or not, and is never written anywhere. Both levels bind the stored
  hash, so a password change (new hash, new salt) never matches an old entry; the
  old entries simply expire. Rotating SECRET_KEY invalidates every shared entry.
- Someone who can read Redis but does not know SECRET_KEY learns nothing usable:
  the keys do not say which charger they belong to, and testing a guess against a
  value needs the HMAC key.
- Someone who has SECRET_KEY and can read Redis and the charger's stored hash (the
  database) can test password guesses for chargers with a live entry at the cost of
  one HMAC-SHA256 instead of 60,000 PBKDF2 rounds, tens of thousands of times
  cheaper. For the generated 32-character passwords (~190 bits) that changes
  nothing; a short human-chosen password would fall much sooner than from the hash
  alone. An entry lives while its charger keeps sending to a process and for the TTL
  after: that bounds how long the entry of a charger gone away is there to attack. The
  same person can also tell which chargers were connected within the TTL (they can
  compute the keys).
- Someone who has SECRET_KEY and the stored hash and can write Redis can plant an
  entry for a password of their choice and log in as that charger. That is inside
  the trust we already give them: SECRET_KEY signs sessions and password-reset
  tokens, and whoever writes Redis can already push frames to chargers through the
  channel layer and queue Celery tasks. Without SECRET_KEY, writing Redis can only
  delete or corrupt entries, which costs PBKDF2 again, never a wrong accept: a value
  copied to another charger's key does not verify there.
- Redis unavailable: every cache error falls back to PBKDF2 (never a refusal, never
  a 500), and the shared level is skipped for SHARED_BACKOFF_SECONDS so a storm does
  not pay a failing round trip per handshake. A Redis that accepts connections but
  never answers holds the handshake until the cache client's socket timeout, so
  CACHES should set one.
"""

import hashlib
import hmac
import logging
import secrets
import threading
import time

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.crypto import get_random_string, salted_hmac

logger = logging.getLogger(__name__)

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
# Value: when the shared entry was last written (time.time()), 0.0 if it was not.
_verified: dict[bytes, float] = {}
_verified_lock = threading.Lock()
_cache_key = secrets.token_bytes(32)

SHARED_PREFIX = "cpauth:"
SHARED_CACHE_ALIAS = "default"
# After a cache error, how long handshakes skip the shared level (PBKDF2 only).
SHARED_BACKOFF_SECONDS = 10.0
_KEY_SALT = "apps.chargers.passwords.shared-key"
_VALUE_SALT = "apps.chargers.passwords.shared-value"
_shared_off_until = 0.0


def shared_cache_seconds() -> int:
    return max(0, int(settings.OCPP_AUTH_CACHE_SECONDS))


def _message(*fields) -> str:
    # NUL separates the fields: none of them can contain one (schema names, integers,
    # Django's hash format, printable ASCII passwords), so two different tuples never
    # MAC the same message.
    return "\0".join(str(f) for f in fields)


def _verified_key(schema: str, charge_point_id: int, encoded: str, password: str) -> bytes:
    message = _message(schema, charge_point_id, encoded, password).encode()
    return hmac.new(_cache_key, message, hashlib.sha256).digest()


def _shared_key(schema: str, charge_point_id: int, encoded: str) -> str:
    digest = salted_hmac(_KEY_SALT, _message(schema, charge_point_id, encoded), algorithm="sha256")
    return SHARED_PREFIX + digest.hexdigest()


def _shared_mac(schema: str, charge_point_id: int, encoded: str, password: str) -> str:
    return salted_hmac(
        _VALUE_SALT, _message(schema, charge_point_id, encoded, password), algorithm="sha256"
    ).hexdigest()


def _shared_failed(what: str, exc: Exception) -> None:
    global _shared_off_until
    first = time.monotonic() >= _shared_off_until
    _shared_off_until = time.monotonic() + SHARED_BACKOFF_SECONDS
    if first:
        logger.warning("charger auth cache %s failed (%r); PBKDF2 only for %.0f s", what, exc, SHARED_BACKOFF_SECONDS)


def _shared_lookup(key: str, mac: str) -> float | None:
    """When the entry proving this password was written, or None (no such entry, or
    not for this password, or the cache is unavailable)."""
    try:
        entry = caches[SHARED_CACHE_ALIAS].get(key)
    except Exception as exc:  # noqa: BLE001 - any cache failure means "ask PBKDF2"
        _shared_failed("read", exc)
        return None
    if not isinstance(entry, str):
        return None
    written, _, stored_mac = entry.partition(":")
    if not hmac.compare_digest(stored_mac, mac):
        return None
    try:
        return float(written)
    except ValueError:
        return 0.0


def _shared_store(key: str, mac: str, ttl: int) -> float:
    now = time.time()
    try:
        caches[SHARED_CACHE_ALIAS].set(key, f"{now:.0f}:{mac}", timeout=ttl)
    except Exception as exc:  # noqa: BLE001 - the check succeeded; the cache is a bonus
        _shared_failed("write", exc)
        return 0.0
    return now


def _remember(key: bytes, written: float) -> None:
    with _verified_lock:
        _verified[key] = written
        if len(_verified) > VERIFIED_CACHE_SIZE:
            # Insertion order: the oldest verification goes first.
            del _verified[next(iter(_verified))]


# The shared entry of each charger this process verified: (schema, charger id) -> (key,
# value MAC, when written). Lets shared_entries_keep rewrite the entries of chargers that
# are still talking to this process without knowing their passwords.
_live: dict[tuple[str, int], tuple[str, str, float]] = {}


def _live_set(schema: str, charge_point_id: int, key: str, mac: str, written: float) -> None:
    with _verified_lock:
        _live.pop((schema, charge_point_id), None)
        _live[(schema, charge_point_id)] = (key, mac, written)
        if len(_live) > VERIFIED_CACHE_SIZE:
            del _live[next(iter(_live))]


def shared_entries_keep(*, schema: str, charge_point_ids) -> int:
    """Rewrite the shared entries of these chargers (the ones that just sent this process
    something) once they are half their TTL old; returns how many were rewritten.

    A charger stays connected for days, and its entry was written at its handshake: without
    this it expired OCPP_AUTH_CACHE_SECONDS later, so the reconnect storm after a deploy paid
    PBKDF2 for every charger connected longer than that -- in practice, all of them. Only
    chargers still sending keep their entries; one that went away loses its entry a TTL after
    its last message, so the TTL still bounds how long an unused entry can be attacked.
    One cache round trip for all that are due, at most once per half TTL per charger."""
    ttl = shared_cache_seconds()
    if ttl <= 0 or time.monotonic() < _shared_off_until or not _live:
        return 0
    now = time.time()
    due = {}
    for charge_point_id in charge_point_ids:
        entry = _live.get((schema, charge_point_id))
        if entry is not None and now - entry[2] > ttl / 2:
            due[charge_point_id] = entry
    if not due:
        return 0
    try:
        caches[SHARED_CACHE_ALIAS].set_many({key: f"{now:.0f}:{mac}" for key, mac, _ in due.values()}, timeout=ttl)
    except Exception as exc:  # noqa: BLE001 - the next handshake pays PBKDF2, nothing worse
        _shared_failed("write", exc)
        return 0
    for charge_point_id, (key, mac, _) in due.items():
        _live_set(schema, charge_point_id, key, mac, now)
    return len(due)


def check_charger_password_cached(
    password: str, encoded: str, *, charge_point_id: int, schema: str | None = None, cached_only: bool = False
) -> bool | None:
    """check_charger_password, skipping PBKDF2 when this process, or any process
    sharing the Django cache within OCPP_AUTH_CACHE_SECONDS, verified the same password
    against the same stored hash of the same charger before. `schema` defaults to the
    database connection's current tenant schema (charger ids are per schema).

    `cached_only`: never run PBKDF2; None when neither level knows this password (it may
    be right or wrong: the caches never record failures)."""
    if not encoded or not password or len(password) > MAX_LENGTH:
        return False
    if schema is None:
        schema = getattr(connection, "schema_name", "")
    local = _verified_key(schema, charge_point_id, encoded, password)
    ttl = shared_cache_seconds()
    use_shared = ttl > 0 and time.monotonic() >= _shared_off_until
    written = _verified.get(local)
    known_here = written is not None
    if use_shared:
        key = _shared_key(schema, charge_point_id, encoded)
        mac = _shared_mac(schema, charge_point_id, encoded, password)
        if written is None:
            written = _shared_lookup(key, mac)
    if written is None:
        if cached_only:
            return None
        if not check_charger_password(password, encoded):
            return False
        written = _shared_store(key, mac, ttl) if use_shared else 0.0
        _remember(local, written)
        if written:
            _live_set(schema, charge_point_id, key, mac, written)
        return True
    # Verified before, here or by another process. A charger that keeps reconnecting to
    # the same process never reads the shared entry: rewrite it once it is half its TTL
    # old, so it is still there for the next restart.
    if use_shared and time.time() - written > ttl / 2:
        written = _shared_store(key, mac, ttl) or written
        known_here = False
    if not known_here:
        _remember(local, written)
    if use_shared and written:
        _live_set(schema, charge_point_id, key, mac, written)
    return True


def verified_cache_clear() -> None:
    """Forget this process's verifications (as a restart does) and any cache-error
    back-off. Entries in the shared cache stay until they expire."""
    global _shared_off_until
    with _verified_lock:
        _verified.clear()
        _live.clear()
    _shared_off_until = 0.0
