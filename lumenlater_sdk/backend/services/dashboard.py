"""What the sandbox dashboard shows beyond one API call: analytics per day for its
charts, and an event's delivery attempts across the merchant's endpoints. Everything is
scoped to *merchant_id*, through the same services the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..paging import PageRequest
from . import analytics, webhook_endpoints
from .clock import clock
from .context import ServiceContext

__all__ = ["DayMetrics", "daily_metrics", "event_deliveries"]

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
