"""Feeding delivery attempts to Prometheus (the backend owns the registry)."""

from __future__ import annotations

from typing import Any

from ._attempts import Recorded
from ._worker import DeliveryObserver

__all__ = ["OUTCOMES", "prometheus_observer"]

OUTCOMES = ("delivered", "retrying", "failed")
"""``outcome`` label values: a 2xx; a failure with a retry scheduled; a failure with none left."""


def outcome_of(recorded: Recorded) -> str:
    """The ``outcome`` label of one recorded attempt."""
    return {"delivered": "delivered", "pending": "retrying"}.get(recorded.status, "failed")


def prometheus_observer(counter: Any, histogram: Any | None = None) -> DeliveryObserver:
    """An observer counting attempts on *counter* (labelled ``outcome``).

    *histogram*, if given, observes each attempt's duration in seconds (also
    labelled ``outcome``). E.g. ``prometheus_observer(metrics.webhook_deliveries)``.
    """

    def observe(recorded: Recorded) -> None:
        outcome = outcome_of(recorded)
        counter.labels(outcome=outcome).inc()
        if histogram is not None:
            histogram.labels(outcome=outcome).observe(recorded.outcome.duration_ms / 1000)

    return observe
