"""Prometheus metrics (one registry per app, no globals) and JSON logging."""

from __future__ import annotations

import json
import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["BackendMetrics", "JsonFormatter"]


class BackendMetrics:
    """The backend's Prometheus series.

    ``webhook_deliveries`` counts the delivery worker's attempts by ``outcome``:
    ``delivered`` (a 2xx), ``retrying`` (failed, another attempt scheduled) or
    ``failed`` (failed, none left), the values of
    :data:`lumenlater_sdk.backend.delivery.OUTCOMES`.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "lumenlater_http_requests_total",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lumenlater_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self.chain_calls = Counter(
            "lumenlater_chain_calls_total",
            "Chain gateway calls by function and outcome.",
            ["function", "outcome"],
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "lumenlater_webhook_deliveries_total",
            "Webhook delivery attempts by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        # Label children bound once per label set: ``labels()`` takes a lock and checks
        # its arguments on every call, which is a real share of a fast request.
        self._request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._chain_children: dict[tuple[str, str], Any] = {}

    def observe_request(self, method: str, route: str, status: str, seconds: float) -> None:
        """Count one HTTP request and its latency (*route* is the template, not the path)."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(method=method, route=route, status=status),
                self.latency.labels(method=method, route=route),
            )
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_chain(self, function: str, outcome: str) -> None:
        """Count one chain call."""
        child = self._chain_children.get((function, outcome))
        if child is None:
            child = self.chain_calls.labels(function=function, outcome=outcome)
            self._chain_children[(function, outcome)] = child
        child.inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return bytes(generate_latest(self.registry))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={"fields": {...}}`` adds keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)
