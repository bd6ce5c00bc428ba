"""Service routes: the OpenAPI document, health, Prometheus metrics, the embed script."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.responses import Response

from ..http import Call, RouteSpec
from ..observability import BackendMetrics
from ..services import health

__all__ = ["meta_routes"]


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

    script = resources.files("lumenlater_sdk.backend").joinpath("static/lumenlater.js")
    js = script.read_bytes()

    def embed(call: Call) -> Response:
        return Response(
            js,
            media_type="application/javascript",
            headers={"cache-control": "public, max-age=300"},
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
            "/v1/js/lumenlater.js",
            embed,
            "embedScript",
            "The embedded checkout widget.",
            "meta",
            auth="none",
            include_in_schema=False,
        ),
    ]
