"""Service routes: the OpenAPI document, health, Prometheus metrics, the embed script."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import StringConstraints
from starlette.responses import Response

from ..._embed_script import SCRIPT_PATH, script_bytes, script_version
from ..http import Call, Query, RouteSpec
from ..observability import BackendMetrics
from ..services import health

__all__ = ["ScriptQuery", "meta_routes"]

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


class ScriptQuery(Query):
    """``?v=``: the script's version (``lumenlater_sdk._embed_script.script_version``)."""

    v: Annotated[str, StringConstraints(max_length=100)] | None = None


def meta_routes(
    document: Callable[[], dict[str, Any]],
    metrics: BackendMetrics,
    *,
    health_timeout: float = 2.0,
) -> list[RouteSpec]:
    """Routes that need the app's own document and metrics registry. None of them is
    rate-limited: a flood of anonymous requests must not make a load balancer think
    the backend is down, nor blind its metrics. ``/healthz`` writes to the database
    (at most once a second, one write at a time; see :class:`health.WriteProbe`) and
    answers 503 when the write fails or takes longer than *health_timeout*."""
    encoded: list[bytes] = []
    probe = health.WriteProbe(timeout=health_timeout)

    def openapi(call: Call) -> bytes:
        if not encoded:
            encoded.append(json.dumps(document()).encode())
        return encoded[0]

    def healthz(call: Call) -> dict[str, Any] | Response:
        problem = probe.check(call.ctx)
        if problem is None:
            return {"status": "ok"}
        error = {
            "type": "api_error",
            "code": "database_unavailable",
            "message": problem,
            "param": None,
            "request_id": call.request.request_id,
        }
        body = json.dumps({"status": "unavailable", "error": error}).encode()
        return Response(body, status_code=503, media_type="application/json")

    def prometheus(call: Call) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    js = script_bytes()
    version = script_version()

    def embed(call: Call) -> Response:
        # The versioned URL names exactly these bytes: cached for a year. Any other (no
        # version, an older one) gets the current script, cached briefly.
        q: ScriptQuery = call.query
        return Response(
            js,
            media_type="application/javascript",
            headers={
                "cache-control": IMMUTABLE if q.v == version else SHORT,
                "x-content-type-options": "nosniff",
                "cross-origin-resource-policy": "cross-origin",
                "x-lumenlater-script-version": version,
            },
        )

    return [
        RouteSpec(
            "GET",
            "/v1/openapi.json",
            openapi,
            "openapi",
            "This document.",
            "meta",
            auth="none",
            include_in_schema=False,
            throttled=False,
        ),
        RouteSpec(
            "GET",
            "/healthz",
            healthz,
            "healthz",
            "Liveness and a database write check.",
            "meta",
            auth="none",
            include_in_schema=False,
            throttled=False,
        ),
        RouteSpec(
            "GET",
            "/metrics",
            prometheus,
            "metrics",
            "Prometheus metrics.",
            "meta",
            auth="none",
            include_in_schema=False,
            throttled=False,
        ),
        RouteSpec(
            "GET",
            SCRIPT_PATH,
            embed,
            "embedScript",
            "The embedded checkout widget.",
            "meta",
            query=ScriptQuery,
            auth="none",
            include_in_schema=False,
            throttled=False,
        ),
    ]
