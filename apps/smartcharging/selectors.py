"""Reads for the smart charging and firmware pages."""

from __future__ import annotations

from collections import Counter

from apps.chargers.models import ChargePoint
from apps.smartcharging import firmware as fw
from apps.smartcharging.models import (
    ChargingLimit,
    ChargingProfile,
    ChargingProfileReport,
    CompositeSchedule,
    EVChargingNeeds,
    FirmwareCampaign,
    FirmwarePublication,
    FirmwareUpdate,
)
from apps.smartcharging.services import composite_chart


def smart_charging_overview(*, charge_point: ChargePoint) -> dict:
    profiles = list(ChargingProfile.objects.filter(charge_point=charge_point).select_related("created_by"))
    composites = []
    seen = set()
    for cs in CompositeSchedule.objects.filter(charge_point=charge_point)[:20]:
        if cs.evse_id in seen:
            continue
        seen.add(cs.evse_id)
        composites.append({"record": cs, "chart": composite_chart(cs.schedule)})
    return {
        "active_profiles": [p for p in profiles if p.status != ChargingProfile.Status.CLEARED],
        "old_profiles": [p for p in profiles if p.status == ChargingProfile.Status.CLEARED][:20],
        "last_report": ChargingProfileReport.objects.filter(charge_point=charge_point).first(),
        "composites": sorted(composites, key=lambda c: c["record"].evse_id),
        "limits": list(ChargingLimit.objects.filter(charge_point=charge_point)[:20]),
        "ev_needs": list(EVChargingNeeds.objects.filter(charge_point=charge_point)[:10]),
        "evse_ids": sorted(
            {c.evse_id for c in charge_point.connectors.all() if c.evse_id} or {1},
        ),
    }


def charger_firmware_overview(*, charge_point: ChargePoint) -> dict:
    updates = list(FirmwareUpdate.objects.filter(charge_point=charge_point).select_related("campaign")[:20])
    fw.firmware_updates_sync_16(updates=updates)
    for u in updates:
        u.phase = fw.phase(u)
    return {
        "updates": updates,
        "publications": list(FirmwarePublication.objects.filter(charge_point=charge_point)[:10]),
    }


PHASES = {
    "pending": "Waiting to be sent",
    "undelivered": "Not delivered",
    "refused": "Refused",
    "in_progress": "In progress",
    "installed": "Installed",
    "failed": "Failed",
}


def campaign_list() -> list[dict]:
    rows = []
    for campaign in FirmwareCampaign.objects.prefetch_related("updates"):
        counts = Counter(fw.phase(u) for u in campaign.updates.all())
        rows.append({"campaign": campaign, "counts": counts, "total": sum(counts.values())})
    return rows


def campaign_detail(*, campaign: FirmwareCampaign) -> dict:
    updates = list(campaign.updates.select_related("charge_point").order_by("charge_point__identity"))
    fw.firmware_updates_sync_16(updates=updates)
    for u in updates:
        u.phase = fw.phase(u)
    counts = Counter(u.phase for u in updates)
    total = len(updates) or 1
    done = counts["installed"] + counts["failed"] + counts["refused"]
    return {
        "updates": updates,
        "counts": [{"phase": p, "label": label, "count": counts[p]} for p, label in PHASES.items()],
        # For the portal's horizontal bar chart partial ({role, count} points).
        "counts_series": [{"role": label, "count": counts[p]} for p, label in PHASES.items()],
        "total": len(updates),
        "done_percent": round(100 * done / total),
        "sent_percent": round(100 * (len(updates) - counts["pending"]) / total),
        # Keep refreshing while anything is still on its way.
        "live": counts["pending"] + counts["in_progress"] > 0,
        "can_retry": counts["undelivered"] > 0,
    }
