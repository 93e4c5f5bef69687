"""`{{ amount|money:currency }}`: an amount rounded to the currency's minor unit (the database
keeps four decimals for every currency)."""

from django import template

from apps.core.money import quantize

register = template.Library()


@register.filter
def money(amount, currency):
    if amount is None or amount == "":
        return ""
    return quantize(amount, currency)
