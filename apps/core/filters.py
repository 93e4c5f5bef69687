"""The API's filter backend: django-filter's, with what every filter set needs.

Applied to each filter set's form rather than to each filter set class, so a new endpoint's
filters (``filterset_fields`` or a ``FilterSet``) are covered without anyone remembering to.
"""

from django import forms
from django_filters.rest_framework import DjangoFilterBackend as BaseBackend

from apps.core.validators import validate_utc_offset


class DjangoFilterBackend(BaseBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for field in filterset.form.fields.values():
                if isinstance(field, forms.DateTimeField) and validate_utc_offset not in field.validators:
                    field.validators.append(validate_utc_offset)
        return filterset
