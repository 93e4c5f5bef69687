"""Certificate tasks: CertificateSigned delivery after a SignCertificate, and a daily
look at certificates close to expiry."""

import logging

from celery import shared_task

from apps.certificates.schedule import REPORT_EXPIRING_EVERY_S
from apps.certificates.selectors import certificates_expiring
from apps.certificates.services import issued_certificate_deliver
from apps.core.fanout import fan_out, jitter_for

logger = logging.getLogger(__name__)


@shared_task(name="certificates.deliver_certificate", soft_time_limit=90, time_limit=120, ignore_result=True)
def deliver_certificate(issued_id: int) -> str:
    """Runs in the schema it was queued from (tenant-schemas-celery)."""

    return issued_certificate_deliver(issued_id=issued_id)


@shared_task(name="certificates.report_expiring", soft_time_limit=30, time_limit=60, ignore_result=True)
def report_expiring(days: int = 30) -> int:
    """Beat: report_expiring_in_schema in every organisation."""

    return fan_out(report_expiring_in_schema, jitter_s=jitter_for(REPORT_EXPIRING_EVERY_S), kwargs={"days": days})


@shared_task(name="certificates.report_expiring_in_schema", soft_time_limit=300, time_limit=360, ignore_result=True)
def report_expiring_in_schema(days: int = 30) -> int:
    """Log the organisation's certificates (ours and chargers') that expire within `days`.
    Chargers renew their own certificate a month before expiry (A03); one that did not shows
    up here, and the operator can trigger the renewal from the charger's certificates page."""
    from django.db import connection

    rows = certificates_expiring(days=days)
    for row in rows:
        logger.warning(
            "%s: %s %s expires %s", connection.schema_name, row["kind"], row["name"], row["not_after"].isoformat()
        )
    return len(rows)
