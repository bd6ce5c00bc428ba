"""CORS for the embed script: pure ASGI middleware.

Only the widget's read of a checkout session (``GET /v1/checkout/sessions/{id}`` with a
publishable key and the session's ``client_secret``) is reachable from a browser on
another origin, and only from the origins the session allows (its ``embed_origins``,
else its account's). The answer names that one origin, never ``*``; every other origin,
path and method gets no CORS headers at all, so the browser keeps the response from the
page. The preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``)
carries no key, so the session's id in the path is what decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.types import Message, Receive, Scope, Send

from ._ratelimit import RateLimiter, address_bucket

__all__ = ["CORS_ALLOWED_HEADERS", "CorsMiddleware"]

_SESSION_READ = re.compile(r"^/v1/checkout/sessions/(cs_[A-Za-z0-9_]{1,100})$")
CORS_ALLOWED_HEADERS = ("authorization", "lumenlater-version")
"""What the widget's session read may send (lower case)."""
_EXPOSED = b"Request-Id, LumenLater-Version"
_MAX_AGE = b"600"


class CorsMiddleware:
    """Answers the session read's preflights and marks its responses, for the origins
    ``allowed(session_id)`` returns (a blocking call, run on a worker thread).

    A preflight carries no key, so it takes from the client address's bucket of
    *limiter* (as a keyless request does), and a refused one gets 429 and no CORS."""

    def __init__(
        self,
        app: Any,
        allowed: Callable[[str], list[str]],
        limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.allowed = allowed
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        match = _SESSION_READ.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        method = scope["method"]
        if method == "OPTIONS" and origin and "access-control-request-method" in headers:
            request_id = scope.get("lumenlater.request_id")
            if self.limiter is not None:
                decision = await self.limiter.take(address_bucket(scope))
                if not decision.allowed:
                    await _refuse(
                        send,
                        429,
                        decision.headers(),
                        "rate_limit_error",
                        "rate_limited",
                        "Too many requests; slow down.",
                        request_id,
                    )
                    return
            await self._preflight(match[1], origin, headers, send, request_id)
            return
        ok = False
        if origin and method in ("GET", "HEAD"):
            ok = origin in await anyio.to_thread.run_sync(self.allowed, match[1])

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"vary", b"Origin")]
                if ok and origin:
                    extra += [
                        (b"access-control-allow-origin", origin.encode("latin-1")),
                        (b"access-control-expose-headers", _EXPOSED),
                    ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, marked)

    async def _preflight(
        self,
        session_id: str,
        origin: str,
        headers: dict[str, str],
        send: Send,
        request_id: str | None,
    ) -> None:
        wanted = headers["access-control-request-method"].strip().upper()
        asked = {
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        }
        ok = (
            wanted in ("GET", "HEAD")
            and asked <= set(CORS_ALLOWED_HEADERS)
            and origin in await anyio.to_thread.run_sync(self.allowed, session_id)
        )
        if not ok:
            await _refuse(
                send,
                403,
                [(b"vary", b"Origin")],
                "permission_error",
                "origin_not_allowed",
                "This origin may not read this checkout session: add it to the account's"
                " or the session's embed_origins.",
                request_id,
            )
            return
        out = [
            (b"vary", b"Origin"),
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", b"GET"),
            (b"access-control-allow-headers", ", ".join(CORS_ALLOWED_HEADERS).encode()),
            (b"access-control-max-age", _MAX_AGE),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": out})
        await send({"type": "http.response.body", "body": b""})


async def _refuse(
    send: Send,
    status: int,
    headers: list[tuple[bytes, bytes]],
    err_type: str,
    code: str,
    message: str,
    request_id: str | None,
) -> None:
    """A refusal in the API's error envelope, with no CORS headers."""
    error = {"type": err_type, "code": code, "message": message, "param": None}
    body = json.dumps({"error": {**error, "request_id": request_id}}).encode()
    out = [
        *headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
