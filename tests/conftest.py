"""Shared fixtures.

Tenants are created once per session (creating a schema runs every tenant
migration, about a second each) and committed; each test then runs inside a
transaction that is rolled back, in whichever schema it selects. Never use
`transactional_db` with these: its flush would delete the session's organisations.
"""

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from apps.tenants.models import Organization

PASSWORD = "correct-horse-battery-9"

TENANTS = {
    "reseller": {"slug": "resell", "name": "Resell GmbH", "kind": "reseller"},
    "a": {"slug": "alpha", "name": "Alpha Charging", "kind": "operator", "parent": "resell"},
    "b": {"slug": "beta", "name": "Beta Power", "kind": "operator"},
}


# Fixtures that start (or need) a live server process: a test using one is end to end even
# if its module forgot `pytestmark = [pytest.mark.e2e]`, so it never slows the quick loop.
LIVE_SERVER_FIXTURES = {"live_server_ocpp", "e2e_db", "e2e_org", "live_server"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if LIVE_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from apps.tenants.services import organization_create, platform_ensure

    with django_db_blocker.unblock():
        platform_ensure()
        for spec in TENANTS.values():
            if Organization.objects.filter(slug=spec["slug"]).exists():  # --reuse-db
                continue
            spec = dict(spec)
            parent = spec.pop("parent", None)
            organization_create(
                **spec,
                parent=Organization.objects.get(slug=parent) if parent else None,
                admin_email=f"admin@{spec['slug']}.example",
                admin_password=PASSWORD,
            )


def _org(slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


@pytest.fixture
def tenant_a(db) -> Organization:
    return _org("alpha")


@pytest.fixture
def tenant_b(db) -> Organization:
    return _org("beta")


@pytest.fixture
def reseller(db) -> Organization:
    return _org("resell")


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    # Requests and fixtures switch the connection's schema; never leak it into the next test.
    connection.set_schema_to_public()


@pytest.fixture
def in_tenant_a(tenant_a):
    connection.set_tenant(tenant_a)
    return tenant_a


@pytest.fixture
def in_tenant_b(tenant_b):
    connection.set_tenant(tenant_b)
    return tenant_b


def host_of(org: Organization) -> str:
    return org.primary_domain.domain


@pytest.fixture
def client_a(tenant_a) -> Client:
    return Client(HTTP_HOST=host_of(tenant_a))


@pytest.fixture
def client_b(tenant_b) -> Client:
    return Client(HTTP_HOST=host_of(tenant_b))


@pytest.fixture
def make_user():
    """make_user(org, role=..., email=...) creates a user with PASSWORD in org's schema."""
    from tests.factories.accounts import UserFactory

    def make(org: Organization, **kwargs):
        with schema_context(org.schema_name):
            return UserFactory(**kwargs)

    return make


@pytest.fixture
def make_charge_point(tenant_a):
    """make_charge_point(**fields) -> a ChargePointFactory charger in tenant A's schema
    (org=tenant_b for another organisation's). The one way tests build a charger:
    make_charge_point(identity="CP-1", ocpp201=True, online=True, connectors=2)."""
    from tests.factories.chargers import ChargePointFactory

    def make(org: Organization | None = None, **fields):
        with schema_context((org or tenant_a).schema_name):
            return ChargePointFactory(**fields)

    return make


@pytest.fixture
def charge_point(make_charge_point):
    """An accepted, offline OCPP 1.6 charger in tenant A (see ChargePointFactory)."""
    return make_charge_point()


@pytest.fixture
def login():
    """login(org, user) returns a Client signed in as user on org's host."""

    def do(org: Organization, user) -> Client:
        client = Client(HTTP_HOST=host_of(org))
        with schema_context(org.schema_name):
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return do


@pytest.fixture
def command_bus():
    """Every command_send in the test reaches this fake charger (tests/commandbus.py)
    instead of the channel layer; validation and csms.Command bookkeeping stay real."""
    from apps.csms.commands import bus_use
    from tests.commandbus import FakeBus

    with bus_use(FakeBus()) as bus:
        yield bus


@pytest.fixture
def published():
    """The domain events (apps.core.events) delivered during the test, in order. Delivery
    is after commit: wrap the code in django_capture_on_commit_callbacks(execute=True) when
    the test runs inside the test case's transaction."""
    from apps.billing.events import CdrCreated
    from apps.chargers import events as chargers_events
    from apps.charging import events as charging_events
    from apps.core.events import Event, subscribe, unsubscribe

    types = [
        t
        for module in (chargers_events, charging_events)
        for t in vars(module).values()
        if isinstance(t, type) and issubclass(t, Event) and t is not Event
    ] + [CdrCreated]
    seen: list = []

    def record(*, events, schema):
        seen.extend(events)

    for t in types:
        subscribe(t, record, uid=f"tests.published.{t.__name__}")
    yield seen
    for t in types:
        unsubscribe(t, record, uid=f"tests.published.{t.__name__}")
