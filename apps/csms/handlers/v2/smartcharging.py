"""OCPP 2.x block K (smart charging): what stations report about limits and EV needs,
and what their answers to our profile commands tell us (apps.smartcharging)."""

from __future__ import annotations

from ocpp.routing import on

from apps.csms.handlers.v2.camel import to_wire
from apps.smartcharging import services as sc


class SmartChargingMixin:
    # ------------------------------------------------------------------ station -> CSMS
    @on("ReportChargingProfiles")
    async def on_report_charging_profiles(
        self, request_id: int, charging_limit_source: str, evse_id: int, charging_profile: list, **kw
    ):
        await self.db(
            sc.charging_profiles_report_record,
            charge_point_id=self.ctx.charge_point_id,
            request_id=request_id,
            charging_limit_source=charging_limit_source,
            evse_id=self._id(evse_id, "evseId"),
            profiles=to_wire(charging_profile),
            tbc=bool(kw.get("tbc", False)),
        )
        return {}

    @on("NotifyChargingLimit")
    async def on_notify_charging_limit(self, charging_limit: dict, **kw):
        evse_id = kw.get("evse_id")
        limit = to_wire(charging_limit)
        await self.db(
            sc.charging_limit_record,
            charge_point_id=self.ctx.charge_point_id,
            source=limit["chargingLimitSource"],
            is_grid_critical=limit.get("isGridCritical"),
            evse_id=None if evse_id is None else self._id(evse_id, "evseId"),
            schedules=to_wire(kw.get("charging_schedule") or []),
            extra={k: v for k, v in limit.items() if k not in ("chargingLimitSource", "isGridCritical")},
        )
        return {}

    @on("ClearedChargingLimit")
    async def on_cleared_charging_limit(self, charging_limit_source: str, **kw):
        evse_id = kw.get("evse_id")
        await self.db(
            sc.charging_limit_cleared_record,
            charge_point_id=self.ctx.charge_point_id,
            source=charging_limit_source,
            evse_id=None if evse_id is None else self._id(evse_id, "evseId"),
        )
        return {}

    @on("NotifyEVChargingNeeds")
    async def on_notify_ev_charging_needs(self, evse_id: int, charging_needs: dict, **kw):
        # Accepted = "processed", not "a new schedule follows" (the schema's own words):
        # EVzone stores the needs; the profiles in force stay until an operator or an
        # integration sets new ones. 2.1 answers the same.
        needs = to_wire(charging_needs)
        await self.db(
            sc.ev_charging_needs_record,
            charge_point_id=self.ctx.charge_point_id,
            evse_id=self._id(evse_id, "evseId", minimum=1),
            needs=needs,
            max_schedule_tuples=kw.get("max_schedule_tuples"),
            answer="Accepted",
        )
        return {"status": "Accepted"}

    @on("NotifyEVChargingSchedule")
    async def on_notify_ev_charging_schedule(self, time_base: str, evse_id: int, charging_schedule: dict, **kw):
        self._ts(time_base, "timeBase")
        extra = {
            key: kw[snake]
            for key, snake in (
                ("selectedChargingScheduleId", "selected_charging_schedule_id"),
                ("powerToleranceAcceptance", "power_tolerance_acceptance"),
            )
            if snake in kw
        }
        await self.db(
            sc.ev_charging_schedule_record,
            charge_point_id=self.ctx.charge_point_id,
            evse_id=self._id(evse_id, "evseId", minimum=1),
            time_base=time_base,
            schedule=to_wire(charging_schedule),
            extra=extra,
            answer="Accepted",
        )
        return {"status": "Accepted"}

    @on("PullDynamicScheduleUpdate")
    async def on_pull_dynamic_schedule_update(self, charging_profile_id: int, **kw):
        # OCPP 2.1 only (2.0.1 never routes it). Values for the station's Dynamic profile
        # when EVzone has them, else Rejected with the reason.
        update = await self.db(
            sc.dynamic_schedule_update_for,
            charge_point_id=self.ctx.charge_point_id,
            profile_id=charging_profile_id,
        )
        if update is None:
            return {"status": "Rejected", "status_info": {"reason_code": "UnknownProfile"}}
        # The session camelCases answers and no snake_case key becomes "limit_L2": the
        # per-phase values cannot be sent from here, the totals can.
        return {"status": "Accepted", "schedule_update": {k: v for k, v in update.items() if "_L" not in k}}

    # ------------------------------------------------------------------ answers to our commands
    async def answered_set_charging_profile(self, payload: dict, answer: dict) -> None:
        profile = payload.get("chargingProfile")
        if not isinstance(profile, dict) or "id" not in profile:
            return
        await self.db(
            sc.charging_profile_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            evse_id=payload.get("evseId", 0),
            profile=profile,
            status=answer.get("status", ""),
            status_info=answer.get("statusInfo"),
            protocol=self.subprotocol,
        )

    async def answered_clear_charging_profile(self, payload: dict, answer: dict) -> None:
        if answer.get("status") != "Accepted":
            return
        criteria = payload.get("chargingProfileCriteria") or {}
        await self.db(
            sc.charging_profiles_cleared_record,
            charge_point_id=self.ctx.charge_point_id,
            profile_id=payload.get("chargingProfileId"),
            evse_id=criteria.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
        )

    async def answered_get_charging_profiles(self, payload: dict, answer: dict) -> None:
        await self.db(
            sc.charging_profile_report_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload["requestId"],
            evse_id=payload.get("evseId"),
            criterion=payload.get("chargingProfile") or {},
            status=answer.get("status", ""),
        )

    async def answered_get_composite_schedule(self, payload: dict, answer: dict) -> None:
        await self.db(
            sc.composite_schedule_record,
            charge_point_id=self.ctx.charge_point_id,
            evse_id=payload.get("evseId", 0),
            duration=payload.get("duration", 0),
            charging_rate_unit=payload.get("chargingRateUnit", ""),
            status=answer.get("status", ""),
            schedule=answer.get("schedule"),
            status_info=answer.get("statusInfo"),
        )
