"""The one rule for the address a person signs in with.

Sign-in matches it trimmed and case-insensitively, so the brute-force lockout (django-axes)
must key on the same form: keyed on the address as typed, five failures on
``user@example.com`` would leave ``User@example.com`` or `` user@example.com`` free to try
(and to sign in). Both the lookup (``UserManager.get_by_natural_key``) and the lockout
(``AXES_USERNAME_CALLABLE``) go through ``login_email_normalise``.
"""

from django.conf import settings


def login_email_normalise(value: str | None) -> str:
    """The address as the lookup and the lockout see it: trimmed and lower-cased. Stored
    addresses are lower-cased on creation (``UserManager.create_user``)."""
    return (value or "").strip().lower()


def axes_username(request, credentials: dict | None = None) -> str:
    """AXES_USERNAME_CALLABLE: the normalised address from the credentials handed to
    ``authenticate`` or, before authentication (the middleware's check), from the form."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        raw = credentials.get(field)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        raw = data.get(field)
    return login_email_normalise(raw if isinstance(raw, str) else None)
