"""Local authorisation lists: desired content, differentials, versions, the charger's answers.

command_send is replaced by a fake charger at its seam (apps.csms.commands.command_send):
it records each SendLocalList and answers from a queue."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.chargers.models import ChargePoint, ConfigurationKey
from apps.chargers.services import charge_point_create, location_create
from apps.charging import locallists
from apps.charging.locallists import (
    local_auth_list_create,
    local_auth_list_update,
    local_list_desired,
    local_list_differential,
    local_list_push,
    local_lists_token_changed,
)
from apps.charging.models import LocalAuthList, LocalListState
from apps.charging.services import id_token_create, id_token_update
from apps.csms.models import Command

FUTURE = datetime(2031, 1, 1, tzinfo=UTC)


@pytest.fixture
def cp(make_charge_point, in_tenant_a):
    return make_charge_point(identity="LL-1", online=True)


@pytest.fixture
def cards(in_tenant_a):
    return {
        "A": id_token_create(id_token="AAA", group_id="FLEET-1"),
        "B": id_token_create(id_token="BBB", expires_at=FUTURE),
        "X": id_token_create(id_token="XXX", status="Blocked", group_id="FLEET-2"),
        "OLD": id_token_create(id_token="OLD", expires_at=datetime.now(UTC) - timedelta(days=1)),
    }


def test_desired_list_modes_union_and_idtaginfo(cp, cards):
    assert local_list_desired(charge_point=cp).entries == {}
    loc = location_create(name="Depot", address="1 Road", city="Town", country="DE")
    cp.location = loc
    cp.save()
    local_auth_list_create(name="Fleet 1", mode="groups", group_ids=["FLEET-1", " "], locations=[loc])
    assert local_list_desired(charge_point=cp).entries == {"AAA": {"status": "Accepted", "parentIdTag": "FLEET-1"}}
    local_auth_list_create(name="Picked", mode="tokens", tokens=[cards["B"], cards["X"]], charge_points=[cp])
    entries = local_list_desired(charge_point=cp).entries
    assert entries["BBB"] == {"status": "Accepted", "expiryDate": "2031-01-01T00:00:00Z"}
    assert entries["XXX"] == {"status": "Blocked", "parentIdTag": "FLEET-2"}
    assert set(entries) == {"AAA", "BBB", "XXX"}
    every = local_auth_list_create(name="All", mode="all", charge_points=[cp])
    entries = local_list_desired(charge_point=cp).entries
    assert entries["OLD"]["status"] == "Expired"
    # Without refused cards only the currently accepted ones remain (the other lists still add XXX).
    local_auth_list_update(local_list=every, include_refused=False)
    assert "OLD" not in local_list_desired(charge_point=cp).entries


def test_too_long_idtag_is_skipped_and_groups_mode_needs_a_group(cp):
    id_token_create(id_token="X" * 21)
    local_auth_list_create(name="All", charge_points=[cp])
    desired = local_list_desired(charge_point=cp)
    assert desired.entries == {} and desired.skipped == ["X" * 21]
    with pytest.raises(ValidationError):
        local_auth_list_create(name="Empty groups", mode="groups", group_ids=[])


def test_differential_content_includes_removals():
    old = {"A": {"status": "Accepted"}, "B": {"status": "Accepted"}, "C": {"status": "Accepted"}}
    new = {"A": {"status": "Accepted"}, "B": {"status": "Blocked"}, "D": {"status": "Accepted"}}
    assert local_list_differential(old=old, new=new) == [
        {"idTag": "B", "idTagInfo": {"status": "Blocked"}},
        {"idTag": "C"},
        {"idTag": "D", "idTagInfo": {"status": "Accepted"}},
    ]


def test_full_then_differential_versions_and_snapshot(cp, cards, command_bus):
    lst = local_auth_list_create(name="All", charge_points=[cp])
    result = local_list_push(charge_point=cp)
    assert result.status == "accepted" and result.update_type == "Full" and result.version == 1
    assert command_bus.sent[0]["updateType"] == "Full" and command_bus.sent[0]["listVersion"] == 1
    assert [e["idTag"] for e in command_bus.sent[0]["localAuthorizationList"]] == ["AAA", "BBB", "OLD", "XXX"]
    state = LocalListState.objects.get(charge_point=cp)
    assert state.status == "in_sync" and state.version == 1 and set(state.entries) == {"AAA", "BBB", "OLD", "XXX"}
    assert state.last_command.action == "SendLocalList"

    # Nothing changed: nothing sent.
    assert local_list_push(charge_point=cp).status == "unchanged" and len(command_bus.sent) == 1

    id_token_update(token=cards["A"], status="Blocked")
    local_auth_list_update(local_list=lst, mode="tokens", tokens=[cards["A"], cards["B"]])
    result = local_list_push(charge_point=cp)
    assert result.update_type == "Differential" and result.version == 2
    assert command_bus.sent[1]["localAuthorizationList"] == [
        {"idTag": "AAA", "idTagInfo": {"status": "Blocked", "parentIdTag": "FLEET-1"}},
        {"idTag": "OLD"},
        {"idTag": "XXX"},
    ]
    state.refresh_from_db()
    assert state.version == 2 and set(state.entries) == {"AAA", "BBB"}
    # An explicit Full is always possible, with the next version.
    assert local_list_push(charge_point=cp, full=True).version == 3


def test_version_starts_above_what_the_charger_reports(cp, cards, command_bus):
    local_auth_list_create(name="All", charge_points=[cp])
    ChargePoint.objects.filter(pk=cp.pk).update(local_list_version=41)
    assert local_list_push(charge_point=cp).version == 42


def test_version_mismatch_falls_back_to_full_once(cp, cards, command_bus):
    local_auth_list_create(name="All", charge_points=[cp])
    local_list_push(charge_point=cp)
    id_token_update(token=cards["B"], status="Blocked")
    command_bus.answers = ["VersionMismatch", "Accepted"]
    result = local_list_push(charge_point=cp)
    assert [s["updateType"] for s in command_bus.sent] == ["Full", "Differential", "Full"]
    assert [s["listVersion"] for s in command_bus.sent] == [1, 2, 3]
    assert result.status == "accepted" and result.update_type == "Full" and result.version == 3
    state = LocalListState.objects.get(charge_point=cp)
    assert state.status == "in_sync" and state.entries["BBB"]["status"] == "Blocked" and not state.needs_full

    # Mismatch again after the fallback: give up, the next automatic push is Full.
    id_token_update(token=cards["B"], status="Accepted")
    command_bus.answers = ["VersionMismatch", "VersionMismatch"]
    result = local_list_push(charge_point=cp)
    assert result.status == "failed" and result.answer == "VersionMismatch"
    assert [s["updateType"] for s in command_bus.sent[3:]] == ["Differential", "Full"]
    state.refresh_from_db()
    assert state.status == "failed" and state.needs_full and state.last_answer == "VersionMismatch"


@pytest.mark.parametrize(
    ("answer", "status", "last_answer"),
    [("Failed", "failed", "Failed"), ("NotSupported", "failed", "NotSupported"), ("offline", "pending", "offline")],
)
def test_refusals_are_recorded(cp, cards, command_bus, answer, status, last_answer):
    local_auth_list_create(name="All", charge_points=[cp])
    command_bus.answers = [answer]
    result = local_list_push(charge_point=cp)
    assert not result.ok
    state = LocalListState.objects.get(charge_point=cp)
    assert (state.status, state.last_answer, state.version) == (status, last_answer, 0)


def test_max_length_refuses_full_and_splits_differentials(cp, cards, command_bus):
    local_auth_list_create(name="All", charge_points=[cp])
    ConfigurationKey.objects.create(charge_point=cp, key="SendLocalListMaxLength", value="2")
    result = local_list_push(charge_point=cp)
    assert result.status == "refused" and "cannot split a Full update" in result.message and command_bus.sent == []
    assert LocalListState.objects.get(charge_point=cp).last_answer == "refused"

    ConfigurationKey.objects.filter(key="SendLocalListMaxLength").update(value="3")
    ConfigurationKey.objects.create(charge_point=cp, key="LocalAuthListMaxLength", value="10")
    # A full list of 4 > 3: refused; a differential of 4 entries goes in two parts.
    assert local_list_push(charge_point=cp).status == "refused"
    LocalListState.objects.filter(charge_point=cp).update(version=5, needs_full=False, entries={})
    result = local_list_push(charge_point=cp)
    assert result.status == "accepted" and [len(s["localAuthorizationList"]) for s in command_bus.sent] == [3, 1]
    assert [s["listVersion"] for s in command_bus.sent] == [6, 7]
    assert LocalListState.objects.get(charge_point=cp).version == 7

    ConfigurationKey.objects.filter(key="LocalAuthListMaxLength").update(value="3")
    result = local_list_push(charge_point=cp, full=True)
    assert result.status == "refused" and "LocalAuthListMaxLength" in result.message


def test_timeout_makes_the_next_push_full(cp, cards, command_bus):
    local_auth_list_create(name="All", charge_points=[cp])
    local_list_push(charge_point=cp)
    id_token_update(token=cards["A"], status="Blocked")
    command_bus.answers = [Command.Status.TIMEOUT]
    assert local_list_push(charge_point=cp).status == "timeout"
    assert local_list_push(charge_point=cp).update_type == "Full"


def test_concurrent_push_is_refused(cp, cards, command_bus):
    local_auth_list_create(name="All", charge_points=[cp])
    state, _ = LocalListState.objects.get_or_create(charge_point=cp)
    LocalListState.objects.filter(pk=state.pk).update(push_started_at=datetime.now(UTC))
    assert local_list_push(charge_point=cp).status == "busy" and command_bus.sent == []


def test_change_marks_pending_and_queues_push(cp, cards, command_bus, django_capture_on_commit_callbacks):
    local_auth_list_create(name="All", charge_points=[cp])
    local_list_push(charge_point=cp)
    with django_capture_on_commit_callbacks(execute=True):
        id_token_update(token=cards["A"], status="Blocked")
        # What the lead's one-line hook in id_token_update does.
        assert local_lists_token_changed(token=cards["A"]) == [cp.pk]
        assert LocalListState.objects.get(charge_point=cp).status == "pending"
    # The (eager) task pushed the differential after commit.
    assert command_bus.sent[-1]["updateType"] == "Differential"
    assert command_bus.sent[-1]["localAuthorizationList"] == [
        {"idTag": "AAA", "idTagInfo": {"status": "Blocked", "parentIdTag": "FLEET-1"}}
    ]
    assert LocalListState.objects.get(charge_point=cp).status == "in_sync"
    # A label change alters nothing the charger carries: nobody is marked.
    id_token_update(token=cards["B"], label="spare")
    assert local_lists_token_changed(token=cards["B"]) == []


def test_offline_chargers_wait_for_boot(cp, cards, command_bus, django_capture_on_commit_callbacks, monkeypatch):
    ChargePoint.objects.filter(pk=cp.pk).update(online=False)
    with django_capture_on_commit_callbacks(execute=True):
        local_auth_list_create(name="All", charge_points=[cp])
    assert command_bus.sent == [] and LocalListState.objects.get(charge_point=cp).status == "pending"
    # At boot: a push is queued (never inline); it asks the version first, then pushes Full.
    queued = []
    monkeypatch.setattr(locallists, "_queue_push", lambda ids, countdown=0: queued.append((ids, countdown)))
    assert locallists.local_list_boot(charge_point_id=cp.pk)
    assert queued == [([cp.pk], locallists.BOOT_DELAY)]
    assert not locallists.local_list_boot(charge_point_id=cp.pk, registration_status="Pending")
    assert len(queued) == 1
    ChargePoint.objects.filter(pk=cp.pk).update(online=True)
    command_bus.answers = [0, "Accepted"]
    assert locallists.local_list_push_pending(charge_point_ids=[cp.pk], source="boot") == {cp.pk: "accepted"}
    assert [s["action"] for s in command_bus.sent] == ["GetLocalListVersion", "SendLocalList"]
    assert command_bus.sent[1]["updateType"] == "Full"
    # A charger without any list is left alone at boot.
    other = charge_point_create(identity="LL-2", password="a-charger-password-02")
    assert not locallists.local_list_boot(charge_point_id=other.pk)


def test_not_supported_chargers_are_not_pushed_automatically(cp, cards, command_bus):
    local_auth_list_create(name="All", charge_points=[cp])
    command_bus.answers = ["NotSupported"]
    local_list_push(charge_point=cp)
    LocalListState.objects.filter(charge_point=cp).update(status="pending")
    assert locallists.local_list_push_pending(charge_point_ids=[cp.pk]) == {}


def test_only_16_chargers(cp, cards, command_bus):
    ChargePoint.objects.filter(pk=cp.pk).update(protocol_version="2.0.1")
    cp.refresh_from_db()
    with pytest.raises(locallists.LocalListError):
        local_list_push(charge_point=cp)


def test_deleting_a_list_removes_its_cards(cp, cards, command_bus):
    lst = local_auth_list_create(name="All", charge_points=[cp])
    local_list_push(charge_point=cp)
    locallists.local_auth_list_delete(local_list=lst)
    assert not LocalAuthList.objects.exists()
    assert LocalListState.objects.get(charge_point=cp).status == "pending"
    local_list_push(charge_point=cp)
    assert command_bus.sent[-1]["updateType"] == "Differential"
    assert all("idTagInfo" not in e for e in command_bus.sent[-1]["localAuthorizationList"])


def test_boot_finds_a_list_by_charger_by_location_or_by_pushed_state(in_tenant_a, monkeypatch):
    """local_list_boot's one-statement test agrees with local_list_charger_ids on each way
    a charger can carry a list, and never answers for another charger."""
    queued = []
    monkeypatch.setattr(locallists, "_queue_push", lambda ids, countdown=0: queued.append(ids))
    direct, by_location, by_state, bystander = (
        charge_point_create(identity=f"LB-{n}", password=f"a-charger-password-{n:02d}") for n in range(4)
    )
    loc = location_create(name="Depot", address="1 Road", city="Town", country="DE")
    by_location.location = loc
    by_location.save()
    bystander.location = location_create(name="Other", address="2 Road", city="Town", country="DE")
    bystander.save()
    local_auth_list_create(name="Own", charge_points=[direct])
    local_auth_list_create(name="Site", locations=[loc])
    LocalListState.objects.create(charge_point=by_state)
    assert locallists.local_list_charger_ids() == {direct.pk, by_location.pk, by_state.pk}
    for carrier in (direct, by_location, by_state):
        assert locallists.local_list_boot(charge_point_id=carrier.pk)
    assert not locallists.local_list_boot(charge_point_id=bystander.pk)
    assert queued == [[direct.pk], [by_location.pk], [by_state.pk]]
    assert not LocalListState.objects.filter(charge_point=bystander).exists()
