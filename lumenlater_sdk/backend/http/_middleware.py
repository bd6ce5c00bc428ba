"""Pure ASGI middleware: request ids, the version header, access logs and metrics."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from ..._version import API_VERSION
from ..observability import BackendMetrics

__all__ = ["RequestContextMiddleware"]

log = logging.getLogger("lumenlater.backend.access")


class RequestContextMiddleware:
    """Gives every request a ``req_…`` id, echoes it and ``LumenLater-Version``, and
    records one log line and the Prometheus series per request (by route template,
    so ids in paths do not explode the label set). Never logs headers or bodies."""

    def __init__(self, app: Any, metrics: BackendMetrics, *, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(12)
        scope["lumenlater.request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"request-id", request_id.encode()),
                    (b"lumenlater-version", API_VERSION.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get("lumenlater.route", "unmatched"))
            method = str(scope["method"])
            self.metrics.observe_request(method, route, str(status), elapsed)
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
