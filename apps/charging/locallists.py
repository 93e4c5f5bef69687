"""Local authorisation lists (OCPP 1.6 Local Auth List Management profile, OCPP 2.x block D).

Operators define `LocalAuthList`s (all cards / cards of chosen groups / chosen cards) and
assign them to chargers or locations; a charger carries the union of its lists. EVzone
pushes that content with SendLocalList (Full or Differential) and remembers, per charger,
the version and content the charger accepted (`LocalListState`), apart from the version
the charger itself reports (`ChargePoint.local_list_version`).

After a change (a card blocked, a list edited) the affected chargers are marked pending
and a Celery task pushes differentials to the online ones; offline chargers get theirs
when they next boot (`local_list_boot`).

OCPP 2.x carries the same content in another shape (idToken {idToken, type} +
idTokenInfo, versionNumber) and lets a list of any length through: the station's
LocalAuthListCtrlr ItemsPerMessage / BytesPerMessage (from the device model, defaults
when unknown) split a Full update into a Full first part and Differential parts, each a
version of its own. `_Shape` holds the differences.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.chargers.models import ChargePoint, ConfigurationKey, ProtocolVersion
from apps.charging.models import IdToken, LocalAuthList, LocalListState
from apps.core.tenancy import queue_after_commit
from apps.core.timefmt import iso_utc
from apps.csms.commands import InvalidCommand, command_send
from apps.csms.models import Command
from apps.devicemodel.models import VariableAttribute

log = logging.getLogger(__name__)

FULL, DIFFERENTIAL = "Full", "Differential"
# 1.6 idTag and parentIdTag are CiString20.
MAX_ID_TAG = 20
# idToken length by protocol (2.0.1 IdTokenType.idToken: 36, 2.1: 255).
MAX_ID_TOKEN = {ProtocolVersion.OCPP16: MAX_ID_TAG, ProtocolVersion.OCPP201: 36, ProtocolVersion.OCPP21: 255}
# 2.x: LocalAuthListCtrlr limits when the station's device model does not tell them. Small
# enough for any station; a long list only costs a few more round trips.
V2_DEFAULT_ITEMS = 50
V2_DEFAULT_BYTES = 16000
# A push holding the claim longer than this died with its process; let the next one in.
PUSH_CLAIM_TTL = timedelta(minutes=5)
# A list that changes while it is being pushed is pushed again, at most this many times.
MAX_ROUNDS = 3
# The BootNotification answer must reach the charger before we send it anything.
BOOT_DELAY = 3.0


class LocalListError(Exception):
    """A push EVzone refuses to make (the charger's limits, its protocol)."""


# --------------------------------------------------------------------------- reads


@dataclass
class DesiredList:
    entries: dict[str, dict]  # idTag -> idTagInfo (camelCase, as on the wire)
    skipped: list[str] = field(default_factory=list)  # tokens too long for a 1.6 idTag


def id_tag_info_16(*, token: IdToken, now: datetime) -> dict:
    """idTagInfo for one card, with the verdict Authorize would give (apps.charging.selectors.id_token_info)."""
    status = token.status
    if status == IdToken.Status.ACCEPTED and token.expires_at is not None and token.expires_at <= now:
        status = IdToken.Status.EXPIRED
    info = {"status": status}
    if token.expires_at is not None:
        info["expiryDate"] = iso_utc(token.expires_at)
    if token.group_id:
        # Truncated as the Authorize answers truncate it (apps.csms.handlers.v16.id_tag_info).
        info["parentIdTag"] = token.group_id[:MAX_ID_TAG]
    return info


def local_auth_lists_for(*, charge_point: ChargePoint):
    q = Q(charge_points=charge_point)
    if charge_point.location_id:
        q |= Q(locations=charge_point.location_id)
    return LocalAuthList.objects.filter(q).distinct().order_by("name")


def _list_filter(lst: LocalAuthList, now: datetime) -> Q:
    if lst.mode == LocalAuthList.Mode.ALL:
        q = Q(pk__isnull=False)
    elif lst.mode == LocalAuthList.Mode.GROUPS:
        groups = [g for g in (lst.group_ids or []) if g]
        q = Q(group_id__in=groups) if groups else Q(pk__in=[])
    else:
        q = Q(pk__in=lst.tokens.values("pk"))
    if not lst.include_refused:
        q &= Q(status=IdToken.Status.ACCEPTED) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    return q


def id_token_info_2x(*, token: IdToken, now: datetime) -> dict:
    """What a 2.x list keeps per card: the idToken type and the IdTokenInfoType that
    Authorize would answer (apps.csms.handlers.v2.wire.id_token_info_v2)."""
    status = token.status
    if status == IdToken.Status.ACCEPTED and token.expires_at is not None and token.expires_at <= now:
        status = IdToken.Status.EXPIRED
    entry = {"type": token.type, "status": status}
    if token.expires_at is not None:
        entry["cacheExpiryDateTime"] = iso_utc(token.expires_at)
    if token.group_id:
        entry["groupIdToken"] = {"idToken": token.group_id[:36], "type": "Central"}
    return entry


@dataclass(frozen=True)
class _Shape:
    """SendLocalList of one protocol. `entries` map a card to what the charger keeps for it:
    1.6 the idTagInfo, 2.x {"type", **idTokenInfo}."""

    v2: bool

    @property
    def version_field(self) -> str:
        return "versionNumber" if self.v2 else "listVersion"

    def entry(self, tag: str, value: dict) -> dict:
        if not self.v2:
            return {"idTag": tag, "idTagInfo": value}
        info = {k: v for k, v in value.items() if k != "type"}
        return {"idToken": {"idToken": tag, "type": value["type"]}, "idTokenInfo": info}

    def removal(self, tag: str, old: dict) -> dict:
        # Differential: an entry without its info removes the card (1.6 5.15, 2.0.1 D01).
        return {"idToken": {"idToken": tag, "type": old["type"]}} if self.v2 else {"idTag": tag}

    def key(self, entry: dict) -> str:
        return entry["idToken"]["idToken"] if self.v2 else entry["idTag"]

    def value(self, entry: dict) -> dict | None:
        if self.v2:
            return {"type": entry["idToken"]["type"], **entry["idTokenInfo"]} if "idTokenInfo" in entry else None
        return entry.get("idTagInfo")


SHAPE_16, SHAPE_2X = _Shape(v2=False), _Shape(v2=True)


def _shape(charge_point: ChargePoint) -> _Shape:
    if charge_point.protocol_version == ProtocolVersion.OCPP16:
        return SHAPE_16
    if charge_point.is_ocpp2:
        return SHAPE_2X
    raise LocalListError(f"Local lists cannot be pushed over {charge_point.protocol_version!r}.")


def local_list_desired(*, charge_point: ChargePoint, now: datetime | None = None) -> DesiredList:
    """What the charger should carry: the union of its lists, one idTagInfo (1.6) or
    type + idTokenInfo (2.x) per card."""
    now = now or timezone.now()
    lists = list(local_auth_lists_for(charge_point=charge_point))
    if not lists:
        return DesiredList(entries={})
    q = Q(pk__in=[])
    for lst in lists:
        q |= _list_filter(lst, now)
    v2 = charge_point.is_ocpp2
    limit = MAX_ID_TOKEN.get(charge_point.protocol_version, MAX_ID_TAG)
    desired = DesiredList(entries={})
    for token in IdToken.objects.filter(q).order_by("id_token"):
        if len(token.id_token) > limit:
            desired.skipped.append(token.id_token)
            continue
        if v2:
            desired.entries[token.id_token] = id_token_info_2x(token=token, now=now)
        else:
            desired.entries[token.id_token] = id_tag_info_16(token=token, now=now)
    return desired


def local_list_differential(*, old: dict, new: dict, shape: _Shape = SHAPE_16) -> list[dict]:
    """SendLocalList entries turning `old` into `new`: changed and added cards with their
    info, removed cards without one (an entry without info is deleted)."""
    entries = [shape.entry(tag, info) for tag, info in new.items() if old.get(tag) != info]
    entries += [shape.removal(tag, info) for tag, info in old.items() if tag not in new]
    return sorted(entries, key=shape.key)


def local_list_limits(*, charge_point: ChargePoint) -> tuple[int | None, int | None]:
    """(SendLocalListMaxLength, LocalAuthListMaxLength) from the configuration as last read; None when unknown."""
    values = dict(
        ConfigurationKey.objects.filter(
            charge_point=charge_point, key__in=("SendLocalListMaxLength", "LocalAuthListMaxLength")
        ).values_list("key", "value")
    )

    def number(key):
        try:
            value = int(str(values.get(key, "")).strip())
        except ValueError:
            return None
        return value if value >= 0 else None

    return number("SendLocalListMaxLength"), number("LocalAuthListMaxLength")


def local_list_limits_v2(*, charge_point: ChargePoint) -> tuple[int, int, int | None]:
    """(ItemsPerMessage, BytesPerMessage, Entries) of LocalAuthListCtrlr from the station's
    device model as last reported; defaults for the first two when unknown."""
    values: dict = {}
    try:
        values = dict(
            VariableAttribute.objects.filter(
                variable__component__charge_point=charge_point,
                variable__component__name__iexact="LocalAuthListCtrlr",
                variable__name__in=("ItemsPerMessage", "BytesPerMessage", "Entries"),
                type="Actual",
            ).values_list("variable__name", "value")
        )
    except Exception:  # the device model is optional (and may be mid-migration): defaults
        log.debug("no device model limits for %s", charge_point.identity, exc_info=True)

    def number(key):
        try:
            value = int(str(values.get(key, "")).strip())
        except ValueError:
            return None
        return value if value > 0 else None

    return (
        number("ItemsPerMessage") or V2_DEFAULT_ITEMS,
        number("BytesPerMessage") or V2_DEFAULT_BYTES,
        number("Entries"),
    )


def _split_v2(entries: list[dict], *, items: int, size: int) -> list[list[dict]]:
    """Parts of at most `items` entries whose whole SendLocalList frame stays within `size` bytes."""
    import json

    def compact(value) -> int:
        return len(json.dumps(value, separators=(",", ":")))

    base = compact([2, "x" * 36, "SendLocalList", {"versionNumber": 2**31 - 1, "updateType": DIFFERENTIAL}]) + 30
    parts: list[list[dict]] = []
    current: list[dict] = []
    used = base
    for entry in entries:
        cost = compact(entry) + 1
        if current and (len(current) >= items or used + cost > size):
            parts.append(current)
            current, used = [], base
        current.append(entry)
        used += cost
    if current:
        parts.append(current)
    return parts


def local_list_state_get(*, charge_point: ChargePoint) -> LocalListState | None:
    return LocalListState.objects.filter(charge_point=charge_point).select_related("last_command").first()


def local_list_overview(*, charge_point: ChargePoint) -> dict:
    """Everything the charger's local-list page shows."""
    desired = local_list_desired(charge_point=charge_point)
    state = local_list_state_get(charge_point=charge_point)
    pushed = state.entries if state else {}
    if charge_point.protocol_version == ProtocolVersion.OCPP16:
        send_max, list_max = local_list_limits(charge_point=charge_point)
        shape = SHAPE_16
    else:
        send_max, _, list_max = local_list_limits_v2(charge_point=charge_point)
        shape = SHAPE_2X
    changes = local_list_differential(old=pushed, new=desired.entries, shape=shape)
    rows = []
    for tag in sorted(set(desired.entries) | set(pushed)):
        rows.append({"id_tag": tag, "desired": desired.entries.get(tag), "pushed": pushed.get(tag)})
    return {
        "lists": list(local_auth_lists_for(charge_point=charge_point)),
        "desired": desired,
        "state": state,
        "rows": rows,
        "changes": changes,
        "send_max": send_max,
        "list_max": list_max,
        "reported_version": charge_point.local_list_version,
    }


def _charge_point_ids_of(lst: LocalAuthList) -> set[int]:
    ids = set(lst.charge_points.values_list("pk", flat=True))
    ids |= set(ChargePoint.objects.filter(location__in=lst.locations.all()).values_list("pk", flat=True))
    return ids


@functools.cache
def _list_carriers_sql() -> str:
    """The chargers carrying a list, as plain EXISTS tests per charger: the queryset's three
    LEFT JOINs cost more to compile than to run, and every BootNotification of a storm asks."""
    qn = connection.ops.quote_name
    direct = LocalAuthList.charge_points.through._meta
    by_location = LocalAuthList.locations.through._meta
    charger = ChargePoint._meta
    state = LocalListState._meta
    pk = f"c.{qn(charger.pk.column)}"
    return (
        f"SELECT {pk} FROM {qn(charger.db_table)} c WHERE (EXISTS (SELECT 1 FROM {qn(direct.db_table)} m"
        f" WHERE m.{qn(direct.get_field('chargepoint').column)} = {pk})"
        f" OR EXISTS (SELECT 1 FROM {qn(by_location.db_table)} m"
        f" WHERE m.{qn(by_location.get_field('location').column)} = c.{qn(charger.get_field('location').column)})"
        f" OR EXISTS (SELECT 1 FROM {qn(state.db_table)} s"
        f" WHERE s.{qn(state.get_field('charge_point').column)} = {pk}))"
    )


def local_list_charger_ids(*, charge_point_ids: Iterable[int] | None = None) -> set[int]:
    """Chargers whose list may change when a card does: those with a list (directly or
    through their location) or a pushed state. Optionally only among `charge_point_ids`."""
    sql, params = _list_carriers_sql(), []
    if charge_point_ids is not None:
        sql += f" AND c.{connection.ops.quote_name(ChargePoint._meta.pk.column)} = ANY(%s::bigint[])"
        params = [list(charge_point_ids)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


# --------------------------------------------------------------------------- change tracking


def local_lists_mark_changed(*, charge_point_ids: Iterable[int]) -> list[int]:
    """Mark the chargers whose desired list now differs from what they accepted as pending
    and queue a push after commit. Returns the ids marked pending."""
    pending = []
    for cp in ChargePoint.objects.filter(pk__in=list(charge_point_ids)):
        desired = local_list_desired(charge_point=cp).entries
        state = LocalListState.objects.filter(charge_point=cp).first()
        if state is None:
            if not desired:
                continue
            state, _ = LocalListState.objects.get_or_create(charge_point=cp)
        # Always bump: a push in flight computed its content before this change and must
        # not declare the charger in sync (it pushes again instead).
        differs = state.needs_full or desired != state.entries
        update = {"generation": F("generation") + 1}
        if differs:
            update["status"] = LocalListState.Status.PENDING
            pending.append(cp.pk)
        LocalListState.objects.filter(pk=state.pk).update(**update)
    if pending:
        _queue_push(pending)
    return pending


def local_lists_token_changed(*, token: IdToken | None = None) -> list[int]:
    """Call after a card was created, changed (status, expiry, group) or deleted."""
    return local_lists_mark_changed(charge_point_ids=local_list_charger_ids())


def _queue_push(charge_point_ids: list[int], countdown: float = 0) -> None:
    """Queue local_list_push_pending after commit, one task per charger: each push waits
    for its charger's answer, and one slow charger must not hold up the others. With a
    countdown (at boot), the push checks every listed charger, pending or not (source "boot")."""
    from apps.charging.tasks import local_list_push_pending

    extra = {"source": "boot"} if countdown else {}
    for cp_id in sorted(charge_point_ids):
        queue_after_commit(local_list_push_pending, [cp_id], countdown=countdown, **extra)


def local_list_boot(*, charge_point_id: int, registration_status: str = "Accepted") -> bool:
    """For the BootNotification handler: after an Accepted boot, queue a push a few
    seconds later when the charger carries a list. Never pushes inline (the handler runs
    in the charger's receive path)."""
    # A Pending or Rejected charger may not be sent anything but what the CSMS needs to accept it.
    if registration_status != "Accepted" or not local_list_charger_ids(charge_point_ids=[charge_point_id]):
        return False
    LocalListState.objects.get_or_create(charge_point_id=charge_point_id)
    _queue_push([charge_point_id], countdown=BOOT_DELAY)
    return True


# --------------------------------------------------------------------------- list management


def _list_clean(lst: LocalAuthList) -> None:
    lst.group_ids = sorted({str(g).strip() for g in (lst.group_ids or []) if str(g).strip()})
    if lst.mode == LocalAuthList.Mode.GROUPS and not lst.group_ids:
        raise ValidationError({"group_ids": "Choose at least one group."})
    lst.full_clean()


@transaction.atomic
def local_auth_list_create(
    *,
    name: str,
    mode: str = LocalAuthList.Mode.ALL,
    group_ids: list[str] | None = None,
    include_refused: bool = True,
    tokens: Iterable[IdToken] = (),
    charge_points: Iterable[ChargePoint] = (),
    locations: Iterable = (),
) -> LocalAuthList:
    lst = LocalAuthList(name=name, mode=mode, group_ids=list(group_ids or []), include_refused=include_refused)
    _list_clean(lst)
    lst.save()
    lst.tokens.set(tokens)
    lst.charge_points.set(charge_points)
    lst.locations.set(locations)
    local_lists_mark_changed(charge_point_ids=_charge_point_ids_of(lst))
    return lst


@transaction.atomic
def local_auth_list_update(*, local_list: LocalAuthList, **fields) -> LocalAuthList:
    simple = {"name", "mode", "group_ids", "include_refused"}
    related = {"tokens", "charge_points", "locations"}
    for name in fields:
        if name not in simple | related:
            raise ValidationError({name: "This field cannot be changed."})
    # Chargers that lose the list need a differential too.
    before = _charge_point_ids_of(local_list)
    for name in simple & fields.keys():
        setattr(local_list, name, fields[name])
    _list_clean(local_list)
    local_list.save()
    for name in related & fields.keys():
        getattr(local_list, name).set(fields[name])
    local_lists_mark_changed(charge_point_ids=before | _charge_point_ids_of(local_list))
    return local_list


@transaction.atomic
def local_auth_list_delete(*, local_list: LocalAuthList) -> None:
    before = _charge_point_ids_of(local_list)
    local_list.delete()
    local_lists_mark_changed(charge_point_ids=before)


# --------------------------------------------------------------------------- pushing


@dataclass
class PushResult:
    # accepted | unchanged | failed | refused | offline | timeout | error | busy
    status: str
    message: str = ""
    update_type: str = ""
    version: int | None = None
    answer: str = ""  # the charger's SendLocalList status, or the CALLERROR code
    commands: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("accepted", "unchanged")


def local_list_push(
    *,
    charge_point: ChargePoint,
    full: bool | None = None,
    user=None,
    source: str = "local-list",
    timeout: float = 30,
    reported_version: int | None = None,
) -> PushResult:
    """Bring the charger's local list up to date with SendLocalList (sync; waits for the
    answer). full: True = Full, False = Differential, None = Differential unless the
    charger's copy is unknown. A Differential answered VersionMismatch is retried once as
    Full. Runs in the current tenant schema, outside any long transaction of the caller."""
    _shape(charge_point)  # refuses a protocol without local lists
    state, _ = LocalListState.objects.get_or_create(charge_point=charge_point)
    claimed_at = timezone.now()
    # One push per charger at a time: two concurrent pushes would race on listVersion.
    claimed = (
        LocalListState.objects.filter(pk=state.pk)
        .filter(Q(push_started_at__isnull=True) | Q(push_started_at__lt=claimed_at - PUSH_CLAIM_TTL))
        .update(push_started_at=claimed_at)
    )
    if not claimed:
        return PushResult(status="busy", message="A push to this charger is already running.")
    try:
        result = None
        for _ in range(MAX_ROUNDS):
            state.refresh_from_db()
            generation = state.generation
            result = _push_once(
                charge_point=charge_point,
                state=state,
                full=full,
                user=user,
                source=source,
                timeout=timeout,
                reported_version=reported_version,
            )
            if not result.ok:
                return result
            if LocalListState.objects.filter(pk=state.pk, generation=generation).update(
                status=LocalListState.Status.IN_SYNC
            ):
                return result
            # The list changed while we pushed: the next round sends what changed since.
            full, reported_version = None, None
        return result
    finally:
        LocalListState.objects.filter(pk=state.pk, push_started_at=claimed_at).update(push_started_at=None)


def _record(state: LocalListState, **fields) -> None:
    fields.setdefault("last_attempt_at", timezone.now())
    for name, value in fields.items():
        setattr(state, name, value)
    LocalListState.objects.filter(pk=state.pk).update(**fields)


def _push_once(*, charge_point, state, full, user, source, timeout, reported_version) -> PushResult:
    charge_point.refresh_from_db(fields=["local_list_version", "online", "protocol_version"])
    shape = _shape(charge_point)
    reported = charge_point.local_list_version if reported_version is None else reported_version
    desired = local_list_desired(charge_point=charge_point).entries
    if shape.v2:
        items_max, bytes_max, list_max = local_list_limits_v2(charge_point=charge_point)
        send_max = None
    else:
        send_max, list_max = local_list_limits(charge_point=charge_point)
    if list_max is not None and len(desired) > list_max:
        limit_name = "LocalAuthListCtrlr.Entries" if shape.v2 else "LocalAuthListMaxLength"
        message = (
            f"The list has {len(desired)} cards; this charger holds at most {list_max} ({limit_name}). "
            "Shorten the lists assigned to it."
        )
        _record(state, status=LocalListState.Status.FAILED, last_answer="refused", last_message=message)
        return PushResult(status="refused", message=message)

    if full is None:
        full = state.needs_full or state.version <= 0 or (reported is not None and reported != state.version)
    # Both kinds carry a version above anything the charger or we have seen: a
    # Differential must exceed the charger's version, and a Full one should too.
    version = max(state.version, reported or 0) + 1
    fallback_used = False
    commands = []

    def send(update_type: str, entries: list[dict], list_version: int):
        payload = {shape.version_field: list_version, "updateType": update_type}
        if entries or not shape.v2:
            # 2.x schemas want at least one item when the list is there at all.
            payload["localAuthorizationList"] = entries
        try:
            result = command_send(
                charge_point=charge_point,
                action="SendLocalList",
                payload=payload,
                user=user,
                timeout=timeout,
                source=source,
            )
        except InvalidCommand as exc:
            return None, str(exc)
        commands.append(result.command)
        return result, ""

    while True:
        if full and shape.v2:
            entries = [shape.entry(tag, info) for tag, info in sorted(desired.items())]
            # 2.x: a Full first part, the rest as Differential parts (each its own version).
            chunks = _split_v2(entries, items=items_max, size=bytes_max) or [[]]
        elif full:
            entries = [shape.entry(tag, info) for tag, info in sorted(desired.items())]
            if send_max is not None and len(entries) > send_max:
                message = (
                    f"A Full update would carry {len(entries)} cards; this charger takes at most {send_max} "
                    "per SendLocalList (SendLocalListMaxLength), and OCPP 1.6 cannot split a Full update."
                )
                _record(state, status=LocalListState.Status.FAILED, last_answer="refused", last_message=message)
                return PushResult(status="refused", message=message, update_type=FULL, commands=commands)
            chunks = [entries]
        else:
            changes = local_list_differential(old=state.entries, new=desired, shape=shape)
            if not changes:
                _record(
                    state, last_message="Nothing changed since the last push.", last_attempt_at=state.last_attempt_at
                )
                return PushResult(status="unchanged", message="The charger already carries this list.")
            if shape.v2:
                chunks = _split_v2(changes, items=items_max, size=bytes_max)
            else:
                size = send_max if send_max else len(changes)
                if size <= 0:
                    size = len(changes)
                # Unlike a Full update, a differential can be split: each part is a version of its own.
                chunks = [changes[i : i + size] for i in range(0, len(changes), size)]

        update_type = FULL if full else DIFFERENTIAL
        for index, chunk in enumerate(chunks):
            part_type = DIFFERENTIAL if index else update_type
            result, invalid = send(part_type, chunk, version)
            if result is None:
                _record(state, status=LocalListState.Status.FAILED, last_answer="refused", last_message=invalid)
                return PushResult(status="refused", message=invalid, update_type=update_type, commands=commands)
            base = {"last_update_type": update_type, "last_command": result.command}
            if result.status == Command.Status.OFFLINE:
                message = "The charger is not connected; it gets the list when it next boots."
                _record(
                    state, status=LocalListState.Status.PENDING, last_answer="offline", last_message=message, **base
                )
                return PushResult("offline", message, update_type, version, "", commands)
            if result.status == Command.Status.TIMEOUT:
                # It may have applied the list or not: only a Full update can tell it what is true.
                message = "No answer in time; the next push is a Full update."
                _record(
                    state,
                    status=LocalListState.Status.FAILED,
                    needs_full=True,
                    last_answer="timeout",
                    last_message=message,
                    **base,
                )
                return PushResult("timeout", message, update_type, version, "", commands)
            if result.status == Command.Status.ERROR or result.schema_error:
                code = result.error.get("code", "") if result.error else "InvalidAnswer"
                message = result.error.get("description", "") if result.error else result.schema_error
                message = f"The charger answered with an error ({code}): {message}".strip()
                _record(state, status=LocalListState.Status.FAILED, last_answer=code[:20], last_message=message, **base)
                return PushResult("error", message, update_type, version, code, commands)
            answer = (result.response or {}).get("status", "")
            if answer == "Accepted":
                if full and shape.v2:
                    # The charger now carries the parts sent so far of the full list.
                    snapshot = {} if index == 0 else dict(state.entries)
                    for entry in chunk:
                        snapshot[shape.key(entry)] = shape.value(entry)
                elif full:
                    snapshot = dict(desired)
                else:
                    snapshot = dict(state.entries)
                    for entry in chunk:
                        value = shape.value(entry)
                        if value is not None:
                            snapshot[shape.key(entry)] = value
                        else:
                            snapshot.pop(shape.key(entry), None)
                now = timezone.now()
                _record(
                    state,
                    version=version,
                    entries=snapshot,
                    # A split Full update is only whole once its last part is in.
                    needs_full=bool(full and shape.v2 and index < len(chunks) - 1),
                    last_answer=answer,
                    last_message=f"{update_type} update accepted as version {version}.",
                    last_success_at=now,
                    last_attempt_at=now,
                    **base,
                )
                version += 1
                continue
            if answer == "VersionMismatch" and not full and not fallback_used:
                # 1.6: the charger's version is not the one our differential builds on;
                # replace its list altogether, once.
                fallback_used, full = True, True
                _record(
                    state,
                    needs_full=True,
                    last_answer=answer,
                    last_message="VersionMismatch; retrying as a Full update.",
                    **base,
                )
                break
            messages = {
                "Failed": "The charger could not update its list (2.x: or has LocalAuthListCtrlr disabled).",
                "NotSupported": "The charger does not support local lists (or has LocalAuthListEnabled off).",
                "VersionMismatch": "The charger refused the list version.",
            }
            message = messages.get(answer, f"Unexpected answer {answer!r}.")
            _record(
                state,
                status=LocalListState.Status.FAILED,
                needs_full=True,
                last_answer=answer[:20],
                last_message=message,
                **base,
            )
            return PushResult("failed", message, update_type, version, answer, commands)
        else:
            return PushResult("accepted", state.last_message, update_type, version - 1, "Accepted", commands)
        version = max(state.version, reported or 0, version) + 1


def local_list_push_pending(*, charge_point_ids: Iterable[int] | None = None, source: str = "task") -> dict[int, str]:
    """Push to the online chargers among `charge_point_ids` (all when None) whose list is
    pending (at boot: every one). A charger that said NotSupported is left to an operator."""
    states = LocalListState.objects.exclude(last_answer="NotSupported")
    if source != "boot":
        # At boot every charger with a list is checked: it may have lost its list.
        states = states.filter(status=LocalListState.Status.PENDING)
    if charge_point_ids is not None:
        states = states.filter(charge_point_id__in=list(charge_point_ids))
    outcome = {}
    for state in states.select_related("charge_point"):
        cp = state.charge_point
        if not cp.online or cp.protocol_version not in MAX_ID_TOKEN:
            continue
        reported = None
        if source == "boot":
            reported = _ask_version(cp)
        try:
            outcome[cp.pk] = local_list_push(charge_point=cp, source=source, reported_version=reported).status
        except LocalListError as exc:
            outcome[cp.pk] = "refused"
            log.info("local list push to %s refused: %s", cp.identity, exc)
    return outcome


def _ask_version(cp: ChargePoint) -> int | None:
    """GetLocalListVersion: a charger that lost its list (factory reset) reports 0 and gets a Full update."""

    result = command_send(charge_point=cp, action="GetLocalListVersion", payload={}, timeout=10, source="boot")
    field = "listVersion" if cp.protocol_version == ProtocolVersion.OCPP16 else "versionNumber"
    if result.status == "ok" and isinstance((result.response or {}).get(field), int):
        return result.response[field]
    return None
