"""Tariffs: OCPI 2.2.1-complete tariff model, pricing engine, OCPI import/export and API.

Map of the app:
  models.py       Tariff -> ordered TariffElement -> PriceComponent / TariffRestriction, TariffAltText;
                  CustomerGroup and TariffAssignment (precedence rule in its docstring)
  domain.py       plain dataclasses the engine prices (Tariff, Session, MeterSample), from OCPI JSON
  timeline.py     a session cut into charging / parking / reservation intervals and restriction cuts
  engine.py       price_session(): OCPI-CDR-style periods, step_size, VAT, min/max, the rounding rule
  ocpi.py         OCPI JSON validation, export, and stored tariff -> engine values
  services.py     writes (tariff_create, tariff_update, tariff_import_ocpi, tariff_assign, ...)
  selectors.py    reads (tariff_list, tariff_effective, tariff_estimate)
  api.py, api_assignments.py, admin.py
"""
