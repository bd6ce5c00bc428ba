"""What the sandbox dashboard shows beyond one API call: analytics per day for its
charts, an event's delivery attempts across the merchant's endpoints, and one attempt
with the request it sent and the answer it got. Everything is scoped to *merchant_id*,
through the same services the API uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..delivery import RESPONSE_BODY_LIMIT, USER_AGENT
from ..paging import PageRequest
from ..store import webhook_endpoints as endpoint_store
from . import analytics, events_api, webhook_endpoints
from .clock import clock
from .context import ServiceContext
from .errors import NotFound
from .objects import delivery_object

__all__ = [
    "RESPONSE_BODY_LIMIT",
    "AttemptView",
    "DayMetrics",
    "attempt_view",
    "daily_metrics",
    "event_deliveries",
    "request_headers",
]

_DAY = 86_400


@dataclass(frozen=True)
class DayMetrics:
    """One day of the merchant's analytics (ledger time, UTC day starting at ``start``)."""

    start: int
    volume: int
    fees: int
    sessions_created: int
    sessions_completed: int
    conversion_rate: float
    overdue: int


def daily_metrics(ctx: ServiceContext, merchant_id: str, days: int = 14) -> list[DayMetrics]:
    """The last *days* days up to the ledger's now (oldest first): payment volume, fees,
    checkout conversion and the bills paid that day that are overdue now."""
    now = int(clock(ctx)["now"])
    first = (now // _DAY - days + 1) * _DAY
    out = []
    for i in range(days):
        start = first + i * _DAY
        m = analytics.metrics(ctx, merchant_id, start, start + _DAY, "day")
        out.append(
            DayMetrics(
                start=start,
                volume=int(m["volume"]),
                fees=int(m["fees"]),
                sessions_created=int(m["sessions_created"]),
                sessions_completed=int(m["sessions_completed"]),
                conversion_rate=float(m["conversion_rate"]),
                overdue=int(m["overdue_count"]),
            )
        )
    return out


def event_deliveries(
    ctx: ServiceContext, merchant_id: str, event_id: str, *, limit: int = 50
) -> list[dict[str, Any]]:
    """Every delivery attempt of the event to the merchant's endpoints (up to *limit*
    per endpoint and 100 endpoints), newest first."""
    endpoints, _ = webhook_endpoints.list_endpoints(ctx, merchant_id, PageRequest(100))
    attempts: list[dict[str, Any]] = []
    for endpoint in endpoints:
        rows, _ = webhook_endpoints.list_deliveries(
            ctx, merchant_id, endpoint["id"], PageRequest(limit), event=event_id
        )
        attempts.extend({**r, "url": endpoint["url"]} for r in rows)
    attempts.sort(key=lambda r: (r["created"], r["attempt"]), reverse=True)
    return attempts


def request_headers(attempt: dict[str, Any], event_type: str, body: bytes) -> list[tuple[str, str]]:
    """The headers the delivery worker sent with *attempt* (of an event of *event_type*
    whose stored JSON is *body*), in the order it sends them. Only the signature varies
    between attempts, and each attempt keeps the one it sent (``None`` before they were
    kept)."""
    headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        ("X-LumenLater-Event-Id", str(attempt["event"])),
        ("X-LumenLater-Event-Type", event_type),
        ("X-LumenLater-Delivery-Attempt", str(attempt["attempt"])),
    ]
    if attempt.get("request_signature"):
        headers.append(("X-LumenLater-Signature", str(attempt["request_signature"])))
    headers.append(("Content-Length", str(len(body))))
    return headers


@dataclass(frozen=True)
class AttemptView:
    """One delivery attempt as its page shows it: the endpoint, the attempt (as the API
    lists it), and the request sent: its headers and the event's JSON byte for byte
    (``None`` if the event is gone)."""

    endpoint: dict[str, Any]
    attempt: dict[str, Any]
    request_headers: list[tuple[str, str]]
    request_body: str | None


def attempt_view(
    ctx: ServiceContext, merchant_id: str, endpoint_id: str, delivery_id: str
) -> AttemptView:
    """The attempt *delivery_id* of the merchant's endpoint, or :class:`NotFound`."""
    endpoint = webhook_endpoints.retrieve_endpoint(ctx, merchant_id, endpoint_id)
    with ctx.db.transaction(write=False) as tx:
        row = endpoint_store.get_delivery(tx, endpoint["id"], delivery_id)
    if row is None:
        raise NotFound(f"No such delivery attempt: '{delivery_id}'", param="id")
    attempt = delivery_object(row)
    try:
        body = events_api.retrieve_event(ctx, merchant_id, attempt["event"])
    except NotFound:
        return AttemptView(endpoint, attempt, [], None)
    event_type = str(json.loads(body)["type"])
    return AttemptView(endpoint, attempt, request_headers(attempt, event_type, body), body.decode())
