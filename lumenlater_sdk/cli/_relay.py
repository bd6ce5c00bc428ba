"""The relay ``lumenlater listen`` runs: verify each delivery, re-sign it, forward it.

Deliveries arrive from the sandbox signed with the temporary endpoint's secret; they
leave for the app signed with the machine's listen secret, so the app verifies exactly
as in production. A forward that fails (connection refused, 5xx, 429) is tried again a
few times with a growing pause, each attempt printed, all within the sandbox's own
delivery timeout; the last answer is what the sandbox sees, so it retries later on its
schedule if the app still fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anyio

from .._http import AsyncHTTP, TransportFailure
from ..webhooks import SignatureVerificationError, sign, verify_signature

__all__ = ["Relay"]

_FORWARDED = (
    "content-type",
    "user-agent",
    "x-lumenlater-event-id",
    "x-lumenlater-event-type",
    "x-lumenlater-delivery-attempt",
)
# Under the sandbox's 10 s delivery timeout, so the sandbox hears the last answer.
_BUDGET = 8.0


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


class Relay:
    """The ASGI app deliveries arrive at: verify with *inbound_secret*, re-sign, forward.

    *attempts* forwards at most (the first and its retries), pausing *backoff* seconds
    before the second and twice as long before each later one. *print_json* also
    prints each event's JSON.
    """

    def __init__(
        self,
        forward_to: str,
        *,
        inbound_secret: str,
        outbound_secret: str,
        out: Callable[[str], None] = print,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        print_json: bool = False,
    ) -> None:
        self.forward_to = forward_to
        self.inbound_secret = inbound_secret
        self.outbound_secret = outbound_secret
        self._out = out
        self._timeout = timeout
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._print_json = print_json
        self._http = AsyncHTTP()

    async def _reply(self, send: Any, status: int, body: bytes = b"") -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Handle one delivery from the sandbox."""
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = b""
        more = True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        if scope["method"] != "POST":
            await self._reply(send, 405)
            return
        try:
            verify_signature(body, headers.get("x-lumenlater-signature"), self.inbound_secret)
        except SignatureVerificationError as exc:
            await self._reply(send, 400, str(exc).encode())
            return
        status = await self._forward(headers, body)
        await self._reply(send, status)

    async def _forward(self, headers: dict[str, str], body: bytes) -> int:
        kind = headers.get("x-lumenlater-event-type", "?")
        event = f"{kind} [{headers.get('x-lumenlater-event-id', '?')}]"
        out = {k: v for k, v in headers.items() if k in _FORWARDED}
        out["x-lumenlater-signature"] = sign(body, self.outbound_secret)
        if self._print_json:
            try:
                self._out(json.dumps(json.loads(body), indent=2))
            except ValueError:
                self._out(body.decode("utf-8", "replace"))
        deadline = time.monotonic() + _BUDGET
        pause = self._backoff
        status = 502
        for attempt in range(1, self._attempts + 1):
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            timeout = max(0.1, min(self._timeout, deadline - time.monotonic()))
            try:
                resp = await self._http.send("POST", self.forward_to, out, body, None, timeout)
                status, shown = resp.status_code, f"[{resp.status_code}]"
            except TransportFailure as exc:
                status, shown = 502, f"[ERR] {exc}"
            last = (
                attempt == self._attempts
                or not _retryable(status)
                or time.monotonic() + pause >= deadline
            )
            then = "" if last else f"; retrying in {pause:g}s"
            tries = f" (attempt {attempt}/{self._attempts})" if attempt > 1 or not last else ""
            self._out(f"{stamp}  --> {event}  <-- {shown} POST {self.forward_to}{tries}{then}")
            if last:
                return status
            await anyio.sleep(pause)
            pause *= 2
        return status  # pragma: no cover - the loop returns on its last attempt

    async def aclose(self) -> None:
        """Close the forwarding HTTP client."""
        await self._http.aclose()
