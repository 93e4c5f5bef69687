"""Mounted at billing/ in config/urls_tenant.py: path("billing/", include("apps.portal.billing.urls"))."""

from django.urls import path

from apps.portal.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.invoice_list, name="home"),
    path("cdrs/", views.cdr_list, name="cdr_list"),
    path("cdrs/export.csv", views.cdr_export, name="cdr_export"),
    path("cdrs/<int:pk>/", views.cdr_detail, name="cdr_detail"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/export.csv", views.invoice_export, name="invoice_export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf_download, name="invoice_pdf"),
    path("invoices/<int:pk>/credit-note/", views.credit_note_create, name="credit_note_create"),
    path("credit-notes/", views.credit_note_list, name="credit_note_list"),
    path("credit-notes/export.csv", views.credit_note_export, name="credit_note_export"),
    path("my/receipts/", views.my_receipts, name="my_receipts"),
]
