"""OCPP 2.x blocks E (TransactionEvent), F (remote control answers), H (reservations),
I (cost: totalCost in the Ended answer; CostUpdated from apps.charging.tasks) and
J (MeterValues)."""

from __future__ import annotations

from ocpp.routing import on

from apps.charging import services as charging
from apps.charging.remote import remote_start_answered
from apps.charging.transaction_events import transaction_event_record
from apps.csms import batching
from apps.csms.handlers.base import to_camel
from apps.csms.handlers.v2.wire import sampled_values_v2, transaction_event_answer
from apps.csms.protocol import FrameError, parse_timestamp

INT64 = 2**63 - 1


class TransactionsMixin:
    def _meter_values_v2(self, values: list[dict]) -> list[dict]:
        parsed = [{**mv, "timestamp": self._ts(mv.get("timestamp"), "meterValue/timestamp")} for mv in values]
        for mv in parsed:
            for sv in mv["sampled_value"]:
                if isinstance(sv.get("value"), bool) or abs(sv.get("value", 0)) > 1e18:
                    raise FrameError(self.errors.property, "sampledValue/value is out of range.")
        return sampled_values_v2(parsed)

    # ------------------------------------------------------------------ E
    @on("TransactionEvent")
    async def on_transaction_event(
        self, event_type: str, timestamp: str, trigger_reason: str, seq_no: int, transaction_info: dict, **kw
    ):
        if not 0 <= seq_no <= INT64:
            raise FrameError(self.errors.property, "seqNo must not be negative.")
        evse = kw.get("evse")
        if evse is not None:
            self._id(evse["id"], "evse/id")
            if evse.get("connector_id") is not None:
                self._id(evse["connector_id"], "evse/connectorId")
        request = {
            "event_type": event_type,
            "timestamp": timestamp,
            "trigger_reason": trigger_reason,
            "seq_no": seq_no,
            "transaction_info": transaction_info,
            **kw,
        }
        outcome = await self.db(
            transaction_event_record,
            charge_point_id=self.ctx.charge_point_id,
            event_type=event_type,
            timestamp=self._ts(timestamp),
            trigger_reason=trigger_reason,
            seq_no=seq_no,
            transaction_info=transaction_info,
            # Kept as the station sent it (camelCase), like the message log.
            payload=to_camel(request),
            offline=bool(kw.get("offline", False)),
            evse=evse,
            id_token=kw.get("id_token"),
            meter_values=self._meter_values_v2(kw.get("meter_value") or []),
            reservation_id=kw.get("reservation_id"),
            number_of_phases_used=kw.get("number_of_phases_used"),
            cable_max_current=kw.get("cable_max_current"),
        )
        return transaction_event_answer(outcome)

    # ------------------------------------------------------------------ J
    @on("MeterValues")
    async def on_meter_values(self, evse_id: int, meter_value: list, **kw):
        # Outside transactions by definition (2.0.1 J01/J02: a running transaction's values
        # travel in TransactionEvent); evseId 0 is the station's main meter. Batched with other
        # chargers' MeterValues; answered only once stored (apps.csms.batching).
        await batching.meter_values_record(
            self._db,
            self.ctx.schema,
            charge_point_id=self.ctx.charge_point_id,
            connector_id=0,
            evse_id=self._id(evse_id, "evseId"),
            meter_values=self._meter_values_v2(meter_value),
        )
        return {}

    # ------------------------------------------------------------------ H
    @on("ReservationStatusUpdate")
    async def on_reservation_status_update(self, reservation_id: int, reservation_update_status: str, **kw):
        await self.db(
            charging.reservation_status_update,
            charge_point_id=self.ctx.charge_point_id,
            reservation_id=reservation_id,
            update_status=reservation_update_status,
        )
        return {}

    async def answered_reserve_now(self, payload: dict, answer: dict) -> None:
        token = payload["idToken"]
        group = payload.get("groupIdToken") or {}
        await self.db(
            charging.reservation_record,
            charge_point_id=self.ctx.charge_point_id,
            reservation_id=payload["id"],
            connector_id=0,
            evse_id=payload.get("evseId"),
            connector_type=payload.get("connectorType", ""),
            id_tag=token["idToken"],
            id_token_type=token.get("type", ""),
            parent_id_tag=group.get("idToken", ""),
            expires_at=parse_timestamp(payload["expiryDateTime"], self.errors, "expiryDateTime"),
            charger_status=answer["status"],
        )

    async def answered_cancel_reservation(self, payload: dict, answer: dict) -> None:
        if answer.get("status") == "Accepted":
            await self.db(
                charging.reservation_cancel,
                charge_point_id=self.ctx.charge_point_id,
                reservation_id=payload["reservationId"],
            )

    # ------------------------------------------------------------------ F
    async def answered_request_start_transaction(self, payload: dict, answer: dict) -> None:
        await self.db(remote_start_answered, charge_point_id=self.ctx.charge_point_id, payload=payload, answer=answer)
