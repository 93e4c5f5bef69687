"""Validators for values PostgreSQL would refuse with an error (a 500) instead of a reason."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

# PostgreSQL's timestamptz input takes UTC offsets up to 15:59 either way; Python's datetime
# takes up to 23:59, so "2000-01-01T00:00:00+21:06" parses here and fails in the database.
MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)


def validate_utc_offset(value) -> None:
    if isinstance(value, dt.datetime) and value.utcoffset() is not None and abs(value.utcoffset()) > MAX_UTC_OFFSET:
        raise ValidationError("The UTC offset must lie between -15:59 and +15:59.", code="invalid_offset")


class DateTimeField(forms.DateTimeField):
    """forms.DateTimeField refusing offsets PostgreSQL cannot store: a form error, not a 500."""

    default_validators = [validate_utc_offset]
