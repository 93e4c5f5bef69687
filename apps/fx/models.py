"""ECB euro foreign exchange reference rates (public schema: the same figures for every organisation)."""

from django.db import models
from django.utils import timezone

BASE_CURRENCY = "EUR"


class ExchangeRate(models.Model):
    """1 EUR = `rate` units of `currency` on `date` (an ECB publication day)."""

    class Source(models.TextChoices):
        ECB = "ecb", "ECB daily feed"
        SNAPSHOT = "snapshot", "Shipped snapshot"

    date = models.DateField()
    currency = models.CharField(max_length=3)
    # The ECB publishes up to 4 decimals and at most 5 integer digits (IDR); room to spare.
    rate = models.DecimalField(max_digits=18, decimal_places=6)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ECB)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "currency"]
        constraints = [models.UniqueConstraint(fields=["date", "currency"], name="fx_rate_per_day")]
        indexes = [models.Index(fields=["currency", "-date"], name="fx_currency_date")]

    def __str__(self) -> str:
        return f"{self.date} 1 {BASE_CURRENCY} = {self.rate} {self.currency}"
