"""Bulk import and export of RFID cards (django-import-export), used by the portal's
card import page. Imports save cards without the services, so after an applied import
local lists are told once (`after_apply`)."""

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from apps.accounts.models import User
from apps.charging.locallists import local_lists_token_changed
from apps.charging.models import IdToken
from apps.core.exports import SpreadsheetSafeExportMixin


class IdTokenResource(SpreadsheetSafeExportMixin, resources.ModelResource):
    owner_email = fields.Field(
        attribute="owner", column_name="owner_email", widget=widgets.ForeignKeyWidget(User, field="email")
    )
    expires_at = fields.Field(attribute="expires_at", column_name="expires_at", widget=widgets.DateTimeWidget())

    class Meta:
        model = IdToken
        fields = ("id_token", "type", "status", "label", "group_id", "expires_at", "owner_email")
        export_order = fields
        import_id_fields = ("id_token",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_instance(self, instance_loader, row):
        # idTags are case-insensitive on the wire: "04a1" updates card "04A1".
        value = (row.get("id_token") or "").strip()
        return IdToken.objects.filter(id_token__iexact=value).first() if value else None

    def before_import_row(self, row, **kwargs):
        for key in ("id_token", "type", "status", "owner_email"):
            if row.get(key) is not None:
                row[key] = str(row[key]).strip()
        existing = (
            IdToken.objects.filter(id_token__iexact=row.get("id_token") or "")
            .values_list("id_token", flat=True)
            .first()
        )
        if existing:
            row["id_token"] = existing  # keep the card's stored spelling
        if not row.get("type"):
            row["type"] = IdToken.Type.ISO14443
        if not row.get("status"):
            row["status"] = IdToken.Status.ACCEPTED
        if row.get("owner_email"):
            row["owner_email"] = row["owner_email"].lower()
            if not User.objects.filter(email=row["owner_email"]).exists():
                raise ValidationError({"owner_email": f"No user with e-mail {row['owner_email']}."})

    def after_apply(self) -> None:
        local_lists_token_changed()
