"""Charge detail records, invoices (driver receipts) and credit notes (tenant schema).

CDRs and invoices are immutable: services only ever insert; a correction is a new CDR
that `replaces` the old one, a refund is a credit note referencing its invoice.
"""
