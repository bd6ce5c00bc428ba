"""A real receiving server for the delivery tests: a ``WebhookApp`` under uvicorn on loopback.

A thin ASGI front records every request (event id, attempt, signature, timing) and
can misbehave on demand (answer 500, hang) before the real ``WebhookApp`` sees it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lumenlater_sdk._ports import free_port
from lumenlater_sdk._serving import ThreadedServer
from lumenlater_sdk.types import BaseEvent
from lumenlater_sdk.webhooks import InMemoryEventStore, WebhookApp


@dataclass
class Hit:
    """One request the receiver got."""

    event_id: str
    event_type: str
    attempt: int
    signature: str
    body: bytes
    headers: dict[str, str]
    started: float
    ended: float = 0.0
    status: int = 0


class Receiver:
    """Start with :meth:`start`; ``mode`` is ``"ok"``, ``"500"``, ``"hang"`` (answer after
    ``hang_seconds``) or ``"hold"`` (answer once :meth:`release` is called).

    ``open_now`` is the number of requests being answered right now, ``most_open`` the
    most there ever were at once.
    """

    def __init__(self, secret: str | list[str] = "whsec_unset", port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.mode = "ok"
        self.hang_seconds = 3.0
        self.fail_every = 0  # if n > 0, every n-th request is answered 500
        self._count = 0
        self.hits: list[Hit] = []
        self.handled: list[BaseEvent] = []
        self.handled_at: dict[str, float] = {}
        self.on_handled: Callable[[BaseEvent], None] | None = None
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.open_now = 0
        self.most_open = 0
        self.hooks = self._make_hooks(secret)
        self._server: ThreadedServer | None = None

    def _make_hooks(self, secret: str | list[str]) -> WebhookApp:
        # One process receives: its own store is the one meant (and says so, unwarned).
        hooks = WebhookApp(secret=secret, store=InMemoryEventStore())

        @hooks.on("*")
        async def handle(event: BaseEvent) -> None:
            with self._lock:
                self.handled.append(event)
                self.handled_at.setdefault(event.id, time.time())
            if self.on_handled is not None:
                self.on_handled(event)

        return hooks

    def set_secret(self, secret: str | list[str]) -> None:
        """Verify with this secret (or these) from now on."""
        self.hooks.secret = secret

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.hooks(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = b""
        more = True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        hit = Hit(
            headers.get("x-lumenlater-event-id", ""),
            headers.get("x-lumenlater-event-type", ""),
            int(headers.get("x-lumenlater-delivery-attempt", "0")),
            headers.get("x-lumenlater-signature", ""),
            body,
            headers,
            time.monotonic(),
        )
        with self._lock:
            self.hits.append(hit)
            self._count += 1
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            flaky = self.fail_every > 0 and self._count % self.fail_every == 0
        status = [0]

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        if self.mode == "hang":
            await asyncio.sleep(self.hang_seconds)
        while self.mode == "hold" and not self._released.is_set():
            await asyncio.sleep(0.01)
        if self.mode == "500" or flaky:
            await capture({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"down for maintenance"})
        else:
            await self.hooks(scope, replay, capture)
        with self._lock:
            self.open_now -= 1
        hit.ended = time.monotonic()
        hit.status = status[0]

    def start(self) -> Receiver:
        """Serve on ``self.port`` until :meth:`stop`."""
        self._server = ThreadedServer(
            self._app, self.port, name="receiver", lifespan="off", interface="asgi3"
        ).start(timeout=10)
        return self

    def release(self) -> None:
        """Answer the requests ``"hold"`` keeps waiting, and every later one at once."""
        self._released.set()

    def stop(self) -> None:
        """Stop serving (the port refuses connections afterwards)."""
        self.release()
        if self._server is not None:
            self._server.stop(10)
        self._server = None

    def wait_handled(self, n: int, timeout: float = 30.0) -> list[BaseEvent]:
        """Block until *n* distinct events were handled; fail the test otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len({e.id for e in self.handled}) >= n:
                    return list(self.handled)
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.handled)} of {n} events handled in {timeout}s")

    def wait_hits(self, n: int, timeout: float = 30.0) -> list[Hit]:
        """Block until *n* requests arrived (and were answered)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                done = [h for h in self.hits if h.ended]
            if len(done) >= n:
                return done
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.hits)} of {n} requests arrived in {timeout}s")
