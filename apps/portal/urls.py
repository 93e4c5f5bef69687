"""The operator and driver pages in the "portal" namespace. Every domain's pages live in
apps/portal/<domain>/ (urls.py, views.py, forms.py); the money, tariff and QR pages keep
their own namespaces and are mounted by config/urls_tenant.py."""

from apps.portal.accounts import urls as accounts
from apps.portal.cards import urls as cards
from apps.portal.certificates import urls as certificates
from apps.portal.chargers import urls as chargers
from apps.portal.charging import urls as charging
from apps.portal.dashboard import urls as dashboard
from apps.portal.devicemodel import urls as devicemodel
from apps.portal.diagnostics import urls as diagnostics
from apps.portal.locallists import urls as locallists
from apps.portal.locations import urls as locations
from apps.portal.reservations import urls as reservations
from apps.portal.smartcharging import urls as smartcharging

app_name = "portal"

# First: "chargers/import/" must not be taken for a charger called "import".
urlpatterns = chargers.fixed_urlpatterns + [
    *dashboard.urlpatterns,
    *accounts.urlpatterns,
    *locations.urlpatterns,
    *chargers.urlpatterns,
    *cards.urlpatterns,
    *charging.urlpatterns,
    *locallists.urlpatterns,
    *reservations.urlpatterns,
    *devicemodel.urlpatterns,
    *certificates.urlpatterns,
    *smartcharging.urlpatterns,
    *diagnostics.urlpatterns,
]
