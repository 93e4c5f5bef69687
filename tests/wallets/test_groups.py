"""Group wallets: invitation by e-mail, accept, remove; the shared balance pays members'
sessions and each debit records the member; limits, locations and hours in the authorisation
check; who may top up; members see their own usage, the owner sees all; monthly statements."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import Location
from apps.charging.services import id_token_create
from apps.wallets import groups
from apps.wallets.models import GroupMember, WalletSettings
from apps.wallets.selectors import wallet_authorization
from apps.wallets.services import wallet_debit_for_cdr, wallet_topup_confirm
from tests.wallets.conftest import priced_cdr

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def family(tenant_a, make_user, driver, django_capture_on_commit_callbacks):
    owner = make_user(tenant_a, role=Role.DRIVER, email="olga@example.com")
    kid = driver  # Dora, with card CARD-DORA
    with schema_context(tenant_a.schema_name):
        group = groups.group_wallet_create(owner=owner, name="Family")
        with django_capture_on_commit_callbacks(execute=True):
            member, secret = groups.group_member_invite(
                group=group, email="Dora@Example.com", invited_by=owner, limit_per_day=D("8"), limit_per_month=D("20")
            )
        wallet_topup_confirm(account=group.account, amount=D("50"), currency="EUR", payment_reference="pi_fam")
    return {"owner": owner, "kid": kid, "group": group, "member": member, "secret": secret}


def test_invitation_email_and_accept(in_tenant_a, family, make_user, tenant_a):
    [message] = mail.outbox
    assert message.to == ["dora@example.com"]
    link = re.search(r"https?://\S+/wallets/groups/accept/(\S+)/", message.body)
    assert link and link.group(1) == family["secret"]
    stranger = make_user(tenant_a, role=Role.DRIVER, email="eve@example.com")
    with pytest.raises(PermissionDenied):
        groups.group_member_accept(secret=family["secret"], user=stranger)
    member = groups.group_member_accept(secret=family["secret"], user=family["kid"])
    assert member.status == "active" and member.user == family["kid"]
    with pytest.raises(ValidationError):  # used once
        groups.group_member_accept(secret=family["secret"], user=family["kid"])
    with pytest.raises(PermissionDenied):  # only the owner invites
        groups.group_member_invite(group=family["group"], email="x@example.com", invited_by=family["kid"])


def test_member_sessions_debit_the_group_and_record_the_member(in_tenant_a, family, charger, flat_tariff):
    groups.group_member_accept(secret=family["secret"], user=family["kid"])
    entry = wallet_debit_for_cdr(cdr=priced_cdr(charger, kwh=10))
    group = family["group"]
    group.account.refresh_from_db()
    assert entry.member == family["kid"] and group.account.balance == D("45.00")


def test_limits_locations_and_hours(in_tenant_a, family, charger, flat_tariff):
    WalletSettings.objects.create(min_start_balance=D("1"))
    kid = family["kid"]
    groups.group_member_accept(secret=family["secret"], user=kid)
    ok = wallet_authorization(user=kid)
    assert ok.allowed and ok.available == D("8")  # the day's limit, below the balance
    wallet_debit_for_cdr(cdr=priced_cdr(charger, kwh=16))  # 8.00 today
    assert wallet_authorization(user=kid).reason == "member limit reached"

    member = GroupMember.objects.get(pk=family["member"].pk)
    groups.group_member_update(member=member, changed_by=family["owner"], limit_per_day=None, limit_per_session=D("3"))
    assert wallet_authorization(user=kid).available == D("3")
    home, away = Location.objects.create(name="Home"), Location.objects.create(name="Away")
    groups.group_member_update(member=member, changed_by=family["owner"], allowed_locations=[home])
    assert wallet_authorization(user=kid, location_id=home.pk).allowed
    assert wallet_authorization(user=kid, location_id=away.pk).reason == "location not allowed"
    # 22:00-06:00 Berlin: 23:30 UTC in January is 00:30 local (allowed), 12:00 UTC is not.
    groups.group_member_update(
        member=member, changed_by=family["owner"], allowed_from=dt.time(22), allowed_until=dt.time(6)
    )
    night = dt.datetime(2026, 1, 20, 23, 30, tzinfo=dt.UTC)
    noon = dt.datetime(2026, 1, 20, 12, 0, tzinfo=dt.UTC)
    assert wallet_authorization(user=kid, location_id=home.pk, at=night).allowed
    assert wallet_authorization(user=kid, location_id=home.pk, at=noon).reason == "outside allowed hours"
    with pytest.raises(PermissionDenied):
        groups.group_member_update(member=member, changed_by=kid, limit_per_session=D("100"))


def test_who_may_top_up(in_tenant_a, family, fake_http_topup):
    from apps.payments.services import payment_topup_start

    groups.group_member_accept(secret=family["secret"], user=family["kid"])
    with pytest.raises(PermissionDenied):
        payment_topup_start(account=family["group"].account, amount=D("10"), user=family["kid"])
    member = GroupMember.objects.get(pk=family["member"].pk)
    groups.group_member_update(member=member, changed_by=family["owner"], can_top_up=True)
    payment = payment_topup_start(account=family["group"].account, amount=D("10"), user=family["kid"])
    assert payment.wallet == family["group"].account and payment.user == family["kid"]


@pytest.fixture
def fake_http_topup(fake_http):
    from apps.payments.services import gateway_config_save

    gateway_config_save(provider="stripe", credentials={"secret_key": "sk_test_x", "webhook_secret": "whsec_x"})
    fake_http["stripe"].script += [
        (200, {"id": "pi_t", "object": "payment_intent", "status": "requires_payment_method"})
    ]
    return fake_http


def test_members_see_own_usage_owner_sees_all(tenant_a, family, charger, flat_tariff, make_user, login):
    other = make_user(tenant_a, role=Role.DRIVER, email="max@example.com")
    with schema_context(tenant_a.schema_name):
        groups.group_member_accept(secret=family["secret"], user=family["kid"])
        _, secret = groups.group_member_invite(group=family["group"], email=other.email, invited_by=family["owner"])
        groups.group_member_accept(secret=secret, user=other)
        id_token_create(id_token="CARD-MAX", owner=other)
        wallet_debit_for_cdr(cdr=priced_cdr(charger, kwh=10, n=0))  # Dora 5.00
        wallet_debit_for_cdr(cdr=priced_cdr(charger, kwh=4, n=1, id_tag="CARD-MAX"))  # Max 2.00
        month = dt.date.today().strftime("%Y-%m")
    pk = family["group"].pk
    kid_page = login(tenant_a, family["kid"]).get(f"/wallets/groups/{pk}/").content.decode()
    assert "-5.00 EUR" in kid_page and "-2.00 EUR" not in kid_page
    owner = login(tenant_a, family["owner"])
    owner_page = owner.get(f"/wallets/groups/{pk}/").content.decode()
    assert "-5.00 EUR" in owner_page and "-2.00 EUR" in owner_page and "max@example.com" in owner_page
    statement = owner.get(f"/wallets/groups/{pk}/statement.csv?month={month}&member=max@example.com")
    rows = list(csv.DictReader(io.StringIO(b"".join(statement.streaming_content).decode())))
    # The balance after Max's session counts Dora's earlier one: 50 - 5 - 2.
    assert [(r["amount"], r["balance_after"], r["member"]) for r in rows] == [("-2.00", "43.00", "max@example.com")]
    kid = login(tenant_a, family["kid"])
    assert kid.get(f"/wallets/groups/{pk}/statement.csv?member=max@example.com").status_code == 403
    outsider = login(tenant_a, make_user(tenant_a, role=Role.DRIVER))
    assert outsider.get(f"/wallets/groups/{pk}/").status_code == 404


def test_remove_member_stops_group_payment(tenant_a, family, login):
    with schema_context(tenant_a.schema_name):
        groups.group_member_accept(secret=family["secret"], user=family["kid"])
        member = GroupMember.objects.get(pk=family["member"].pk)
    assert login(tenant_a, family["kid"]).post(f"/wallets/groups/members/{member.pk}/remove/").status_code == 302
    with schema_context(tenant_a.schema_name):
        member.refresh_from_db()
        assert member.status == "removed"
        assert wallet_authorization(user=family["kid"]).reason == "no wallet"
        owner_member = GroupMember.objects.get(group=family["group"], user=family["owner"])
        with pytest.raises(ValidationError):
            groups.group_member_remove(member=owner_member, removed_by=family["owner"])
