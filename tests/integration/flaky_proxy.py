"""A loopback proxy in front of a real backend that fails the first attempt of each call.

The SDK marks every attempt with ``X-LumenLater-Retry-Count`` (``0`` for the first).
The proxy fails attempt 0 in one of two ways, and forwards every later attempt:

- ``before``: answers 503 without forwarding (the backend never saw the request);
- ``after``: forwards the request, lets the backend act on it, then answers 502 in
  place of the backend's answer (the response is lost on the way back: the case an
  idempotency key exists for).

Every exchange is recorded so a test can see what the backend answered each attempt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from lumenlater_sdk._ports import free_port
from lumenlater_sdk._serving import ThreadedServer

__all__ = ["Exchange", "FlakyProxy", "flaky_proxy"]

_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding"}


@dataclass
class Exchange:
    """One attempt as the proxy saw it."""

    method: str
    path: str
    retry_count: str
    forwarded: bool
    upstream_status: int | None
    upstream_headers: dict[str, str]
    answered: int


@dataclass
class FlakyProxy:
    """The ASGI app; ``mode`` is ``before``, ``after`` or ``off``."""

    upstream: str
    mode: str = "after"
    exchanges: list[Exchange] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        retry_count = headers.get("x-lumenlater-retry-count", "")
        path = scope["path"] + (
            ("?" + scope["query_string"].decode()) if scope["query_string"] else ""
        )
        fail_first = self.mode != "off" and retry_count == "0"
        record = Exchange(scope["method"], scope["path"], retry_count, False, None, {}, 0)
        self.exchanges.append(record)
        if fail_first and self.mode == "before":
            record.answered = 503
            await _answer(send, 503, b'{"error":{"type":"api_error","message":"proxy: try again"}}')
            return
        forward = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
        async with httpx.AsyncClient(base_url=self.upstream, timeout=30) as http:
            upstream = await http.request(scope["method"], path, content=body, headers=forward)
        record.forwarded = True
        record.upstream_status = upstream.status_code
        record.upstream_headers = {k.lower(): v for k, v in upstream.headers.items()}
        if fail_first:
            record.answered = 502
            await _answer(send, 502, b"<html>502 Bad Gateway</html>", b"text/html")
            return
        record.answered = upstream.status_code
        await _answer(
            send,
            upstream.status_code,
            upstream.content,
            upstream.headers.get("content-type", "application/json").encode(),
            [
                (k.lower().encode(), v.encode())
                for k, v in upstream.headers.items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-type"
            ],
        )

    def attempts(self, method: str, path: str) -> list[Exchange]:
        """The recorded attempts of one call, in order."""
        return [e for e in self.exchanges if e.method == method and e.path == path]


async def _answer(
    send: Any,
    status: int,
    body: bytes,
    content_type: bytes = b"application/json",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})


@contextmanager
def flaky_proxy(upstream: str, mode: str = "after") -> Iterator[tuple[FlakyProxy, str]]:
    """Serve a :class:`FlakyProxy` on a free loopback port; yield it and its base URL."""
    proxy = FlakyProxy(upstream, mode)
    port = free_port()
    server = ThreadedServer(proxy, port, name="flaky proxy", lifespan="on").start(timeout=20)
    try:
        yield proxy, f"http://127.0.0.1:{port}"
    finally:
        server.stop(20)
