"""Reads for id tokens and transactions."""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.charging.hooks import authorization_checks
from apps.charging.models import ChargingSettings, IdToken, Transaction


@dataclass(frozen=True)
class IdTokenInfo:
    """Protocol-neutral authorisation answer; handlers shape it for 1.6 (idTagInfo) or 2.x (idTokenInfo)."""

    status: str
    expires_at: datetime | None = None
    group_id: str = ""
    token: IdToken | None = None
    # Why a known card is refused when its status alone does not say ("wallet": the prepaid
    # balance or wallet rules; 2.x answers that NoCredit). Empty otherwise.
    reason: str = ""


@functools.cache
def _id_token_sql() -> tuple[str, list[str]]:
    qn = connection.ops.quote_name
    fields = IdToken._meta.concrete_fields
    columns = ", ".join(qn(f.column) for f in fields)
    column = qn(IdToken._meta.get_field("id_token").column)
    # The expression of the unique index on UPPER(id_token), so that index answers.
    sql = f"SELECT {columns} FROM {qn(IdToken._meta.db_table)} WHERE UPPER({column}::text) = UPPER(%s) LIMIT 1"
    return sql, [f.attname for f in fields]


def id_token_find(*, id_tag: str) -> IdToken | None:
    """The card with this idTag, compared case-insensitively (a CiString on the wire).

    Plain SQL: Authorize, StartTransaction and StopTransaction each look a card up, and
    compiling the same queryset every time was half of that lookup's cost (7% of the
    central system's CPU under load, measured with `benchmarks.run --py-spy`)."""
    sql, attnames = _id_token_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [id_tag])
        row = cursor.fetchone()
    return None if row is None else IdToken.from_db(connection.alias, attnames, row)


def id_token_info(*, id_tag: str, now: datetime | None = None) -> IdTokenInfo:
    token = id_token_find(id_tag=id_tag)
    if token is None:
        return IdTokenInfo(status="Invalid")
    now = now or timezone.now()
    status = token.status
    if status == IdToken.Status.ACCEPTED and token.expires_at is not None and token.expires_at <= now:
        status = IdToken.Status.EXPIRED
    return IdTokenInfo(status=status, expires_at=token.expires_at, group_id=token.group_id, token=token)


def id_token_info_for_charging(*, id_tag: str, charge_point_id: int) -> IdTokenInfo:
    """id_token_info plus the checks other apps registered (apps.charging.hooks): a prepaid
    driver whose wallet balance (or group limit, hours, location) does not allow a session
    is answered Blocked by the wallets' check, and so on. The first veto wins."""
    info = id_token_info(id_tag=id_tag)
    if info.status != IdToken.Status.ACCEPTED:
        return info
    # Most fleet and roaming cards have no driver behind them: checks that need one are
    # skipped without a lookup (this is the Authorize/StartTransaction hot path).
    checks = authorization_checks(has_owner=info.token is None or info.token.owner_id is not None)
    if not checks:
        return info
    from apps.chargers.models import ChargePoint

    location_id = ChargePoint.objects.filter(pk=charge_point_id).values_list("location_id", flat=True).first()
    for entry in checks:
        veto = entry.check(id_tag=id_tag, token=info.token, charge_point_id=charge_point_id, location_id=location_id)
        if veto is not None:
            return IdTokenInfo(
                status=veto.status,
                expires_at=info.expires_at,
                group_id=info.group_id,
                token=info.token,
                reason=veto.reason,
            )
    return info


def token_has_active_transaction(
    *, token: IdToken, exclude_charge_point_id: int | None = None, exclude_connector_id: int | None = None
) -> bool:
    """Is the token charging somewhere (else than the excluded connector)? An EXISTS, not a
    row: StartTransaction asks this on every start, and loading a Transaction was a third
    of the check's cost."""
    qs = Transaction.objects.filter(id_token=token, status=Transaction.Status.ACTIVE)
    if exclude_charge_point_id is not None:
        qs = qs.exclude(charge_point_id=exclude_charge_point_id, connector_id=exclude_connector_id)
    return qs.exists()


def transaction_get(*, charge_point_id: int, transaction_id: str) -> Transaction | None:
    return Transaction.objects.filter(charge_point_id=charge_point_id, transaction_id=transaction_id).first()


def charging_settings() -> ChargingSettings:
    """The organisation's charging settings (created with defaults on first use)."""
    settings = ChargingSettings.objects.order_by("pk").first()
    if settings is None:
        settings, _ = ChargingSettings.objects.get_or_create(pk=1)
    return settings


def is_master_pass(*, token: IdToken | None) -> bool:
    """OCPP 2.0.1 C16: a card is a master pass when its group id is the organisation's
    MasterPassGroupId (compared like idTokens: case-insensitively)."""
    if token is None or not token.group_id:
        return False
    group = charging_settings().master_pass_group_id.strip()
    return bool(group) and token.group_id.strip().upper() == group.upper()
