"""Beat jobs over organisations queue one task per organisation schema, with jitter."""

import pytest
from celery import shared_task
from django.db import connection

from apps.core import fanout
from apps.tenants.models import Organization
from config.celery import app

pytestmark = pytest.mark.django_db
RAN: list[str] = []

# Beat task -> the task it queues once per schema.
FAN_OUTS = {
    "csms.mark_stale_offline": "csms.mark_stale_offline_in_schema",
    "csms.purge_message_log": "csms.purge_message_log_in_schema",
    "billing.create_missing_cdrs": "billing.create_missing_cdrs_in_schema",
    "payments.sweep_failed_captures": "payments.sweep_failed_captures_in_schema",
    "wallets.stop_exhausted_sessions": "wallets.stop_exhausted_sessions_in_schema",
    "certificates.report_expiring": "certificates.report_expiring_in_schema",
    "qr.guest_sweep": "qr.guest_sweep_in_schema",
    "charging.cost_updates": "charging.cost_updates_in_schema",
}


@shared_task(name="tests.core.fanout_record")
def fanout_record():
    RAN.append(connection.schema_name)


def _organisation_schemas() -> set[str]:
    return set(Organization.objects.exclude(schema_name="public").values_list("schema_name", flat=True))


class _Recorder:
    """Stands in for a task's apply_async (Celery's seam): records what would be sent."""

    def __init__(self):
        self.calls = []

    def __call__(self, args=None, kwargs=None, **options):
        self.calls.append({"args": args, "kwargs": kwargs, **options})

    @property
    def schemas(self) -> list[str]:
        return [c["headers"]["_schema_name"] for c in self.calls]


@pytest.fixture
def organisations(tenant_a, tenant_b):
    # Suspended organisations keep their housekeeping (fan_out's docstring).
    Organization.objects.filter(pk=tenant_b.pk).update(status=Organization.Status.SUSPENDED)
    schemas = _organisation_schemas()
    assert {tenant_a.schema_name, tenant_b.schema_name} <= schemas and "public" not in schemas
    return schemas


def test_one_task_per_organisation_schema_within_the_jitter(organisations, monkeypatch):
    sent = _Recorder()
    monkeypatch.setattr(fanout_record, "apply_async", sent)
    connection.set_schema_to_public()
    assert fanout.fan_out(fanout_record, jitter_s=12.5, expires_s=60) == len(organisations)
    assert sorted(sent.schemas) == sorted(organisations)  # each exactly once, never public
    for call in sent.calls:
        assert 0 <= call["countdown"] <= 12.5
        assert call["expires"] == pytest.approx(call["countdown"] + 60)
    assert len({c["countdown"] for c in sent.calls}) > 1  # spread, not all at one moment


def test_each_task_runs_in_its_schema(organisations):
    # Eager Celery (test settings) runs each queued task at once, through tenant-schemas-celery.
    RAN.clear()
    connection.set_schema_to_public()
    fanout.fan_out(fanout_record, jitter_s=1)
    assert sorted(RAN) == sorted(organisations)
    assert connection.schema_name == "public"


def test_the_jitter_is_half_the_interval_up_to_30_seconds():
    assert fanout.jitter_for(30) == 15 and fanout.jitter_for(60) == 30 and fanout.jitter_for(86400) == 30


@pytest.mark.parametrize("beat_task", sorted(FAN_OUTS))
def test_every_beat_job_over_organisations_fans_out(beat_task, organisations, monkeypatch):
    app.loader.import_default_modules()
    per_schema = app.tasks[FAN_OUTS[beat_task]]
    sent = _Recorder()
    monkeypatch.setattr(per_schema, "apply_async", sent)
    # The bound itself, to see it is the one its schedule calls for.
    monkeypatch.setattr(fanout.random, "uniform", lambda low, high: high)
    [entry] = [e for e in app.conf.beat_schedule.values() if e["task"] == beat_task]
    connection.set_schema_to_public()

    assert app.tasks[beat_task]() == len(organisations)
    assert sorted(sent.schemas) == sorted(organisations)
    assert {c["countdown"] for c in sent.calls} == {fanout.jitter_for(entry["schedule"])}
