"""Role checks shared by pages and the API, so both enforce the same rules.

The rules themselves are the named actions of `apps.accounts.policy.POLICY`: pages say
`@role_required("locations.change")`, API views declare `policy = {"create": "locations.change"}`
and the `Policy` permission class reads it."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from apps.accounts.policy import POLICY, allowed

# The role sets older code names; each is a row of the policy table.
CAN_VIEW_PORTAL = POLICY["portal.view"]
CAN_MANAGE_USERS = POLICY["users.manage"]
CAN_MANAGE_ORGANIZATION = POLICY["organization.manage"]
CAN_VIEW_MONEY = POLICY["money.view"]
CAN_OPERATE_CHARGERS = POLICY["chargers.operate"]
CAN_MANAGE_TARIFFS = POLICY["tariffs.change"]
CAN_ISSUE_CREDIT_NOTES = POLICY["money.credit_notes"]
CAN_MOVE_MONEY = POLICY["money.move"]


def user_has_role(user, roles) -> bool:
    """`roles` is a policy name or a set of roles."""
    if isinstance(roles, str):
        return allowed(user, roles)
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def role_required(rule):
    """Page decorator: anonymous users go to the login page, others without the rule get 403.
    `rule` is a policy name (`"locations.change"`) or, for older pages, a set of roles."""
    if isinstance(rule, str) and rule not in POLICY:
        raise KeyError(f"{rule!r} is not in apps.accounts.policy.POLICY")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, rule):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.policy = rule
        return wrapper

    return decorator


def view_policy_name(view, request) -> str | None:
    """The policy name a DRF view declares for this request, or None (refused).

    `view.policy` maps a viewset action (`list`, `create`, `topup`, ...) or, on plain API
    views, an HTTP method in lower case (`get`, `post`) to a policy name. A view may instead
    define `policy_for(request)` when the rule depends on the request (the OCPP console).
    HEAD and OPTIONS follow the read rule; nothing else has a default."""
    if hasattr(view, "policy_for"):
        return view.policy_for(request)
    table = getattr(view, "policy", None) or {}
    method = request.method.lower()
    key = getattr(view, "action", None) or method
    if key in table:
        return table[key]
    if request.method in ("HEAD", "OPTIONS"):
        for read in ("get", "retrieve", "list"):
            if read in table:
                return table[read]
    return None


class Policy(BasePermission):
    """DRF permission (the default class): the rule the view declares for this request."""

    def has_permission(self, request, view):
        name = view_policy_name(view, request)
        return name is not None and allowed(request.user, name)
