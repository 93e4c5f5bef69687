"""Charge detail records from stored transactions: meter values, tariff changes, no tariff,
idempotency, corrections and immutability."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.billing.models import ChargeDetailRecord, Invoice
from apps.billing.services import cdr_correct, cdr_create_for_transaction
from apps.billing.tasks import create_cdr
from apps.fx.ecb import parse_ecb_xml
from apps.fx.services import exchange_rates_store
from tests.billing.conftest import END, EVENING_TARIFF, START, UTC, import_tariff, run_session

READINGS = [
    (dt.datetime(2026, 1, 15, 16, 30, tzinfo=UTC), 6000),
    (dt.datetime(2026, 1, 15, 17, 0, tzinfo=UTC), 11000),  # 18:00 in Berlin: the evening price starts
    (dt.datetime(2026, 1, 15, 17, 30, tzinfo=UTC), 14000),
]


@pytest.mark.django_db
def test_cdr_from_meter_values_across_a_tariff_change(in_tenant_a, charger, driver):
    tariff = import_tariff(EVENING_TARIFF)
    tx = run_session(charger, readings=READINGS)
    cdr = cdr_create_for_transaction(transaction=tx, issue_receipt=False)
    # 10 kWh before 18:00 at 0.30, 6 kWh after at 0.50.
    assert cdr.total_energy == Decimal("16")
    assert cdr.total_cost_excl_vat == Decimal("6.00") and cdr.total_cost_incl_vat == Decimal("7.14")
    assert cdr.total_energy_cost_excl_vat == Decimal("6.00")
    assert cdr.total_time == Decimal("2") and cdr.total_parking_time == 0
    assert cdr.total_fixed_cost_excl_vat is None and cdr.total_parking_cost_excl_vat is None
    assert cdr.currency == "EUR" and not cdr.no_tariff and cdr.tariff == tariff
    assert cdr.tariffs[0]["id"] == "EVENING" and len(cdr.tariffs[0]["elements"]) == 2
    energy = [
        (p["start_date_time"], [d for d in p["dimensions"] if d["type"] == "ENERGY"][0]["volume"])
        for p in cdr.charging_periods
    ]
    assert energy == [("2026-01-15T16:00:00Z", "10"), ("2026-01-15T17:00:00Z", "6")]
    lines = {(c["unit_price"], c["volume"], c["excl_vat"].rstrip("0").rstrip(".")) for c in cdr.cost_lines}
    assert lines == {("0.3", "10", "3"), ("0.5", "6", "3")}
    assert cdr.token_uid == "CARD-DORA" and cdr.token_type == "RFID" and cdr.auth_method == "AUTH_REQUEST"
    assert cdr.driver == driver
    assert cdr.cdr_location["name"] == "Market square" and cdr.cdr_location["evse_uid"] == "BILL-CP/1"
    assert cdr.time_zone == "Europe/Berlin" and cdr.organization_currency == ""


@pytest.mark.django_db
def test_energy_reported_only_at_the_end_is_spread_evenly(in_tenant_a, charger, driver):
    import_tariff(EVENING_TARIFF)
    cdr = cdr_create_for_transaction(transaction=run_session(charger), issue_receipt=False)
    # 16 kWh over two hours: 8 kWh at 0.30 and 8 kWh at 0.50 = 6.40, 7.616 incl. VAT.
    assert cdr.total_cost_excl_vat == Decimal("6.40") and cdr.total_cost_incl_vat == Decimal("7.62")
    assert [p["dimensions"][0]["volume"] for p in cdr.charging_periods] == ["8", "8"]


@pytest.mark.django_db
def test_evse_assignment_and_kwh_register_units(in_tenant_a, charger, driver):
    import_tariff(EVENING_TARIFF)
    cheap = dict(
        EVENING_TARIFF,
        id="CHEAP",
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.10", "vat": "19", "step_size": 1}]}],
    )
    import_tariff(cheap, scope="evse", scope_ref="BILL-CP/1")
    tx = run_session(charger, meter_start=1000, meter_stop=11000, readings=[])
    from apps.charging.services import meter_values_record

    # A charger that reports its register in kWh.
    meter_values_record(
        charge_point_id=charger.pk,
        connector_id=1,
        transaction=tx,
        meter_values=[
            {"timestamp": START + dt.timedelta(minutes=30), "sampled_value": [{"value": "6", "unit": "kWh"}]}
        ],
    )
    cdr = cdr_create_for_transaction(transaction=tx, issue_receipt=False)
    assert cdr.tariffs[0]["id"] == "CHEAP" and cdr.total_cost_excl_vat == Decimal("1.00")
    from apps.billing.pricing import session_for_transaction

    session, notes = session_for_transaction(tx, time_zone="UTC")
    assert [s.energy_wh for s in session.samples] == [0, 5000, 10000] and notes == []


@pytest.mark.django_db
def test_no_tariff_gives_a_zero_cost_flagged_record(in_tenant_a, charger, driver):
    cdr = cdr_create_for_transaction(transaction=run_session(charger, readings=READINGS))
    assert cdr.no_tariff and cdr.total_cost_incl_vat == 0 and cdr.tariffs == []
    assert cdr.total_energy == Decimal("16") and cdr.total_time == Decimal("2")
    assert "No tariff" in cdr.pricing_notes
    assert not Invoice.objects.exists()  # nothing to pay, no receipt


@pytest.mark.django_db
def test_creation_is_idempotent_and_only_for_completed_sessions(in_tenant_a, charger, driver):
    import_tariff(EVENING_TARIFF)
    tx = run_session(charger)
    first = cdr_create_for_transaction(transaction=tx)
    assert cdr_create_for_transaction(transaction=tx) == first
    create_cdr(tx.pk)  # the Celery task (eager in tests) does the same
    assert ChargeDetailRecord.objects.filter(transaction=tx).count() == 1
    assert Invoice.objects.filter(cdr=first).count() == 1
    from apps.charging.services import transaction_start

    running, _ = transaction_start(
        charge_point_id=charger.pk, connector_id=2, id_tag="X", meter_start=0, timestamp=START
    )
    with pytest.raises(ValidationError):
        cdr_create_for_transaction(transaction=running)


@pytest.mark.django_db
def test_records_are_immutable_and_corrections_are_new_records(in_tenant_a, charger, driver):
    import_tariff(EVENING_TARIFF)
    tx = run_session(charger)
    original = cdr_create_for_transaction(transaction=tx)
    original.total_cost_excl_vat = Decimal("0")
    with pytest.raises(RuntimeError):
        original.save()
    original.refresh_from_db()
    # Meter values arrive late: the correction re-prices with them and the same tariff.
    from apps.charging.services import meter_values_record

    meter_values_record(
        charge_point_id=charger.pk,
        connector_id=1,
        transaction=tx,
        meter_values=[{"timestamp": t, "sampled_value": [{"value": str(wh)}]} for t, wh in READINGS],
    )
    with pytest.raises(ValidationError):
        cdr_correct(cdr=original, reason="  ")
    fixed = cdr_correct(cdr=original, reason="Late meter values")
    assert fixed.replaces == original and fixed.correction_reason == "Late meter values"
    assert fixed.total_cost_excl_vat == Decimal("6.00") and original.total_cost_excl_vat == Decimal("6.40")
    with pytest.raises(ValidationError):
        cdr_correct(cdr=original, reason="again")  # only the latest record can be corrected
    # The old receipt is credited in full, the corrected record gets its own.
    old_invoice = Invoice.objects.get(cdr=original, kind="invoice")
    credit = Invoice.objects.get(kind="credit_note")
    assert credit.credited_invoice == old_invoice and credit.total_incl_vat == old_invoice.total_incl_vat
    assert Invoice.objects.get(cdr=fixed, kind="invoice").total_incl_vat == Decimal("7.14")
    # create_missing_cdrs leaves transactions that have records alone.
    assert "0 created" in _command()


def _command() -> str:
    import io

    out = io.StringIO()
    call_command("create_missing_cdrs", "--schema", "org_alpha", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_missing_cdrs_command(in_tenant_a, charger, driver):
    import_tariff(EVENING_TARIFF)
    for day in range(3):
        run_session(charger, start=START + dt.timedelta(days=day), end=END + dt.timedelta(days=day))
    output = _command()
    assert "org_alpha: 3 completed transactions without a CDR" in output and "3 created" in output
    assert ChargeDetailRecord.objects.count() == 3
    assert "0 created" in _command()


ECB = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<Cube><Cube time='2026-01-14'><Cube currency='CHF' rate='0.9300'/><Cube currency='USD' rate='1.1600'/></Cube></Cube>
</gesmes:Envelope>"""


@pytest.mark.django_db
def test_tariff_in_another_currency_records_the_converted_totals(in_tenant_a, charger, driver):
    exchange_rates_store(rates=parse_ecb_xml(ECB))
    import_tariff(dict(EVENING_TARIFF, currency="CHF"))
    cdr = cdr_create_for_transaction(transaction=run_session(charger, readings=READINGS), issue_receipt=False)
    assert cdr.currency == "CHF" and cdr.total_cost_incl_vat == Decimal("7.14")
    assert cdr.organization_currency == "EUR" and cdr.conversion_rate_date == dt.date(2026, 1, 14)
    assert cdr.conversion_rate == Decimal("1.0752688172")  # 1 / 0.93, 10 decimals
    assert cdr.converted_total_excl_vat == Decimal("6.45") and cdr.converted_total_incl_vat == Decimal("7.68")
    # The receipt is in CHF and states the EUR figures at the CDR's rate and date.
    from apps.billing.pdf import invoice_pdf
    from apps.billing.services import invoice_issue_for_cdr
    from tests.billing.test_invoices import pdf_text

    invoice = invoice_issue_for_cdr(cdr=cdr)
    assert (invoice.currency, invoice.total_incl_vat, invoice.converted_currency) == ("CHF", Decimal("7.14"), "EUR")
    assert invoice.converted_total_incl_vat == Decimal("7.68") and invoice.converted_total_vat == Decimal("1.23")
    text = pdf_text(invoice_pdf(invoice))
    assert "7.14 CHF" in text and "ECB reference rate of 2026-01-14" in text and "7.68 EUR" in text


@pytest.mark.django_db
def test_awkward_meters_parking_and_a_currency_without_minor_unit(in_tenant_a, charger, driver):
    exchange_rates_store(rates=parse_ecb_xml(ECB.replace("CHF", "JPY").replace("0.9300", "180.00")))
    yen = dict(
        EVENING_TARIFF,
        currency="JPY",
        elements=[
            {
                "price_components": [
                    {"type": "ENERGY", "price": "55", "vat": "10", "step_size": 1},
                    {"type": "PARKING_TIME", "price": "600", "vat": "10", "step_size": 60},
                ]
            }
        ],
    )
    import_tariff(yen)
    # Per-phase registers (summed), full after one hour, then the car stays parked for an hour.
    from apps.charging.services import meter_values_record

    tx = run_session(charger, meter_start=0, meter_stop=12345)
    meter_values_record(
        charge_point_id=charger.pk,
        connector_id=1,
        transaction=tx,
        meter_values=[
            {
                "timestamp": START + dt.timedelta(hours=1),
                "sampled_value": [{"value": str(v), "phase": p} for v, p in ((4115, "L1"), (4115, "L2"), (4115, "L3"))],
            }
        ],
    )
    cdr = cdr_create_for_transaction(transaction=tx, issue_receipt=False)
    assert cdr.total_energy == Decimal("12.345") and cdr.total_parking_time == Decimal("1")
    # 12.345 kWh x 55 = 678.975 plus 1 h x 600 = 1278.975 JPY -> 1279; x 1.1 = 1406.8725 -> 1407.
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (Decimal("1279"), Decimal("1407"))
    assert cdr.total_parking_cost_excl_vat == Decimal("600")
    assert cdr.conversion_rate == Decimal("0.0055555556") and cdr.converted_total_incl_vat == Decimal("7.82")

    backwards = run_session(
        charger,
        start=START + dt.timedelta(days=1),
        end=END + dt.timedelta(days=1),
        meter_start=5000,
        meter_stop=4000,
        connector_id=2,
    )
    odd = cdr_create_for_transaction(transaction=backwards, issue_receipt=False)
    assert odd.total_energy == 0 and "below the start reading" in odd.pricing_notes


@pytest.mark.django_db
def test_stopping_a_transaction_creates_its_cdr(tenant_a, django_capture_on_commit_callbacks):
    """The OCPP StopTransaction path prices the session once the stop is committed."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.billing.models import ChargeDetailRecord
    from apps.chargers.services import charge_point_create
    from apps.charging.services import transaction_start, transaction_stop

    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="CDR-HOOK", password="h" * 20)
        tx, _ = transaction_start(
            charge_point_id=cp.pk,
            connector_id=1,
            id_tag="ANY",
            meter_start=0,
            timestamp=timezone.now() - dt.timedelta(minutes=20),
        )
        with django_capture_on_commit_callbacks(execute=True):
            transaction_stop(
                charge_point_id=cp.pk, transaction_id=tx.transaction_id, meter_stop=5000, timestamp=timezone.now()
            )
        cdr = ChargeDetailRecord.objects.get(transaction=tx)
        assert cdr.total_energy == 5
