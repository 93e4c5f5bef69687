"""/api/v1/wallets/: a driver sees their own wallet, staff who see money see every account.
/api/v1/wallets/{id}/lines/ is the statement. Read-only; decimals are strings. The top-up
action (/api/v1/wallets/{id}/topup/) starts a payment, so payments adds it
(apps.payments.api.WalletViewSet): wallets never import payments."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.permissions import CAN_VIEW_MONEY, user_has_role
from apps.core.money import quantize
from apps.wallets import selectors
from apps.wallets.models import GroupMember, LedgerAccount


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    name = serializers.CharField(source="__str__")
    owner = serializers.EmailField(source="owner.email", allow_null=True, default=None)
    currency = serializers.CharField()
    balance = serializers.SerializerMethodField()

    def get_balance(self, a: LedgerAccount) -> str:
        return str(quantize(a.balance, a.currency))


class LineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    balance_after = serializers.CharField()
    memo = serializers.CharField()
    cdr_id = serializers.CharField(allow_null=True)
    member = serializers.EmailField(allow_null=True)


def _line(line, running) -> dict:
    e = line.entry
    return {
        "id": line.pk,
        "created_at": e.created_at,
        "kind": e.kind,
        "amount": str(quantize(line.amount, line.currency)),
        "currency": line.currency,
        "balance_after": str(quantize(running, line.currency)),
        "memo": e.memo,
        "cdr_id": e.cdr.cdr_id if e.cdr_id else None,
        "member": e.member.email if e.member_id else None,
    }


class WalletViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AccountSerializer
    policy = {"list": "wallets.view", "retrieve": "wallets.view", "lines": "wallets.view", "topup": "wallets.topup"}
    queryset = LedgerAccount.objects.none()  # tells the schema generator the model

    def get_queryset(self):
        qs = LedgerAccount.objects.select_related("owner").order_by("pk")
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return qs.none()
        if user_has_role(self.request.user, CAN_VIEW_MONEY):
            return qs
        # A driver sees their own wallet and the group wallets they belong to.
        groups = GroupMember.objects.filter(user=self.request.user, status=GroupMember.Status.ACTIVE)
        return qs.filter(
            Q(kind=LedgerAccount.Kind.DRIVER_WALLET, owner=self.request.user)
            | Q(group_wallet__in=groups.values("group"))
        )

    @extend_schema(responses=LineSerializer(many=True))
    @action(detail=True)
    def lines(self, request, pk=None):
        account = self.get_object()
        lines = selectors.statement_lines(account=account)
        page = self.paginate_queryset(lines)
        rows = page if page is not None else lines
        data = LineSerializer([_line(line, line.balance_after) for line in rows], many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)
