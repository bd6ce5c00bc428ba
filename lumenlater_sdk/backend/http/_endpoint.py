"""The one adapter from a :class:`RouteSpec` to a Starlette route.

A request is one pass: gate (rate limit, key), input, then the handler in one hop
to a worker thread (a keyed POST claims its key, runs and stores its answer there
too), or, for a point read where the database never waits, on the event loop
itself, where it costs less than the hop. Refusals are raised and turned into the
wire envelope by the app's exception handlers (``_errors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio.to_thread
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from .._json_text import compact
from ..services import idempotency
from ..services.context import RequestInfo, ServiceContext
from ..services.errors import ServiceError
from ._errors import from_service, internal_error, response_headers
from ._gate import Gate
from ._input import (
    check_path,
    check_raw_body,
    idempotency_key,
    parse_body,
    parse_query,
    read_body,
)
from ._ratelimit import address_bucket
from ._spec import Call, RouteSpec

__all__ = ["SpecEndpoint", "routes_for"]

_JSON = (b"content-type", b"application/json")
_REPLAYED = (b"idempotent-replayed", b"true")


class SpecEndpoint:
    """Serves one spec (an ASGI app, so Starlette hands it the raw scope)."""

    def __init__(
        self, spec: RouteSpec, ctx: ServiceContext, gate: Gate, writers: anyio.CapacityLimiter
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.gate = gate
        # Shared by every POST of the app (BackendConfig.write_concurrency); reads keep
        # anyio's default pool.
        self.limiter = writers if spec.method == "POST" else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec, ctx = self.spec, self.ctx
        scope["lumenlater.route"] = spec.path
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        principal = await self.gate.admit(spec, headers, scope)
        check_path(scope["path_params"])
        raw = await read_body(receive) if scope["method"] == "POST" else b""
        query = parse_query(spec, scope)
        if spec.raw_body:
            check_raw_body(raw, headers)
        body, parsed = (None, None) if spec.raw_body else parse_body(spec, raw, headers)
        key = idempotency_key(headers)
        request_id: str = scope["lumenlater.request_id"]
        call = Call(
            ctx=ctx,
            principal=principal,
            path=scope["path_params"],
            body=body,
            query=query,
            request=RequestInfo(request_id, key),
            url_path=scope["path"],
            headers=headers,
            raw=raw,
            client=address_bucket(scope) if principal is None else "",
        )
        extra = response_headers(scope)
        if key is not None and spec.method == "POST" and principal is not None:
            fp = idempotency.fingerprint("POST", scope["path"], raw, parsed=parsed)
            status, answer, replayed = await anyio.to_thread.run_sync(
                self._invoke_idempotent, call, principal.merchant_id, key, fp, limiter=self.limiter
            )
            await _send(send, status, answer, [*extra, _REPLAYED] if replayed else extra)
            return
        if spec.inline and ctx.db.inline_reads:
            status, payload = self._invoke(call)
        else:
            status, payload = await anyio.to_thread.run_sync(
                self._invoke, call, limiter=self.limiter
            )
        if isinstance(payload, bytes):
            await _send(send, status, payload, extra)
        else:
            await payload(scope, receive, _with_headers(send, extra))

    def _invoke(self, call: Call) -> tuple[int, Any]:
        try:
            result = self.spec.handler(call)
        except ServiceError as exc:
            return from_service(exc, call.request.request_id or "")
        except Exception:
            return internal_error(call.request.request_id or "")
        if isinstance(result, dict | bytes):
            return self.spec.status, _encode(result)
        return self.spec.status, result

    def _invoke_idempotent(
        self, call: Call, merchant_id: str, key: str, fp: idempotency.Fingerprint
    ) -> tuple[int, bytes, bool]:
        """Replay the key's stored answer, or run the request as one unit whose writes and
        stored answer commit together. Returns (status, body, replayed)."""
        request_id = call.request.request_id or ""
        unit: idempotency.Unit | None = None
        try:
            now = self.ctx.config.clock()
            with idempotency.unit(self.ctx.db, merchant_id, key, fp, now, box=self.ctx.box) as unit:
                if unit.replay is not None:
                    return unit.replay.status_code, unit.replay.body, True
                call.ctx = self.ctx.with_db(unit.db)  # the call is this request's own
                try:
                    result = self.spec.handler(call)
                except ServiceError as exc:
                    status, body = from_service(exc, request_id)
                    if status >= 500:  # a chain outage, say: a retry may succeed
                        raise
                    # A refusal is the key's answer for good; what the request
                    # wrote is rolled back.
                    unit.refuse(status, body)
                else:
                    status, body = self.spec.status, _encode(result)
                    unit.complete(status, body)
            return status, body, False
        except ServiceError as exc:
            if unit is None:  # the claim itself was refused (409): nothing to record
                raise
            return (*from_service(exc, request_id), False)
        except Exception:
            # Everything the request wrote was rolled back and nothing was stored for
            # the key (a failure to claim it included: a lock timeout, say), so a retry
            # runs again.
            return (*internal_error(request_id), False)


class _ByMethod:
    """The specs of one path; Starlette's :class:`Route` answers 405 with ``Allow``."""

    def __init__(self, endpoints: dict[str, SpecEndpoint]) -> None:
        self.endpoints = endpoints
        if "GET" in endpoints:
            endpoints.setdefault("HEAD", endpoints["GET"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoints[scope["method"]](scope, receive, send)


def routes_for(specs: Sequence[RouteSpec], ctx: ServiceContext, gate: Gate) -> list[Route]:
    """One Starlette route per path, in the specs' order (the first specs match first)."""
    by_path: dict[str, dict[str, SpecEndpoint]] = {}
    writers = anyio.CapacityLimiter(ctx.config.writers)
    for spec in specs:
        methods = by_path.setdefault(spec.path, {})
        if spec.method in methods:
            raise ValueError(f"duplicate route {spec.method} {spec.path}")
        methods[spec.method] = SpecEndpoint(spec, ctx, gate, writers)
    return [
        Route(path, _ByMethod(endpoints), methods=list(endpoints))
        for path, endpoints in by_path.items()
    ]


def _encode(result: Any) -> bytes:
    if isinstance(result, bytes):
        return result
    if isinstance(result, dict):
        return compact(result).encode()
    raise TypeError(f"a JSON handler returned {type(result).__name__}")


async def _send(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(body)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return wrapped
