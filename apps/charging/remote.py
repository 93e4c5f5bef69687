"""Starting and stopping charging remotely, whatever OCPP version the charger speaks.

Every flow that starts or stops a session from outside the charger (the QR page, the
driver app, the operator portal, the wallet guard) calls these two functions, so the
version switch lives in one place:

* 1.6: RemoteStartTransaction {connectorId, idTag} / RemoteStopTransaction {transactionId: int};
* 2.x: RequestStartTransaction {idToken {idToken, type}, evseId, remoteStartId} /
  RequestStopTransaction {transactionId: string}. The remoteStartId is ours
  (RemoteStart), and the station echoes it in the transaction it starts
  (transactionInfo.remoteStartId), which ties the two together.

Both wait for the charger's answer (sync): call them from views and tasks, never from an
OCPP handler.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max

from apps.chargers.models import ChargePoint
from apps.charging.models import IdToken, RemoteStart, Transaction
from apps.csms.commands import command_send
from apps.csms.models import Command

# 1.6 idTag is CiString20; a longer 2.x token cannot be sent to a 1.6 charger.
MAX_ID_TAG_16 = 20


def remote_start(
    *,
    charge_point: ChargePoint,
    id_tag: str = "",
    id_token: IdToken | None = None,
    id_token_type: str = "",
    evse_id: int | None = None,
    connector_id: int | None = None,
    charging_profile: dict | None = None,
    group_id_token: dict | None = None,
    user=None,
    source: str = "",
    timeout: float = 30,
):
    """Ask the charger to start a session for a card (an IdToken, or a bare id tag).
    1.6 chargers get a connector (in 1.6 every connector is its own EVSE); 2.x stations an
    EVSE (None: the station picks one). Returns apps.csms.commands.CommandResult;
    raises apps.csms.commands.InvalidCommand for a payload the charger's schema refuses."""

    tag = id_token.id_token if id_token is not None else id_tag
    if not charge_point.is_ocpp2:
        payload = {"connectorId": connector_id if connector_id is not None else evse_id, "idTag": tag}
        if payload["connectorId"] is None:
            del payload["connectorId"]
        if charging_profile:
            payload["chargingProfile"] = charging_profile
        return command_send(
            charge_point=charge_point,
            action="RemoteStartTransaction",
            payload=payload,
            user=user,
            timeout=timeout,
            source=source,
        )
    kind = id_token_type or (id_token.type if id_token is not None else "") or _type_of(tag)
    evse = evse_id if evse_id is not None else connector_id
    request = remote_start_create(
        charge_point=charge_point, id_token=tag, id_token_type=kind, evse_id=evse, user=user, source=source
    )
    payload = {"idToken": {"idToken": tag, "type": kind}, "remoteStartId": request.remote_start_id}
    if evse is not None:
        payload["evseId"] = evse
    if charging_profile:
        payload["chargingProfile"] = charging_profile
    if group_id_token:
        payload["groupIdToken"] = group_id_token
    result = command_send(
        charge_point=charge_point,
        action="RequestStartTransaction",
        payload=payload,
        user=user,
        timeout=timeout,
        source=source,
    )
    if result.status == "ok":
        remote_start_answered(
            charge_point_id=charge_point.pk, payload=payload, answer=result.response or {}, source=source
        )
    return result


def remote_stop(*, transaction: Transaction, user=None, source: str = "", timeout: float = 30):
    """Ask the charger to stop a session. Returns apps.csms.commands.CommandResult."""

    charge_point = transaction.charge_point
    if charge_point.is_ocpp2:
        action, payload = "RequestStopTransaction", {"transactionId": transaction.transaction_id}
    else:
        action, payload = "RemoteStopTransaction", {"transactionId": int(transaction.transaction_id)}
    return command_send(
        charge_point=charge_point, action=action, payload=payload, user=user, timeout=timeout, source=source
    )


def remote_stop_requested_since(*, transaction: Transaction, since: datetime) -> bool:
    """Whether a remote stop of this session was sent since `since` (to ask only once in a while)."""

    if transaction.charge_point.is_ocpp2:
        action, tx_id = "RequestStopTransaction", transaction.transaction_id
    else:
        action, tx_id = "RemoteStopTransaction", int(transaction.transaction_id)
    return Command.objects.filter(
        charge_point=transaction.charge_point_id,
        action=action,
        payload__transactionId=tx_id,
        created_at__gte=since,
    ).exists()


def _type_of(tag: str) -> str:
    token = IdToken.objects.filter(id_token__iexact=tag).only("type").first()
    return token.type if token is not None else IdToken.Type.CENTRAL


def remote_start_create(
    *, charge_point: ChargePoint, id_token: str, id_token_type: str, evse_id: int | None, user=None, source: str = ""
) -> RemoteStart:
    """A new remoteStartId for this charger: one above any it has been sent (by us or
    through the raw console), so the station can tell the requests apart."""
    for _ in range(5):
        highest = RemoteStart.objects.filter(charge_point=charge_point).aggregate(m=Max("remote_start_id"))["m"]
        try:
            with transaction.atomic():
                return RemoteStart.objects.create(
                    charge_point=charge_point,
                    remote_start_id=(highest or 0) + 1,
                    id_token=id_token,
                    id_token_type=id_token_type,
                    evse_id=evse_id,
                    user=user,
                    source=source[:20],
                )
        except IntegrityError:
            continue  # another request took that number at the same moment
    raise RuntimeError("could not allocate a remoteStartId")


def remote_start_answered(*, charge_point_id: int, payload: dict, answer: dict, source: str = "") -> RemoteStart:
    """Store the station's answer to a RequestStartTransaction (ours, or one sent through
    the raw console). An answer carrying a transactionId (the cable was plugged in first
    and a transaction runs already) links it at once."""
    token = payload.get("idToken") or {}
    request, _ = RemoteStart.objects.update_or_create(
        charge_point_id=charge_point_id,
        remote_start_id=payload["remoteStartId"],
        defaults={"charger_status": str(answer.get("status", ""))[:16]},
        create_defaults={
            "id_token": token.get("idToken", ""),
            "id_token_type": token.get("type", ""),
            "evse_id": payload.get("evseId"),
            "source": source[:20],
            "charger_status": str(answer.get("status", ""))[:16],
        },
    )
    tx_id = answer.get("transactionId")
    if tx_id:
        tx = Transaction.objects.filter(charge_point_id=charge_point_id, transaction_id=tx_id).first()
        if tx is not None:
            RemoteStart.objects.filter(pk=request.pk).update(transaction=tx)
            Transaction.objects.filter(pk=tx.pk, remote_start_id__isnull=True).update(
                remote_start_id=request.remote_start_id
            )
    return request
