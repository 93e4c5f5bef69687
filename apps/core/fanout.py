"""Beat jobs over organisations: a small beat task queues one task per organisation schema.

Why not one task looping over every schema: one slow or failing organisation held up the
ones after it (and under a time limit would cut them off), one worker did all the work while
the others idled, and every organisation hit the database and its chargers in the same
second. Each schema's task now runs on any worker, with its own time limit, failure and
retries, and a random countdown spreads them over a few seconds (jitter).
"""

from __future__ import annotations

import random

from apps.core.tenancy import tenant_schemas

# However long the interval, organisations start within this many seconds of the beat tick:
# long jobs (hourly, daily) gain nothing from a wider spread and get harder to follow in logs.
MAX_JITTER_S = 30.0


def jitter_for(every_s: float) -> float:
    """The jitter bound of a job run every `every_s` seconds: at most half the interval, so a
    task always starts well before the next tick queues the following one."""
    return min(every_s / 2, MAX_JITTER_S)


def fan_out(task, *, jitter_s: float, expires_s: float | None = None, kwargs: dict | None = None) -> int:
    """Queue `task` once in every organisation's schema, each with a random countdown in
    [0, jitter_s]; return how many were queued. `expires_s` (counted from each task's own start
    time): a task still waiting that long after it was due is dropped, the next tick's replaces
    it. Every organisation is included, suspended ones too: suspension closes the portal and
    the OCPP endpoint, not the housekeeping (retention purges, releasing holds, retries)."""
    schemas = tenant_schemas()
    for schema in schemas:
        countdown = random.uniform(0, jitter_s)
        options = {"expires": countdown + expires_s} if expires_s else {}
        # tenant-schemas-celery runs a task in the schema named by this header (the one current
        # when it is sent, unless given): named here, beat's own schema is public.
        task.apply_async(kwargs=kwargs or {}, countdown=countdown, headers={"_schema_name": schema}, **options)
    return len(schemas)
