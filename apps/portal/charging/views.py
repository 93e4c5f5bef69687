"""Charging session pages: the session list with filters, a session's detail, the CSV export."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from apps.accounts.permissions import role_required
from apps.billing.selectors import cdr_original, running_cost
from apps.chargers.models import Location
from apps.charging import selectors
from apps.charging.models import Transaction
from apps.charging.transaction_events import transaction_events
from apps.core import exports
from apps.portal.charging.forms import SessionFilterForm


def _session_filters(request) -> dict:
    return SessionFilterForm(request.GET).filters()


@role_required("transactions.view")
def session_list(request):
    filters = _session_filters(request)
    sessions = Paginator(selectors.session_list(**filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/sessions/list.html",
        {
            "sessions": sessions,
            **filters,
            "statuses": Transaction.Status.choices,
            "locations": Location.objects.order_by("name"),
            "query": query.urlencode(),
        },
    )


@role_required("transactions.view")
def session_detail(request, pk):
    tx = get_object_or_404(Transaction.objects.select_related("charge_point", "id_token"), pk=pk)
    series = selectors.session_energy_series(transaction=tx)

    cdr = cdr_original(transaction_id=tx.pk)
    cost = None if cdr is not None else running_cost(transaction=tx)
    timeline = selectors.session_timeline(transaction=tx)
    idle = selectors.session_idle_seconds(transaction=tx, series=series)

    # OCPP 2.x: the TransactionEvents as the station numbered them (seqNo), gaps shown.
    events = transaction_events(transaction=tx) if tx.is_v2 else []
    return render(
        request,
        "portal/sessions/detail.html",
        {
            "tx": tx,
            "series": series,
            "cdr": cdr,
            "cost": cost,
            "timeline": timeline,
            "idle_seconds": idle,
            "events": events,
        },
    )


@role_required("transactions.view")
def session_export(request):
    """The filtered session list as CSV (streamed: an operator may have years of sessions)."""

    from django.http import StreamingHttpResponse

    class Echo:
        def write(self, value):
            return value

    qs = selectors.session_list(**_session_filters(request))
    writer = exports.csv_writer(Echo())

    def rows():
        yield writer.writerow(
            [
                "session",
                "transaction_id",
                "charger",
                "location",
                "connector",
                "id_tag",
                "status",
                "started_at_utc",
                "stopped_at_utc",
                "duration_s",
                "meter_start_wh",
                "meter_stop_wh",
                "energy_wh",
                "stop_reason",
            ]
        )
        for tx in qs.iterator(chunk_size=2000):
            energy = tx.meter_stop - tx.meter_start if tx.meter_stop is not None else ""
            duration = int((tx.stopped_at - tx.started_at).total_seconds()) if tx.stopped_at else ""
            yield writer.writerow(
                [
                    tx.pk,
                    tx.transaction_id or "",
                    tx.charge_point.identity,
                    tx.charge_point.location.name if tx.charge_point.location else "",
                    tx.connector_id,
                    tx.id_tag,
                    tx.status,
                    tx.started_at.isoformat(),
                    tx.stopped_at.isoformat() if tx.stopped_at else "",
                    duration,
                    tx.meter_start,
                    tx.meter_stop if tx.meter_stop is not None else "",
                    energy,
                    tx.stop_reason,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sessions.csv"'
    return response
