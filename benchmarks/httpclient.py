"""A minimal asyncio HTTP/1.1 client (one request per connection, `Connection: close`).

Enough for the command API of both targets, with no extra dependency; a loopback
TCP connect costs well under a millisecond, far below what is measured.
"""

from __future__ import annotations

import asyncio


async def request(
    host: str, port: int, method: str, path: str, body: bytes = b"", *, headers: dict | None = None, timeout: float = 30
) -> tuple[int, bytes]:
    async def go():
        reader, writer = await asyncio.open_connection(host, port)
        try:
            hdrs = {
                "Host": f"{host}:{port}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Content-Length": str(len(body)),
                "Connection": "close",
                **(headers or {}),
            }
            head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        return parse_response(raw)

    return await asyncio.wait_for(go(), timeout)


def parse_response(raw: bytes) -> tuple[int, bytes]:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip().lower()
    if headers.get(b"transfer-encoding") == b"chunked":
        body, pos = b"", 0
        while True:
            end = rest.index(b"\r\n", pos)
            size = int(rest[pos:end].split(b";")[0], 16)
            if size == 0:
                break
            body += rest[end + 2 : end + 2 + size]
            pos = end + 2 + size + 2
        return status, body
    if b"content-length" in headers:
        return status, rest[: int(headers[b"content-length"])]
    return status, rest
