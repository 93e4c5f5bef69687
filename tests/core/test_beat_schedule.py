"""Apps wire their own beat entries (apps/<app>/schedule.py), merged by config/celery.py."""

import importlib
import sys
import types

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.celery import app, app_beat_schedules

# Entry name -> (declaring app, task), as config/celery.py held them inline before.
ENTRIES = {
    "core-heartbeat": ("apps.core", "core.heartbeat"),
    "csms-mark-stale-offline": ("apps.csms", "csms.mark_stale_offline"),
    "csms-purge-message-log": ("apps.csms", "csms.purge_message_log"),
    "fx-fetch-ecb-rates": ("apps.fx", "fx.fetch_ecb_rates"),
    "payments-sweep-failed-captures": ("apps.payments", "payments.sweep_failed_captures"),
    "billing-create-missing-cdrs": ("apps.billing", "billing.create_missing_cdrs"),
    "wallets-stop-exhausted-sessions": ("apps.wallets", "wallets.stop_exhausted_sessions"),
    "certificates-report-expiring": ("apps.certificates", "certificates.report_expiring"),
    "qr-guest-sweep": ("apps.qr", "qr.guest_sweep"),
    "charging-cost-updates": ("apps.charging", "charging.cost_updates"),
    "charging-close-inactive-transactions": ("apps.charging", "charging.close_inactive_transactions"),
}


def test_the_merged_schedule_holds_every_entry_with_its_task():
    app.loader.import_default_modules()  # what a worker does at start: autodiscovers tasks.py
    schedule = app.conf.beat_schedule
    assert {name: entry["task"] for name, entry in schedule.items()} == {
        name: task for name, (_, task) in ENTRIES.items()
    }
    for entry in schedule.values():
        assert entry["task"] in app.tasks
        assert entry["options"]["expires"] > 0


def test_each_entry_comes_from_its_apps_schedule_module():
    schedule = app.conf.beat_schedule
    for name, (owner, _) in ENTRIES.items():
        declared = importlib.import_module(f"{owner}.schedule").BEAT_SCHEDULE
        assert declared[name] is schedule[name], name


def test_the_heartbeat_follows_the_heartbeat_interval_setting():
    entry = app.conf.beat_schedule["core-heartbeat"]
    assert entry["schedule"] == settings.HEARTBEAT_INTERVAL == entry["options"]["expires"]


def test_apps_without_a_schedule_are_skipped_and_a_name_declared_twice_is_refused(monkeypatch):
    for name in ("evzone_fake_a", "evzone_fake_b"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
        schedule = types.ModuleType(f"{name}.schedule")
        schedule.BEAT_SCHEDULE = {"same-name": {"task": f"{name}.t", "schedule": 60.0}}
        monkeypatch.setitem(sys.modules, f"{name}.schedule", schedule)
    assert app_beat_schedules(["apps.portal", "evzone_fake_a"]) == {
        "same-name": {"task": "evzone_fake_a.t", "schedule": 60.0}
    }
    with pytest.raises(ImproperlyConfigured, match="same-name"):
        app_beat_schedules(["evzone_fake_a", "evzone_fake_b"])
