"""The /api/v1/ router. Each app registers its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts import api as accounts_api

router = DefaultRouter()
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("api-tokens", accounts_api.ApiTokenViewSet, basename="api-token")

urlpatterns = [
    path("me/", accounts_api.me, name="me"),
    *router.urls,
]

# OCPP central system (apps.chargers, apps.charging, apps.csms).
from apps.chargers import api as chargers_api  # noqa: E402
from apps.charging import api as charging_api  # noqa: E402
from apps.csms import api as csms_api  # noqa: E402
from apps.devicemodel import api as devicemodel_api  # noqa: E402

ocpp_router = DefaultRouter(trailing_slash=True)
ocpp_router.include_root_view = False
ocpp_router.register("charge-points", chargers_api.ChargePointViewSet, basename="charge-point")
ocpp_router.register("id-tokens", charging_api.IdTokenViewSet, basename="id-token")
ocpp_router.register("locations", chargers_api.LocationViewSet, basename="location")
urlpatterns += [
    path("charge-points/<str:identity>/ocpp/<str:action>", csms_api.OcppCommandView.as_view(), name="ocpp-command"),
    path("charge-points/<str:identity>/messages/", csms_api.MessageLogList.as_view(), name="charge-point-messages"),
    path("charge-points/<str:identity>/commands/", csms_api.CommandList.as_view(), name="charge-point-commands"),
    path(
        "charge-points/<str:identity>/device-model/",
        devicemodel_api.DeviceModelView.as_view(),
        name="charge-point-device-model",
    ),
    path("ocpp-settings/", csms_api.CsmsSettingsView.as_view(), name="ocpp-settings"),
    *ocpp_router.urls,
]

# Tariffs (apps.tariffs).
from apps.tariffs import api as tariffs_api  # noqa: E402
from apps.tariffs import api_assignments as tariff_assignments_api  # noqa: E402

tariffs_router = DefaultRouter(trailing_slash=True)
tariffs_router.include_root_view = False
tariffs_router.register("tariffs", tariffs_api.TariffViewSet, basename="tariff")
tariffs_router.register("customer-groups", tariff_assignments_api.CustomerGroupViewSet, basename="customer-group")
tariffs_router.register(
    "tariff-assignments", tariff_assignments_api.TariffAssignmentViewSet, basename="tariff-assignment"
)
urlpatterns += tariffs_router.urls

# Billing (apps.billing): charge detail records and invoices, read-only.
from apps.billing import api as billing_api  # noqa: E402

billing_router = DefaultRouter(trailing_slash=True)
billing_router.include_root_view = False
billing_router.register("cdrs", billing_api.CdrViewSet, basename="cdr")
billing_router.register("invoices", billing_api.InvoiceViewSet, basename="invoice")
urlpatterns += billing_router.urls

# Wallets (apps.wallets): balances and statements; payments adds the top-up action.
from apps.payments import api as payments_api  # noqa: E402

wallets_router = DefaultRouter(trailing_slash=True)
wallets_router.include_root_view = False
wallets_router.register("wallets", payments_api.WalletViewSet, basename="wallet")
urlpatterns += wallets_router.urls

# Local authorisation lists (apps.charging.locallists).
from apps.charging import api_locallists  # noqa: E402

locallists_router = DefaultRouter(trailing_slash=True)
locallists_router.include_root_view = False
locallists_router.register("local-lists", api_locallists.LocalAuthListViewSet, basename="local-list")
urlpatterns += [
    path(
        "charge-points/<str:identity>/local-list/push/",
        api_locallists.LocalListPushView.as_view(),
        name="charge-point-local-list-push",
    ),
    *locallists_router.urls,
]
