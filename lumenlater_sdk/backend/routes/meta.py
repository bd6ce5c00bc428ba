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


def meta_routes(document: Callable[[], dict[str, Any]], metrics: BackendMetrics) -> list[RouteSpec]:
    """Routes that need the app's own document and metrics registry."""
    encoded: list[bytes] = []

    def openapi(call: Call) -> bytes:
        if not encoded:
            encoded.append(json.dumps(document()).encode())
        return encoded[0]

    def healthz(call: Call) -> dict[str, Any]:
        health.check_database(call.ctx)
        return {"status": "ok"}

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
        ),
        RouteSpec(
            "GET",
            "/healthz",
            healthz,
            "healthz",
            "Liveness and database check.",
            "meta",
            auth="none",
            include_in_schema=False,
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
        ),
    ]
