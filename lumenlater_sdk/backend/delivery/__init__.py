"""Durable webhook delivery: endpoints, an outbox written with each event, and workers.

The backend calls :func:`enqueue` in the transaction that inserts an event row;
a :class:`DeliveryWorker` (in the backend process, or in separate processes on
PostgreSQL) POSTs each queued event to its endpoints, signed per DESIGN §4, and
retries on a schedule. Every attempt is logged; a long-failing endpoint is disabled.
"""

from ._attempts import Recorded
from ._integration import worker_for
from ._metrics import OUTCOMES, prometheus_observer
from ._outbox import Claim, Outcome, enqueue, matches
from ._schedule import DEFAULT_SCHEDULE, DISABLE_AFTER, SANDBOX_SCHEDULE
from ._schema import MIGRATIONS, install
from ._service import (
    UNSET,
    WebhookEndpointService,
    delivery_object,
    endpoint_object,
    ping_target,
)
from ._worker import USER_AGENT, DeliveryObserver, DeliveryWorker

__all__ = [
    "DEFAULT_SCHEDULE",
    "DISABLE_AFTER",
    "MIGRATIONS",
    "OUTCOMES",
    "SANDBOX_SCHEDULE",
    "UNSET",
    "USER_AGENT",
    "Claim",
    "DeliveryObserver",
    "DeliveryWorker",
    "Outcome",
    "Recorded",
    "WebhookEndpointService",
    "delivery_object",
    "endpoint_object",
    "enqueue",
    "install",
    "matches",
    "ping_target",
    "prometheus_observer",
    "worker_for",
]
