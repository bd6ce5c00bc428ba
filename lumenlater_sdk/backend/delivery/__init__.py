"""Durable webhook delivery: an outbox written with each event, and the workers that empty it.

The engine below the services: the webhook-endpoint rules are
:mod:`lumenlater_sdk.backend.services.webhook_endpoints`, the endpoint tables' SQL is
:mod:`lumenlater_sdk.backend.store.webhook_endpoints` (their schema is :data:`MIGRATIONS`).
The backend calls :func:`enqueue` in the transaction that inserts an event row;
a :class:`DeliveryWorker` (in the backend process, or in separate processes on
PostgreSQL) POSTs each queued event to its endpoints, signed per DESIGN §4, and
retries on a schedule. Every attempt is logged, with the signature it sent and the
answer's status, a few headers and its body's first :data:`RESPONSE_BODY_LIMIT` bytes;
a long-failing endpoint is disabled. Final outbox rows and old attempts are deleted in
small batches by :func:`prune_outbox` / :func:`prune_attempts` (the retention service).
In live mode webhooks reach public addresses only: :func:`check_public_host` is the
rule the endpoint service applies to a new URL, and the worker applies it again
to every connection it makes.
"""

from ._addresses import AddressNotAllowed, check_public_host, non_public
from ._attempts import Recorded
from ._http11 import CAPTURE as RESPONSE_BODY_LIMIT
from ._integration import worker_for
from ._metrics import OUTCOMES, prometheus_observer
from ._outbox import Claim, Outcome, enqueue, matches, requeue
from ._retention import FINAL, prune_attempts, prune_outbox
from ._schedule import DEFAULT_SCHEDULE, DISABLE_AFTER, SANDBOX_SCHEDULE
from ._schema import MIGRATIONS, install
from ._store import cancel_pending, forget_endpoint
from ._worker import USER_AGENT, DeliveryObserver, DeliveryWorker

__all__ = [
    "DEFAULT_SCHEDULE",
    "DISABLE_AFTER",
    "FINAL",
    "MIGRATIONS",
    "OUTCOMES",
    "RESPONSE_BODY_LIMIT",
    "SANDBOX_SCHEDULE",
    "USER_AGENT",
    "AddressNotAllowed",
    "Claim",
    "DeliveryObserver",
    "DeliveryWorker",
    "Outcome",
    "Recorded",
    "cancel_pending",
    "check_public_host",
    "enqueue",
    "forget_endpoint",
    "install",
    "matches",
    "non_public",
    "prometheus_observer",
    "prune_attempts",
    "prune_outbox",
    "requeue",
    "worker_for",
]
