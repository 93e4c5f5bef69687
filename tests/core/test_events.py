"""apps.core.events: delivered after commit, nothing on rollback, one failing receiver isolated."""

from dataclasses import dataclass

import pytest
from django.db import transaction

from apps.core.events import Event, has_subscribers, publish, subscribe, unsubscribe


@dataclass(frozen=True)
class Pinged(Event):
    n: int


@pytest.fixture
def inbox():
    got = []

    def receiver(*, events, schema):
        got.append((tuple(e.n for e in events), schema))

    subscribe(Pinged, receiver, uid="test.inbox")
    yield got
    unsubscribe(Pinged, receiver, uid="test.inbox")


def test_delivered_once_per_publish_after_commit_in_the_schema(
    in_tenant_a, tenant_a, inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish(Pinged(1), Pinged(2))
        assert inbox == []  # not before the commit
    assert len(callbacks) == 1
    assert inbox == [((1, 2), tenant_a.schema_name)]


def test_rolled_back_changes_announce_nothing(in_tenant_a, inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                publish(Pinged(3))
                raise RuntimeError
        except RuntimeError:
            pass
    assert inbox == []


def test_a_failing_receiver_neither_reaches_the_publisher_nor_the_others(
    in_tenant_a, inbox, django_capture_on_commit_callbacks
):
    def broken(*, events, schema):
        raise ValueError("boom")

    subscribe(Pinged, broken, uid="test.broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            publish(Pinged(4))
    finally:
        unsubscribe(Pinged, broken, uid="test.broken")
    assert [n for n, _ in inbox] == [(4,)]


def test_nobody_listening_schedules_nothing(in_tenant_a, django_capture_on_commit_callbacks):
    assert not has_subscribers(Pinged)
    with django_capture_on_commit_callbacks() as callbacks:
        publish(Pinged(5))
    assert callbacks == []
