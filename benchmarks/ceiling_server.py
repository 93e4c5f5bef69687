"""The bare-library ceiling: an OCPP 1.6 central system made of the `ocpp` library and
`websockets` only — no database, no Django, no channel layer.

It answers BootNotification, Heartbeat, StatusNotification, MeterValues, Authorize,
Start/StopTransaction and DataTransfer (every frame validated by the library, as the
library does by default), and serves a control API with the same shape as EVzone's
raw console, so the load generator drives both targets the same way:

    POST /api/v1/charge-points/{identity}/ocpp/{Action}?timeout=S   body: OCPP payload (camelCase)
    -> 200 {"status": "ok", "response": {...}} | {"status": "error", "error": {...}}
       409 charger not connected, 504 no answer in time
    GET /stats -> {"connections": N, "calls": N}

`--workers N` runs N processes sharing the websocket port and the control port
(SO_REUSEPORT: the kernel spreads connections over them). A command that lands on
a process without the charger is forwarded to the others over their private peer
ports — the smallest possible equivalent of EVzone's Redis channel layer.

    python -m benchmarks.ceiling_server --port 9000 --http-port 9001 [--workers 2] [--password P]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import logging
import multiprocessing
import os
import resource
import signal
import sys
from datetime import UTC, datetime

import websockets
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

logging.getLogger("ocpp").setLevel(logging.WARNING)
logging.getLogger("websockets").setLevel(logging.ERROR)

HEARTBEAT_INTERVAL = 300
_tx_ids = itertools.count(1)
ACCEPTED = {"status": AuthorizationStatus.accepted}


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CeilingChargePoint(ChargePoint):
    # Handler names must not shadow ChargePoint methods (a handler called `start`
    # would replace ChargePoint.start and kill every connection).
    @on(Action.boot_notification)
    async def on_boot(self, **kw):
        return call_result.BootNotification(
            current_time=_now(), interval=HEARTBEAT_INTERVAL, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self, **kw):
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    async def on_status(self, **kw):
        return call_result.StatusNotification()

    @on(Action.meter_values)
    async def on_meter_values(self, **kw):
        return call_result.MeterValues()

    @on(Action.authorize)
    async def on_authorize(self, **kw):
        return call_result.Authorize(id_tag_info=ACCEPTED)

    @on(Action.start_transaction)
    async def on_start_transaction(self, **kw):
        return call_result.StartTransaction(transaction_id=next(_tx_ids), id_tag_info=ACCEPTED)

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, **kw):
        return call_result.StopTransaction(id_tag_info=ACCEPTED)

    @on(Action.data_transfer)
    async def on_data_transfer(self, **kw):
        return call_result.DataTransfer(status="Accepted")


class Central:
    def __init__(self, password: str | None, peer_ports: list[int], own_peer_port: int | None):
        self.password = password
        self.chargers: dict[str, CeilingChargePoint] = {}
        self.peer_ports = [p for p in peer_ports if p != own_peer_port]

    # ------------------------------------------------------------------ websockets
    def check_auth(self, connection, request):
        if self.password is None:
            return None
        ident = request.path.rstrip("/").rsplit("/", 1)[-1]
        expected = "Basic " + base64.b64encode(f"{ident}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response(401, "Unauthorized", Headers([("WWW-Authenticate", 'Basic realm="OCPP"')]), b"")
        return None

    async def handle(self, ws):
        ident = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        old = self.chargers.get(ident)
        cp = CeilingChargePoint(ident, ws)
        self.chargers[ident] = cp
        if old is not None:
            # A second connection with the same identity replaces the first.
            await old._connection.close()
        try:
            await cp.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.chargers.get(ident) is cp:
                del self.chargers[ident]

    # ------------------------------------------------------------------ commands
    async def command(self, ident: str, action: str, payload: dict, timeout: float, forwarded: bool):
        cp = self.chargers.get(ident)
        if cp is None:
            if forwarded or not self.peer_ports:
                return 409, {"detail": "The charger is not connected.", "code": "offline"}
            return await self.forward(ident, action, payload, timeout)
        cls = getattr(call, action, None)
        if cls is None:
            return 400, {"detail": f"{action} is not a 1.6 command.", "code": "unknown_action"}
        try:
            request = cls(**_camel_to_snake(payload))
        except TypeError as exc:
            return 400, {"detail": str(exc), "code": "invalid"}
        try:
            answer = await asyncio.wait_for(cp.call(request, suppress=False), timeout)
        except TimeoutError:
            return 504, {"detail": "The charger did not answer in time.", "code": "timeout"}
        except websockets.ConnectionClosed:
            return 409, {"detail": "The charger is not connected.", "code": "offline"}
        except Exception as exc:  # a CALLERROR raised as an OCPPError
            return 200, {"status": "error", "error": {"code": type(exc).__name__, "description": str(exc)}}
        return 200, {"status": "ok", "response": snake_to_camel_case(remove_nones(serialize_as_dict(answer)))}

    async def forward(self, ident, action, payload, timeout):
        body = json.dumps(payload).encode()
        path = f"/api/v1/charge-points/{ident}/ocpp/{action}?timeout={timeout}&forwarded=1"

        async def ask(port):
            return await http_post("127.0.0.1", port, path, body, timeout=timeout + 2)

        for fut in asyncio.as_completed([ask(p) for p in self.peer_ports]):
            with contextlib.suppress(Exception):
                status, answer = await fut
                if status != 409:
                    return status, answer
        return 409, {"detail": "The charger is not connected.", "code": "offline"}

    async def http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0) or 0))
                path, _, query = target.partition("?")
                params = dict(p.partition("=")[::2] for p in query.split("&") if p)
                parts = path.strip("/").split("/")
                if method == "GET" and path == "/stats":
                    status, answer = 200, {"connections": len(self.chargers), "pid": os.getpid()}
                elif (
                    method == "POST"
                    and len(parts) == 6
                    and parts[:3] == ["api", "v1", "charge-points"]
                    and parts[4] == "ocpp"
                ):
                    try:
                        payload = json.loads(body or b"{}")
                        timeout = float(params.get("timeout", 30))
                    except ValueError:
                        status, answer = 400, {"detail": "bad request", "code": "invalid"}
                    else:
                        status, answer = await self.command(
                            parts[3], parts[5], payload, timeout, forwarded="forwarded" in params
                        )
                else:
                    status, answer = 404, {"detail": "not found", "code": "not_found"}
                data = json.dumps(answer).encode()
                keep = headers.get("connection", "").lower() != "close"
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}"
                    f"\r\nConnection: {'keep-alive' if keep else 'close'}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


def _camel_to_snake(payload: dict) -> dict:
    from ocpp.charge_point import camel_to_snake_case

    return camel_to_snake_case(payload)


async def http_post(
    host: str, port: int, path: str, body: bytes, timeout: float = 30, headers: dict | None = None
) -> tuple[int, dict]:
    """A one-shot HTTP/1.1 POST (Connection: close) returning (status, JSON body)."""
    from benchmarks.httpclient import request

    status, data = await request(host, port, "POST", path, body, headers=headers, timeout=timeout)
    return status, json.loads(data or b"{}")


async def run_worker(
    host: str,
    port: int,
    http_port: int,
    peer_port: int | None,
    peer_ports: list[int],
    password: str | None,
    reuse: bool,
    ready=None,
) -> None:
    raise_nofile()
    central = Central(password, peer_ports, peer_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve(
        central.handle,
        host,
        port,
        subprotocols=["ocpp1.6"],
        process_request=central.check_auth,
        backlog=4096,
        reuse_port=reuse,
        compression=None,
        max_size=2**20,
    ):
        http = await asyncio.start_server(central.http, host, http_port, reuse_port=reuse, backlog=1024)
        peer = await asyncio.start_server(central.http, host, peer_port) if peer_port else None
        if ready is not None:
            ready.set()
        await stop.wait()
        http.close()
        if peer:
            peer.close()


def _worker_main(args, peer_port, peer_ports, ready):
    _run(
        run_worker(args.host, args.port, args.http_port, peer_port, peer_ports, args.password, args.workers > 1, ready),
        args.loop,
    )


def _run(coro, loop_name: str) -> None:
    if loop_name == "uvloop":
        try:
            import uvloop

            uvloop.run(coro)
            return
        except ImportError:
            pass
    asyncio.run(coro)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--http-port", type=int, default=9001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--peer-ports",
        default="",
        help="comma-separated private ports, one per worker, for forwarding commands (default: port+2, port+3, ...)",
    )
    parser.add_argument("--password", default=None, help="require HTTP Basic identity:PASSWORD")
    # uvicorn (EVzone's server) runs on uvloop when it is installed, so the ceiling does too.
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = parser.parse_args(argv)
    if args.workers <= 1:
        _run(run_worker(args.host, args.port, args.http_port, None, [], args.password, False), args.loop)
        return
    peer_ports = [int(p) for p in args.peer_ports.split(",") if p] or [args.port + 2 + i for i in range(args.workers)]
    if len(peer_ports) != args.workers:
        parser.error("--peer-ports needs one port per worker")
    ctx = multiprocessing.get_context("fork")
    procs = []
    for i in range(args.workers):
        ready = ctx.Event()
        p = ctx.Process(target=_worker_main, args=(args, peer_ports[i], peer_ports, ready), daemon=True)
        p.start()
        procs.append(p)

    def stop(*_):
        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for p in procs:
        p.join()
    sys.exit(0)


if __name__ == "__main__":
    main()
