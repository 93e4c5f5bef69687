"""Wallets in the operator's admin: read-only. Money moves only through the services (the
portal's adjust/refund form), so every movement is a balanced, attributed journal entry."""

from django.contrib import admin

from apps.billing.admin import ReadOnlyAdmin
from apps.core.admin_sites import operator_admin_site
from apps.wallets.models import GroupMember, GroupWallet, JournalEntry, JournalLine, LedgerAccount, WalletSettings


@admin.register(LedgerAccount, site=operator_admin_site)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "owner", "currency", "balance")
    list_filter = ("kind", "currency")
    search_fields = ("owner__email", "name")


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount", "currency")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry, site=operator_admin_site)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "created_at", "memo", "member", "created_by", "shortfall")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "external_reference", "memo")
    inlines = [JournalLineInline]


@admin.register(GroupWallet, site=operator_admin_site)
class GroupWalletAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "account")


@admin.register(GroupMember, site=operator_admin_site)
class GroupMemberAdmin(ReadOnlyAdmin):
    list_display = ("email", "group", "status", "limit_per_session", "limit_per_day", "limit_per_month")
    list_filter = ("status",)
    exclude = ("invite_digest",)


@admin.register(WalletSettings, site=operator_admin_site)
class WalletSettingsAdmin(admin.ModelAdmin):
    list_display = ("min_start_balance", "stop_when_exhausted", "require_payment_means")
