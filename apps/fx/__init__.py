"""ECB exchange rates, in the public schema (SHARED_APPS).

Why public: the ECB reference rates are public data, identical for every organisation;
one table fetched once a day by one beat job serves everybody (tenant connections see
the public schema on their search path). Organisations never write rates. Converted
amounts (CDRs, invoices) live in the tenant schemas and copy the rate and date they
used, so a later correction of a rate never changes a stored figure.
"""
