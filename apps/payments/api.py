"""Payments' part of the API: the wallet top-up action, added to the wallet viewset of
apps.wallets.api (config/api.py routes this subclass) because a top-up is a payment."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.money import quantize
from apps.payments.services import payment_topup_start
from apps.wallets import api as wallets_api


class TopupSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))


class WalletViewSet(wallets_api.WalletViewSet):
    @extend_schema(request=TopupSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def topup(self, request, pk=None):
        """Start a top-up with the organisation's gateway. The answer carries what the app or
        browser needs to confirm the card (Stripe `client_secret`, Adyen `action`); the wallet
        is credited when the gateway's webhook confirms the payment, not before."""

        account = self.get_object()
        serializer = TopupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            payment = payment_topup_start(
                account=account, amount=serializer.validated_data["amount"], user=request.user
            )
        except LookupError as exc:
            return Response({"detail": str(exc), "code": "no_gateway"}, status=409)
        return Response(
            {
                "payment": payment.merchant_reference,
                "status": payment.status,
                "provider": payment.provider,
                "amount": str(quantize(payment.amount_authorized, payment.currency)),
                "currency": payment.currency,
                "client_secret": payment.client_secret or None,
                "action": payment.client_action,
            },
            status=201,
        )
