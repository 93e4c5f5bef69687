"""OCPP 2.0.1 / 2.1 blocks C (Authorize with every IdToken type, group and master pass
tokens) and D (local list answers) -- for both versions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.charging.services import id_token_create
from apps.csms.handlers.v2 import V21Session, V201Session
from tests.certificates.ocsp_responder import OcspResponder, closed_port_url
from tests.csms.harness import Harness


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    cp = charge_point_create(identity="CP-AUTH2", password="a-good-charger-password")
    return Harness(cp, request.param)


def authorize(h, token, kind="ISO14443", **extra):
    return h.ok("Authorize", {"idToken": {"idToken": token, "type": kind}, **extra})["idTokenInfo"]


@pytest.mark.parametrize("kind", ["ISO14443", "ISO15693", "eMAID", "Central", "KeyCode", "Local", "MacAddress"])
def test_every_token_type_is_looked_up(h, kind):
    id_token_create(id_token="TOKEN-1", type=kind)
    assert authorize(h, "token-1", kind) == {"status": "Accepted"}  # case-insensitive, like 1.6
    assert authorize(h, "NOT-KNOWN", kind) == {"status": "Unknown"}


def test_no_authorization_needs_no_token(h):
    assert authorize(h, "", "NoAuthorization") == {"status": "Accepted"}


def test_statuses_expiry_and_group(h):
    until = datetime(2031, 1, 1, tzinfo=UTC)
    id_token_create(id_token="CARD", expires_at=until, group_id="FLEET-7")
    id_token_create(id_token="BLOCKED", status="Blocked")
    id_token_create(id_token="OLD", expires_at=datetime.now(UTC) - timedelta(days=1))
    assert authorize(h, "CARD") == {
        "status": "Accepted",
        "cacheExpiryDateTime": "2031-01-01T00:00:00Z",
        "groupIdToken": {"idToken": "FLEET-7", "type": "Central"},
    }
    assert authorize(h, "BLOCKED")["status"] == "Blocked"
    assert authorize(h, "OLD")["status"] == "Expired"


@pytest.fixture
def responder():
    with OcspResponder() as r:
        yield r


def authorize_contract(h, hash_data, emaid="DE-EVZ-C12345678-9"):
    return h.ok("Authorize", {"idToken": {"idToken": emaid, "type": "eMAID"}, "iso15118CertificateHashData": hash_data})


def test_contract_certificate_good_is_accepted_and_cached(h, responder):
    id_token_create(id_token="DE-EVZ-C12345678-9", type="eMAID")
    chain = [responder.hash_data(responder.issue()), responder.hash_data(responder.issue("MO Sub-CA 2"))]
    expected = {"idTokenInfo": {"status": "Accepted"}, "certificateStatus": "Accepted"}
    assert authorize_contract(h, chain) == expected
    assert responder.hits == 2
    assert authorize_contract(h, chain) == expected
    assert responder.hits == 2  # the repeated Authorize was answered from the cache


def test_contract_certificate_revoked_is_invalid(h, responder):
    # C07.FR.16: certificateStatus CertificateRevoked and idTokenInfo.status Invalid.
    id_token_create(id_token="DE-EVZ-C12345678-9", type="eMAID")
    leaf = responder.issue()
    responder.revoke(leaf)
    assert authorize_contract(h, [responder.hash_data(leaf)]) == {
        "idTokenInfo": {"status": "Invalid"},
        "certificateStatus": "CertificateRevoked",
    }


def test_contract_certificate_unknown_forged_and_unreachable(h, responder):
    id_token_create(id_token="DE-EVZ-C12345678-9", type="eMAID")
    stranger = {**responder.hash_data(responder.issue()), "serialNumber": "5eed"}
    assert authorize_contract(h, [stranger]) == {
        "idTokenInfo": {"status": "Invalid"},
        "certificateStatus": "CertChainError",
    }
    down = responder.hash_data(responder.issue(), url=closed_port_url())
    assert authorize_contract(h, [down]) == {
        "idTokenInfo": {"status": "Invalid"},
        "certificateStatus": "NoCertificateAvailable",
    }
    responder.forge = True
    assert authorize_contract(h, [responder.hash_data(responder.issue())]) == {
        "idTokenInfo": {"status": "Invalid"},
        "certificateStatus": "SignatureError",
    }


def test_unreachable_responder_may_be_accepted_by_local_policy(h):
    id_token_create(id_token="DE-EVZ-C12345678-9", type="eMAID")
    down = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a" * 64,
        "issuerKeyHash": "b" * 64,
        "serialNumber": "01",
        "responderURL": closed_port_url(),
    }
    with override_settings(OCPP_OCSP_ACCEPT_UNVERIFIED=True):
        assert authorize_contract(h, [down]) == {"idTokenInfo": {"status": "Accepted"}}


def test_unknown_emaid_is_not_checked_with_the_responder(h, responder):
    answer = authorize_contract(h, [responder.hash_data(responder.issue())], emaid="NOT-KNOWN")
    assert answer == {"idTokenInfo": {"status": "Unknown"}}
    assert responder.hits == 0


def test_prepaid_driver_without_credit_is_no_credit(h, monkeypatch, tenant_a, make_user):
    from apps.accounts.models import Role
    from apps.wallets import hooks as wallets  # the check charging's registry calls

    id_token_create(id_token="PREPAID", owner=make_user(tenant_a, role=Role.DRIVER))

    class Verdict:
        allowed, reason = False, "balance too low"

    monkeypatch.setattr(wallets, "wallet_authorization_for_id_tag", lambda **kw: Verdict())
    assert authorize(h, "PREPAID")["status"] == "NoCredit"


def test_local_list_answers_are_stored(h):
    h.answered("SendLocalList", {"versionNumber": 4, "updateType": "Full"}, {"status": "Accepted"})
    assert ChargePoint.objects.get(pk=h.cp.pk).local_list_version == 4
    h.answered("SendLocalList", {"versionNumber": 5, "updateType": "Differential"}, {"status": "VersionMismatch"})
    assert ChargePoint.objects.get(pk=h.cp.pk).local_list_version == 4
    h.answered("GetLocalListVersion", {}, {"versionNumber": 0})
    assert ChargePoint.objects.get(pk=h.cp.pk).local_list_version == 0
