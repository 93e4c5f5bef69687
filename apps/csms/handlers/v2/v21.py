"""Messages only OCPP 2.1 has that need more than "stored and accepted" (the session's
fallback already keeps BatterySwap, NotifySettlement, NotifyDERAlarm, ReportDERControl,
NotifyPriorityCharging and friends as charger history)."""

from __future__ import annotations

from ocpp.routing import on
from stdnum.eu import vat


class V21Mixin:
    @on("OpenPeriodicEventStream")
    async def on_open_periodic_event_stream(self, constant_stream_data: dict, **kw):
        # The stream's constant part (which monitor, interval); NotifyPeriodicEventStream
        # SENDs then carry only offsets and values, so both are kept under the stream id.
        await self._event(
            "OpenPeriodicEventStream",
            request_id=constant_stream_data["id"],
            status="Open",
            payload=constant_stream_data,
        )
        return {"status": "Accepted"}

    @on("NotifyPeriodicEventStream")
    async def on_notify_periodic_event_stream(self, id: int, pending: int, basetime: str, data: list, **kw):
        await self._event(
            "NotifyPeriodicEventStream",
            request_id=id,
            status=f"{len(data)} values",
            payload={"pending": pending, "basetime": basetime, "data": data},
            timestamp=self._ts(basetime, "basetime"),
        )

    @on("ClosePeriodicEventStream")
    async def on_close_periodic_event_stream(self, id: int, **kw):
        await self._event("ClosePeriodicEventStream", request_id=id, status="Closed")
        return {}

    @on("VatNumberValidation")
    async def on_vat_number_validation(self, vat_number: str, **kw):
        # A driver paying ad hoc asks for an invoice to a company. Without a connection to
        # the EU's VIES service we can vouch for the number's form and check digits only;
        # that is what "Accepted" means here (statusInfo says so).
        answer = {"vat_number": vat_number}
        if kw.get("evse_id") is not None:
            answer["evse_id"] = kw["evse_id"]
        if vat.is_valid(vat_number):
            answer.update(status="Accepted", status_info={"reason_code": "FormatChecked"})
        else:
            answer.update(
                status="Rejected",
                status_info={"reason_code": "InvalidValue", "additional_info": "Not a valid EU VAT number."},
            )
        await self._event("VatNumberValidation", status=answer["status"], info=vat_number)
        return answer
