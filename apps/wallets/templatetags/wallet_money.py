"""`{{ amount|money:currency }}` for the wallet templates: the same filter as
apps/core/templatetags/money.py (kept under this name for the templates that load it)."""

from apps.core.templatetags.money import money, register  # noqa: F401
