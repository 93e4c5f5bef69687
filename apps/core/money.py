"""Money helpers. Amounts are Decimal with an ISO 4217 currency; never floats."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision, list_currencies

# Babel's list contains the ISO 4217 codes (including a few historic ones, which
# an operator may still hold in old records).
CURRENCIES: frozenset[str] = frozenset(list_currencies())


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (the rule used everywhere in EVzone)."""
    exponent = Decimal(1).scaleb(-get_currency_precision(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)
