"""The shared (Django cache / Redis) level of check_charger_password_cached: successes
survive a process restart and are shared between processes, without weakening what
is stored and without ever turning a cache problem into a refusal."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import caches
from django.test import override_settings

from apps.chargers import passwords
from apps.chargers.passwords import check_charger_password_cached, hash_charger_password

PASSWORD = "a-good-charger-password"
OTHER = "the-next-password-0123"
# Nothing listens on port 1: connections are refused at once, like a Redis that is down.
REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture(autouse=True)
def _fresh_process():
    passwords.verified_cache_clear()
    yield
    passwords.verified_cache_clear()


@pytest.fixture
def pbkdf2_calls(monkeypatch) -> list[str]:
    calls = []
    real = PBKDF2PasswordHasher.verify

    def counting(self, password, encoded):
        calls.append(password)
        return real(self, password, encoded)

    monkeypatch.setattr(PBKDF2PasswordHasher, "verify", counting)
    return calls


def restart() -> None:
    """What a process restart does to the cache: the per-process level is gone."""
    passwords.verified_cache_clear()


def check(password: str, encoded: str, pk: int = 1, schema: str = "org_a") -> bool:
    return check_charger_password_cached(password, encoded, charge_point_id=pk, schema=schema)


def test_a_success_survives_a_restart_without_pbkdf2(pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    assert check(PASSWORD, encoded)
    assert len(pbkdf2_calls) == 1
    restart()
    assert check(PASSWORD, encoded)
    assert check(PASSWORD, encoded)  # and the shared hit is remembered in the process again
    assert len(pbkdf2_calls) == 1


def test_a_wrong_password_is_never_cached_nor_accepted(pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    assert check(PASSWORD, encoded)
    restart()
    for _ in range(2):
        assert not check(PASSWORD + "x", encoded)
    assert not check(PASSWORD[:-1], encoded)
    assert len(pbkdf2_calls) == 4  # every wrong attempt paid the full hash
    assert passwords._verified == {}


def test_what_is_stored_is_neither_the_password_nor_reusable():
    encoded = hash_charger_password(PASSWORD)
    assert check(PASSWORD, encoded)
    key = passwords._shared_key("org_a", 1, encoded)
    entry = caches["default"].get(key)
    assert key.startswith("cpauth:") and PASSWORD not in key and encoded not in key
    assert isinstance(entry, str) and PASSWORD not in entry and encoded not in entry
    # The value of one charger copied under another charger's key proves nothing there.
    other = hash_charger_password(PASSWORD)
    caches["default"].set(passwords._shared_key("org_a", 2, other), entry, timeout=60)
    restart()
    assert (
        passwords._shared_lookup(
            passwords._shared_key("org_a", 2, other), passwords._shared_mac("org_a", 2, other, PASSWORD)
        )
        is None
    )


def test_a_changed_hash_never_matches_an_old_entry(pbkdf2_calls):
    old = hash_charger_password(PASSWORD)
    assert check(PASSWORD, old)
    restart()
    new = hash_charger_password(OTHER)
    assert not check(PASSWORD, new)
    assert check(OTHER, new)
    assert len(pbkdf2_calls) == 3


def test_chargers_and_organisations_do_not_share_entries(pbkdf2_calls):
    # The benchmark fleet really does share one stored hash between chargers.
    encoded = hash_charger_password(PASSWORD)
    assert check(PASSWORD, encoded, pk=1, schema="org_a")
    restart()
    assert check(PASSWORD, encoded, pk=2, schema="org_a")
    assert check(PASSWORD, encoded, pk=1, schema="org_b")  # charger ids are per schema
    assert len(pbkdf2_calls) == 3


def test_schema_defaults_to_the_connections_tenant(in_tenant_a, pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    assert check_charger_password_cached(PASSWORD, encoded, charge_point_id=7)
    restart()
    assert check(PASSWORD, encoded, pk=7, schema=in_tenant_a.schema_name)
    assert len(pbkdf2_calls) == 1


def test_a_cache_that_is_down_falls_back_to_pbkdf2(pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    with override_settings(CACHES=REDIS_DOWN):
        assert check(PASSWORD, encoded)
        assert not check(PASSWORD + "x", encoded)
        restart()
        assert check(PASSWORD, encoded)
        assert not check(PASSWORD + "x", encoded)
    assert len(pbkdf2_calls) == 4


def test_after_a_cache_error_handshakes_skip_the_cache_for_a_while(monkeypatch, pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    reads = []

    class Broken:
        def get(self, key):
            reads.append(key)
            raise ConnectionError("redis went away")

        def set(self, *args, **kwargs):
            raise ConnectionError("redis went away")

    monkeypatch.setattr(passwords, "caches", {"default": Broken()})
    for pk in range(5):
        assert check(PASSWORD, encoded, pk=pk)
    # One failing round trip, then PBKDF2 only until the back-off ends.
    assert len(reads) == 1 and len(pbkdf2_calls) == 5


def test_a_garbled_entry_is_a_miss(pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    caches["default"].set(passwords._shared_key("org_a", 1, encoded), "not-an-entry", timeout=60)
    assert check(PASSWORD, encoded)
    assert len(pbkdf2_calls) == 1


@override_settings(OCPP_AUTH_CACHE_SECONDS=0)
def test_zero_seconds_turns_the_shared_level_off(pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    assert check(PASSWORD, encoded)
    assert caches["default"].get(passwords._shared_key("org_a", 1, encoded)) is None
    assert check(PASSWORD, encoded)  # the per-process level still works
    restart()
    assert check(PASSWORD, encoded)
    assert len(pbkdf2_calls) == 2


def test_the_entry_expires_after_the_setting(monkeypatch):
    encoded = hash_charger_password(PASSWORD)
    timeouts = []
    real_set = caches["default"].set
    monkeypatch.setattr(
        caches["default"], "set", lambda k, v, timeout: timeouts.append(timeout) or real_set(k, v, timeout)
    )
    with override_settings(OCPP_AUTH_CACHE_SECONDS=120):
        assert check(PASSWORD, encoded)
    assert timeouts == [120]


def test_an_entry_half_its_ttl_old_is_rewritten(pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    key = passwords._shared_key("org_a", 1, encoded)
    with override_settings(OCPP_AUTH_CACHE_SECONDS=100):
        assert check(PASSWORD, encoded)
        # Pretend both levels were written 60 s ago.
        (local,) = passwords._verified
        written = passwords._verified[local] - 60
        passwords._verified[local] = written
        caches["default"].set(key, f"{written:.0f}:{passwords._shared_mac('org_a', 1, encoded, PASSWORD)}", 40)
        # A reconnect to the same process (no Redis read) refreshes the shared entry.
        assert check(PASSWORD, encoded)
        assert float(caches["default"].get(key).partition(":")[0]) >= written + 59
        cache = caches["default"]
        assert cache._cache.get_client(key).ttl(cache.make_and_validate_key(key)) > 90
    assert len(pbkdf2_calls) == 1


def _age_live_entry(schema: str, pk: int, seconds: float) -> float:
    """Pretend the shared entry of this charger was written `seconds` ago (both the
    process's note of it and the cache value); returns that time."""
    key, mac, written = passwords._live[(schema, pk)]
    written -= seconds
    passwords._live[(schema, pk)] = (key, mac, written)
    caches["default"].set(key, f"{written:.0f}:{mac}", 40)
    return written


def test_entries_of_chargers_that_keep_talking_outlive_the_ttl(pbkdf2_calls):
    """A charger connected for longer than the TTL must still have its entry when the
    process restarts (the storm after a deploy), as long as it keeps sending."""
    encoded = hash_charger_password(PASSWORD)
    with override_settings(OCPP_AUTH_CACHE_SECONDS=100):
        assert check(PASSWORD, encoded, pk=1) and check(PASSWORD, encoded, pk=2)
        written = _age_live_entry("org_a", 1, 60)
        quiet = _age_live_entry("org_a", 2, 60)
        # Charger 1 sent something (the message log writer passes who did); 2 went quiet.
        assert passwords.shared_entries_keep(schema="org_a", charge_point_ids=[1, 3]) == 1
        cache = caches["default"]
        key1, key2 = passwords._shared_key("org_a", 1, encoded), passwords._shared_key("org_a", 2, encoded)
        assert float(cache.get(key1).partition(":")[0]) >= written + 59
        assert cache._cache.get_client(key1).ttl(cache.make_and_validate_key(key1)) > 90
        assert float(cache.get(key2).partition(":")[0]) == round(quiet)  # left to expire
        # Not due again until another half TTL has passed; another schema's charger 1 is not ours.
        assert passwords.shared_entries_keep(schema="org_a", charge_point_ids=[1]) == 0
        assert passwords.shared_entries_keep(schema="org_b", charge_point_ids=[1]) == 0
        restart()
        assert check(PASSWORD, encoded, pk=1)
    assert len(pbkdf2_calls) == 2  # the two first checks only


def test_keeping_entries_alive_with_redis_down_changes_nothing(pbkdf2_calls):
    encoded = hash_charger_password(PASSWORD)
    with override_settings(OCPP_AUTH_CACHE_SECONDS=100):
        assert check(PASSWORD, encoded)
        _age_live_entry("org_a", 1, 60)
    with override_settings(CACHES=REDIS_DOWN, OCPP_AUTH_CACHE_SECONDS=100):
        assert passwords.shared_entries_keep(schema="org_a", charge_point_ids=[1]) == 0
        assert check(PASSWORD, encoded)  # still accepted, from this process's own level
    assert len(pbkdf2_calls) == 1
