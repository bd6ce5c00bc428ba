"""The API's ASGI core: route, rate-limit, authenticate, validate, idempotency, run, encode.

A single pass per request keeps the hot path short: a cached key costs no
database round trip, and the handler runs in one hop to a worker thread (a keyed
POST claims its key, runs and stores its answer there too), or, for a point read
on SQLite, on the event loop itself, where it costs less than the hop.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from pydantic import ValidationError

from .._crypto import hash_key
from ..services import idempotency
from ..services.context import Principal, RequestInfo, ServiceContext
from ..services.errors import ServiceError
from ..services.merchants import KeyCache, authenticate
from ._errors import error_body, from_service, from_validation
from ._ratelimit import RateDecision, RateLimiter
from ._router import Router
from ._spec import Call, RouteSpec

__all__ = ["ApiApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("lumenlater.backend")

_MAX_BODY = 1 << 20
_JSON = (b"content-type", b"application/json")


class _HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body


def _valid_idem_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(33 <= ord(c) <= 126 or c == " " for c in key)


class ApiApp:
    """Serves every :class:`RouteSpec`."""

    def __init__(
        self, ctx: ServiceContext, specs: Sequence[RouteSpec], limiter: RateLimiter
    ) -> None:
        self.ctx = ctx
        self.specs = list(specs)
        self.router = Router(specs)
        self.limiter = limiter
        self.keys = KeyCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id: str = scope["lumenlater.request_id"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method: str = scope["method"]
        path: str = scope["path"]
        spec, params, exists = self.router.match(method, path)
        if spec is not None:
            scope["lumenlater.route"] = spec.path
        extra: list[tuple[bytes, bytes]] = []
        try:
            if spec is None:
                if exists:
                    raise _HttpError(
                        *error_body(
                            405,
                            "invalid_request_error",
                            "method_not_allowed",
                            f"{method} is not allowed here.",
                            None,
                            request_id,
                        )
                    )
                raise _HttpError(
                    *error_body(
                        404,
                        "invalid_request_error",
                        "route_not_found",
                        f"Unrecognized request URL ({method} {path}).",
                        None,
                        request_id,
                    )
                )
            principal, decision = await self._authenticate(spec, headers, scope, request_id)
            if decision is not None:
                extra = decision.headers()
            await self._run(
                spec, params, principal, headers, scope, receive, send, request_id, extra
            )
        except _HttpError as err:
            if isinstance(err, _RateLimited):
                extra = err.decision.headers()
            await _send(send, err.status, err.body, extra)
        except ServiceError as exc:
            await _send(send, *from_service(exc, request_id), extra)

    async def _authenticate(
        self, spec: RouteSpec, headers: dict[str, str], scope: Scope, request_id: str
    ) -> tuple[Principal | None, RateDecision | None]:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        bucket = hash_key(token) if token else "ip:" + str((scope.get("client") or ("?",))[0])
        decision = self.limiter.take(bucket)
        if not decision.allowed:
            status, body = error_body(
                429,
                "rate_limit_error",
                "rate_limited",
                "Too many requests; slow down.",
                None,
                request_id,
            )
            raise _RateLimited(status, body, decision)
        if spec.auth == "none":
            return None, decision
        if not token:
            raise _HttpError(
                *error_body(
                    401,
                    "authentication_error",
                    "api_key_missing",
                    "No API key provided: send Authorization: Bearer sk_test_…",
                    None,
                    request_id,
                )
            )
        principal = self.keys.get(bucket)
        if principal is None:
            principal = await anyio.to_thread.run_sync(authenticate, self.ctx, self.keys, token)
        if principal is None:
            raise _HttpError(
                *error_body(
                    401,
                    "authentication_error",
                    "api_key_invalid",
                    "Invalid API key.",
                    None,
                    request_id,
                )
            )
        if principal.kind == "publishable" and spec.auth != "publishable":
            raise _HttpError(
                *error_body(
                    403,
                    "permission_error",
                    "secret_key_required",
                    "Publishable keys can only read a checkout session by its client_secret.",
                    None,
                    request_id,
                )
            )
        if spec.test_only and principal.livemode:
            raise _HttpError(
                *error_body(
                    404,
                    "invalid_request_error",
                    "route_not_found",
                    "Test helpers are not available in live mode.",
                    None,
                    request_id,
                )
            )
        return principal, decision

    async def _run(
        self,
        spec: RouteSpec,
        params: dict[str, str],
        principal: Principal | None,
        headers: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        raw = await _read_body(receive) if scope["method"] == "POST" else b""
        query = _parse_query(spec, scope, request_id)
        body = None if spec.raw_body else _parse_body(spec, raw, request_id)
        idem_key = headers.get("idempotency-key")
        if idem_key is not None and not _valid_idem_key(idem_key):
            raise _HttpError(
                *error_body(
                    400,
                    "invalid_request_error",
                    "parameter_invalid",
                    "Idempotency-Key must be 1-255 printable ASCII.",
                    "Idempotency-Key",
                    request_id,
                )
            )
        call = Call(
            ctx=self.ctx,
            principal=principal,
            path=params,
            body=body,
            query=query,
            request=RequestInfo(request_id, idem_key),
            url_path=scope["path"],
            headers=headers,
            raw=raw,
        )
        if idem_key is not None and scope["method"] == "POST" and principal is not None:
            fp = idempotency.fingerprint("POST", scope["path"], raw)
            status, answer, replayed = await anyio.to_thread.run_sync(
                self._invoke_idempotent, spec, call, request_id, principal.merchant_id, idem_key, fp
            )
            if replayed:
                extra = [*extra, (b"idempotent-replayed", b"true")]
            await _send(send, status, answer, extra)
            return
        if spec.inline and self.ctx.db.inline_reads:
            status, payload = self._invoke(spec, call, request_id)
        else:
            status, payload = await anyio.to_thread.run_sync(self._invoke, spec, call, request_id)
        if isinstance(payload, bytes):
            await _send(send, status, payload, extra)
            return
        await payload(scope, receive, _with_headers(send, extra))

    def _invoke(self, spec: RouteSpec, call: Call, request_id: str) -> tuple[int, Any]:
        try:
            result = spec.handler(call)
        except ServiceError as exc:
            return from_service(exc, request_id)
        except Exception:
            return _internal_error(request_id)
        if isinstance(result, dict | bytes):
            return spec.status, _encode(result)
        return spec.status, result

    def _invoke_idempotent(
        self, spec: RouteSpec, call: Call, request_id: str, merchant_id: str, key: str, fp: str
    ) -> tuple[int, bytes, bool]:
        """Run a POST with an Idempotency-Key: replay its stored answer, or run it as one
        unit whose writes and stored answer commit together. Returns (status, body, replayed)."""
        unit: idempotency.Unit | None = None
        try:
            now = self.ctx.config.clock()
            with idempotency.unit(self.ctx.db, merchant_id, key, fp, now) as unit:
                if unit.replay is not None:
                    return unit.replay.status_code, unit.replay.body, True
                result = spec.handler(dataclasses.replace(call, ctx=self.ctx.with_db(unit.db)))
                status, body = spec.status, _encode(result)
                unit.complete(status, body)
            return status, body, False
        except ServiceError as exc:
            if unit is None:  # the claim itself was refused (409): nothing to record
                raise
            status, body = from_service(exc, request_id)
        except Exception:
            if unit is None:
                raise
            status, body = _internal_error(request_id)
        except BaseException:
            if unit is not None and unit.claim is not None:
                idempotency.finish(self.ctx.db, unit.claim, 500, b"", store_it=False)
            raise
        assert unit.claim is not None
        # Everything the request wrote was rolled back. A refusal is its answer for good;
        # after a 5xx (a chain outage, a bug) the key is freed so a retry can succeed.
        idempotency.finish(self.ctx.db, unit.claim, status, body, store_it=status < 500)
        return status, body, False


def _encode(result: Any) -> bytes:
    if isinstance(result, bytes):
        return result
    if isinstance(result, dict):
        return json.dumps(result, separators=(",", ":")).encode()
    raise TypeError(f"a JSON handler returned {type(result).__name__}")


def _internal_error(request_id: str) -> tuple[int, bytes]:
    log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
    return error_body(
        500,
        "api_error",
        "internal_error",
        "Something went wrong on our side.",
        None,
        request_id,
    )


class _RateLimited(_HttpError):
    def __init__(self, status: int, body: bytes, decision: RateDecision) -> None:
        super().__init__(status, body)
        self.decision = decision


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            raise _HttpError(
                413,
                b'{"error":{"type":"invalid_request_error",'
                b'"code":"body_too_large","message":"Body over 1 MiB."}}',
            )
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _parse_query(spec: RouteSpec, scope: Scope, request_id: str) -> Any:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if spec.query is None:
        if pairs:
            name = pairs[0][0]
            raise _HttpError(
                *error_body(
                    400,
                    "invalid_request_error",
                    "parameter_unknown",
                    f"Received unknown parameter: {name}",
                    name,
                    request_id,
                )
            )
        return None
    try:
        return spec.query.model_validate(dict(pairs))
    except ValidationError as exc:
        raise _HttpError(*from_validation(exc, request_id)) from None


def _parse_body(spec: RouteSpec, raw: bytes, request_id: str) -> Any:
    if spec.method != "POST" or spec.body is None:
        if raw.strip() not in (b"", b"{}"):
            raise _HttpError(
                *error_body(
                    400,
                    "invalid_request_error",
                    "parameter_unknown",
                    "This endpoint takes no request body.",
                    None,
                    request_id,
                )
            )
        return None
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise _HttpError(
            *error_body(
                400,
                "invalid_request_error",
                "invalid_json",
                "The body is not valid JSON.",
                None,
                request_id,
            )
        ) from None
    if not isinstance(data, dict):
        raise _HttpError(
            *error_body(
                400,
                "invalid_request_error",
                "invalid_json",
                "The body must be a JSON object.",
                None,
                request_id,
            )
        )
    try:
        return spec.body.model_validate(data)
    except ValidationError as exc:
        raise _HttpError(*from_validation(exc, request_id)) from None


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
