"""Content-Security-Policy (#16 item 12): sent on every page; no inline script or event handler
in any template, so the policy can refuse them; the payment SDKs' origins are allowed."""

import re
from pathlib import Path

import pytest

from apps.accounts.models import Role

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


@pytest.mark.django_db
def test_pages_send_a_policy_without_inline_scripts(tenant_a, make_user, login, client_a):
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    for client, url in ((client_a, "/accounts/login/"), (admin, "/"), (admin, "/chargers/")):
        policy = _policy(client.get(url))
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert policy["frame-ancestors"] == ["'self'"]


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            if 'type="application/json"' not in match.group(0):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
        offenders += [f"{path.relative_to(TEMPLATES)}: {m}" for m in re.findall(r"\son[a-z]+=\"", text)]
    assert not offenders, "Move it to static/js (data-confirm, page.js):\n" + "\n".join(offenders)


@pytest.mark.django_db
def test_the_checkout_sdks_are_allowed(client_a):
    policy = _policy(client_a.get("/accounts/login/"))
    checkout = (TEMPLATES / "payments/_checkout.html").read_text()
    for host in re.findall(r'<script src="https://([^/"]+)/', checkout):
        host = host.replace("{{ checkout.environment }}", "live")  # checkoutshopper-live.adyen.com
        assert any(
            src == f"https://{host}" or (src.startswith("https://*.") and host.endswith(src[len("https://*") :]))
            for src in policy["script-src"]
        ), host
