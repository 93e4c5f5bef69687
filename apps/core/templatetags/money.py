"""`{% load money %}{{ amount|money:currency }}`: an amount shown rounded to the currency's
minor unit (ISO 4217; the database keeps four decimals for every currency, and keeps them)."""

from django import template

from apps.core.money import quantize

register = template.Library()


@register.filter
def money(amount, currency):
    if amount is None or amount == "":
        return ""
    return quantize(amount, currency)
