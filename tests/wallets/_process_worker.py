"""Runs in a separate process (multiprocessing "spawn"): a fresh interpreter with its own Django
and its own database connection, like a second Celery worker."""


def debit_cdrs(db_name: str, schema: str, cdr_ids: list[int], barrier, results) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"]["NAME"] = db_name  # pytest-django's test database
    from django.db import connection
    from django_tenants.utils import schema_context

    from apps.billing.models import ChargeDetailRecord
    from apps.wallets.services import wallet_debit_for_cdr

    try:
        with schema_context(schema):
            cdrs = list(ChargeDetailRecord.objects.filter(pk__in=cdr_ids))
            barrier.wait(timeout=60)  # every process starts debiting at the same moment
            for cdr in cdrs:
                results.put((os.getpid(), wallet_debit_for_cdr(cdr=cdr).pk))
    except Exception as exc:  # reported to the test instead of dying silently
        results.put((os.getpid(), f"error: {exc!r}"))
    finally:
        connection.close()
