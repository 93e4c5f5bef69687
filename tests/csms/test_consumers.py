"""OcppConsumer.connect without a server: the handshake's database call is made inline."""

import base64

import pytest

from apps.chargers.services import charge_point_create
from apps.csms import consumers
from tests.csms.harness import drive, inline_db

PASSWORD = "a-good-charger-password"


def _consumer(tenant, send):
    consumer = consumers.OcppConsumer()
    auth = base64.b64encode(f"CP-GONE:{PASSWORD}".encode())
    consumer.scope = {
        "type": "websocket",
        "ocpp_tenant": {"schema": tenant.schema_name},
        "url_route": {"kwargs": {"identity": "CP-GONE"}},
        "subprotocols": ["ocpp1.6"],
        "headers": [(b"authorization", b"Basic " + auth)],
        "client": ("192.0.2.7", 4000),
    }
    consumer.base_send = send
    consumer.channel_name = "test.channel!1"
    return consumer


@pytest.fixture
def inline(monkeypatch):
    monkeypatch.setattr(consumers, "run_in_schema", inline_db)
    monkeypatch.setattr(consumers.watchdog, "ensure_started", lambda: None)


def test_an_accepted_handshake_leaves_the_charger_online(in_tenant_a, inline, monkeypatch):
    cp = charge_point_create(identity="CP-GONE", password=PASSWORD)
    sent = []

    async def send(message):
        sent.append(message)

    consumer = _consumer(in_tenant_a, send)
    # Past the accept, connect() joins the charger's channel-layer group: not under test here.
    monkeypatch.setattr(consumers.OcppConsumer, "_layer", lambda self, *a: _noop())
    monkeypatch.setattr(consumers.group_keeper, "add", lambda consumer: None)
    drive(consumer.connect())
    assert sent == [{"type": "websocket.accept", "subprotocol": "ocpp1.6"}]
    cp.refresh_from_db()
    assert cp.online and cp.connection_id == consumer.ctx.connection_id


async def _noop():
    return None


def test_a_charger_gone_before_the_accept_is_not_left_online(in_tenant_a, inline):
    cp = charge_point_create(identity="CP-GONE", password=PASSWORD)

    async def gone(message):
        raise OSError("client went away")

    consumer = _consumer(in_tenant_a, gone)
    with pytest.raises(OSError):
        drive(consumer.connect())
    cp.refresh_from_db()
    assert not cp.online and cp.connection_id == ""
