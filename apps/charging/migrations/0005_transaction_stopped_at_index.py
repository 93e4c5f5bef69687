# A plain CREATE INDEX, not CONCURRENTLY: django-tenants runs these migrations when an
# organisation is created, inside that transaction, where CONCURRENTLY is refused.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chargers", "0004_charger_groups"),
        ("charging", "0004_v2_transactions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["stopped_at"], name="tx_stopped_at"),
        ),
    ]
