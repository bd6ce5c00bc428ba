"""Pure ASGI middleware: request ids, the version header, access logs, metrics and the
request log."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from ..._version import API_VERSION
from ..observability import BackendMetrics
from ..services.context import Principal
from ..services.request_log import RequestLog

__all__ = ["TAIL_ROUTE", "RequestContextMiddleware"]

TAIL_ROUTE = "/v1/request_logs"
"""Reading the request log is not logged: a tail polling it would fill it with itself."""

log = logging.getLogger("lumenlater.backend.access")


class RequestContextMiddleware:
    """Gives every request a ``req_…`` id, echoes it and ``LumenLater-Version``, and
    records one log line and the Prometheus series per request (by route template,
    so ids in paths do not explode the label set). Never logs headers or bodies. With a
    *request_log*, each request the gate authenticated is buffered there for its
    merchant (the gate leaves the caller in ``scope["lumenlater.principal"]``)."""

    def __init__(
        self,
        app: Any,
        metrics: BackendMetrics,
        *,
        log_requests: bool = True,
        request_log: RequestLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests
        self.request_log = request_log
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(12)
        scope["lumenlater.request_id"] = request_id
        started = time.perf_counter()
        status = 500
        recorded = False

        def record(elapsed: float) -> None:
            nonlocal recorded
            recorded = True
            principal = scope.get("lumenlater.principal")
            route = str(scope.get("lumenlater.route", "unmatched"))
            if self.request_log is not None and principal is not None and route != TAIL_ROUTE:
                self._record(scope, principal, request_id, route, status, elapsed)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"request-id", request_id.encode()),
                    (b"lumenlater-version", API_VERSION.encode()),
                ]
                # Logged before the answer leaves: a client that reads the log after
                # its answer finds its request there (once the buffer is flushed).
                record(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get("lumenlater.route", "unmatched"))
            method = str(scope["method"])
            self.metrics.observe_request(method, route, str(status), elapsed)
            if not recorded:  # no answer was started (the app raised)
                record(elapsed)
            if self.log_requests:
                log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": method,
                            "route": route,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                        }
                    },
                )

    def _record(
        self,
        scope: Scope,
        principal: Principal,
        request_id: str,
        route: str,
        status: int,
        elapsed: float,
    ) -> None:
        assert self.request_log is not None
        key = next((v for k, v in scope["headers"] if k == b"idempotency-key"), None)
        self.request_log.record(
            merchant_id=principal.merchant_id,
            method=str(scope["method"]),
            path=str(scope["path"])[:500],
            route=route,
            status=status,
            request_id=request_id,
            idempotency_key=None if key is None else key.decode("latin-1")[:255],
            latency_ms=elapsed * 1000,
            livemode=principal.livemode,
            created=int(self.clock()),
        )
