"""The organisations' schemas, and queueing work in the current one after commit.

Beat jobs over organisations fan out from apps.core.fanout."""

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tenants.utils import get_tenant_model, schema_context

logger = logging.getLogger(__name__)


def current_tenant():
    """The organisation (settings.TENANT_MODEL) whose schema the connection is on, or None.

    Inside a request this is the tenant the middleware resolved; inside `schema_context`
    django-tenants only knows the schema name, so look it up. Through get_tenant_model(), so
    apps below apps.tenants (accounts) read their organisation without importing it."""
    model = get_tenant_model()
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, model):
        return tenant
    schema = getattr(connection, "schema_name", None)
    if not schema:
        return None
    return model.objects.filter(schema_name=schema).first()


def tenant_schemas() -> list[str]:
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        return list(
            get_tenant_model()
            .objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
            .values_list("schema_name", flat=True)
        )


def queue_after_commit(task, *args, countdown: float = 0, **kwargs) -> None:
    """task.delay(*args, **kwargs) once the current transaction commits, in the current
    organisation's schema; with `countdown`, that many seconds later. Pinned:
    tenant-schemas-celery queues a task for the schema current when it is sent, and the
    on_commit callback may run after the caller's schema_context has ended. robust: a
    failure to queue is logged and never turns into an error for the caller (e.g. an
    answer to a charger).

    A countdown means "not before the caller's answer is out" (e.g. after a BootNotification
    or SignCertificate answer). Eager Celery (tests, CELERY_TASK_ALWAYS_EAGER) would run the task right here,
    inside the charger's own receive path, where the answers to the task's calls could never
    be read; there the task's body runs in a thread of its own after the countdown instead."""
    from celery import current_app
    from django.db import connection, transaction

    schema = connection.schema_name

    def queue():
        with schema_context(schema):
            if not countdown:
                task.delay(*args, **kwargs)
            elif current_app.conf.task_always_eager:
                threading.Timer(countdown, _run_in_thread, args=(task, schema, args, kwargs)).start()
            else:
                task.apply_async(args=args, kwargs=kwargs, countdown=countdown)

    transaction.on_commit(queue, robust=True)


def _run_in_thread(task, schema: str, args: tuple, kwargs: dict) -> None:
    from django.db import connection

    try:
        with schema_context(schema):
            task(*args, **kwargs)
    except Exception:
        logger.exception("%s failed (eager, in a thread) in %s", task.name, schema)
    finally:
        # The thread's own connection: nothing else would close it.
        connection.close()
