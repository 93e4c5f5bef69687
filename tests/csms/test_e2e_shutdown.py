"""A charger that goes away must take its consumer with it (issue 8).

On Python 3.11, asyncio.wait_for() swallows a cancellation that lands in the loop
iteration in which the awaited task finishes (CPython gh-86296, fixed in 3.12 only).
redis-py wraps every command write in wait_for() whenever the connection has a
socket_timeout. Channels cancels a consumer's channel-layer receive when its websocket
closes; if that cancellation hit the write of channels-redis's BZPOPMIN, receive() kept
looping BZPOPMIN every 5 s, the consumer task never finished, and uvicorn waited for
it forever on SIGTERM ("Waiting for background tasks to complete").
"""

import asyncio
import random
import signal

import pytest
import websockets
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from apps.chargers.services import charge_point_create
from tests.csms.conftest import start_server, stop_server

RECEIVERS = 200
ROUNDS = 6
CHARGERS = 60
WAVES = 4

pytestmark = [pytest.mark.e2e]


def _layer() -> RedisChannelLayer:
    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": "evzone-test-cancel"}
    return RedisChannelLayer(**config)


def test_cancelled_channel_receive_always_ends():
    """What Channels does to a process's consumers as their chargers leave: many receive()
    calls on one layer (one of them blocked in BZPOPMIN for all), cancelled one after the
    other at varied moments. Every cancelled receive must end."""

    async def scenario():
        layer = _layer()
        rng = random.Random(8)  # a fixed sequence of moments; the race needs no luck
        stuck = []
        try:
            for _ in range(ROUNDS):
                channels = [await layer.new_channel() for _ in range(RECEIVERS)]
                tasks = [asyncio.ensure_future(layer.receive(name)) for name in channels]
                await asyncio.sleep(0.05)
                for name in rng.sample(channels, RECEIVERS // 10):
                    await layer.send(name, {"type": "hello"})
                rng.shuffle(tasks)
                for i, task in enumerate(tasks):
                    task.cancel()
                    # Cancel the next one after 0..3 loop iterations: that walks the
                    # cancellation across every step of the lock holder's EVAL + BZPOPMIN.
                    for _ in range(i % 4):
                        await asyncio.sleep(0)
                done, pending = await asyncio.wait(tasks, timeout=2)
                stuck += pending
                # A second cancellation ends them (the race is a narrow one), so the test
                # does not leave tasks behind.
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=10)
        finally:
            await layer.flush()
            await layer.close_pools()
        return stuck

    stuck = asyncio.run(scenario())
    assert stuck == [], f"{len(stuck)} cancelled receive() calls kept running: {stuck[:3]}"


def test_server_exits_promptly_on_sigterm_after_chargers_come_and_go(e2e_db, tmp_path):
    """Waves of chargers connect and all leave at once; then SIGTERM. A consumer task left
    behind shows as uvicorn cancelling it after the graceful-shutdown timeout."""
    identities = [f"E2E-BYE-{i}" for i in range(CHARGERS)]

    def create():
        for identity in identities:
            charge_point_create(identity=identity, security_profile=0)

    e2e_db.run(create)
    proc, server = start_server(e2e_db.org, tmp_path / "server.log")

    async def wave():
        sockets = await asyncio.gather(
            *(
                websockets.connect(server.url(identity), subprotocols=["ocpp1.6"], open_timeout=20)
                for identity in identities
            )
        )
        await asyncio.sleep(0.2)
        await asyncio.gather(*(ws.close() for ws in sockets))

    try:
        for _ in range(WAVES):
            asyncio.run(wave())
        # Every consumer's disconnect handler has had time to run.
        asyncio.run(asyncio.sleep(1))
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        stop_server(proc)
    log = server.log()
    # The server runs with --timeout-graceful-shutdown 1 (conftest), so it exits either way.
    assert "graceful shutdown exceeded" not in log, log[-3000:]
    # uvicorn re-raises the signal it caught once its shutdown is complete.
    assert proc.returncode == -signal.SIGTERM, log[-3000:]
