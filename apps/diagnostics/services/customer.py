"""CustomerInformation / NotifyCustomerInformation (N09, N10): what a station holds
about a customer, assembled from its parts."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from apps.diagnostics.models import StationRequest
from apps.diagnostics.services.common import part_store


@transaction.atomic
def customer_information_part(
    *, charge_point_id: int, request_id: int, seq_no: int, tbc: bool, generated_at: datetime | None, data: str
) -> StationRequest:
    """One NotifyCustomerInformation. The parts are pieces of one text, cut wherever the
    station's message size ran out, so they are joined without a separator, in seqNo
    order, once all of them are in."""
    req, completed = part_store(
        charge_point_id=charge_point_id,
        kind=StationRequest.Kind.CUSTOMER_INFORMATION,
        request_id=request_id,
        seq_no=seq_no,
        tbc=tbc,
        payload={"data": data},
        generated_at=generated_at,
    )
    if completed:
        req.document = "".join(p.payload.get("data", "") for p in req.parts.order_by("seq_no"))
        req.save(update_fields=["document"])
    return req
