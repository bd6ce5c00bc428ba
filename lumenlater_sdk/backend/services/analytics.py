"""Analytics from stored data: metrics with a series, and ledger lines (the export is
:mod:`.export`)."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ..paging import PageRequest
from ..store import ledger as ledger_store
from ..store import metrics as metrics_store
from .context import ServiceContext
from .errors import InvalidRequest
from .objects import line_object

__all__ = ["list_transactions", "metrics", "rate"]

_DAY = 86_400
_MAX_BUCKETS = 400
# The counts shown as they are, in the answer's order.
_TOTALS = (
    "volume",
    "fees",
    "net_volume",
    "bills_created",
    "bills_paid",
    "repaid_count",
    "liquidated_count",
    "overdue_count",
    "sessions_created",
    "sessions_completed",
)
_CSV_COLUMNS = ("id", "type", "bill", "amount", "fee", "net", "created", "tx_hash")


def rate(part: int, whole: int) -> str:
    """``part / whole`` as a decimal string with 4 places (``"0.8333"``); 0 when empty."""
    if whole <= 0:
        return "0.0000"
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN))


def _bounds(start: int, end: int, interval: str) -> list[int]:
    if interval in ("day", "week"):
        width = _DAY if interval == "day" else 7 * _DAY
        bounds = list(range(start, end, width))
    else:
        bounds = [start]
        moment = dt.datetime.fromtimestamp(start, dt.timezone.utc)
        while True:
            year, month = (
                (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
            )
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
            nxt = int(moment.timestamp())
            if nxt >= end:
                break
            bounds.append(nxt)
            if len(bounds) > _MAX_BUCKETS:
                break
    if len(bounds) > _MAX_BUCKETS:
        raise InvalidRequest(
            "That range has too many intervals; use a coarser interval.",
            code="parameter_invalid",
            param="interval",
        )
    return [*bounds, end]


def metrics(
    ctx: ServiceContext, merchant_id: str, start: int | None, end: int | None, interval: str
) -> dict[str, Any]:
    """``GET /v1/analytics/metrics`` over ``[start, end)`` (default: the last 30 days)."""
    with ctx.db.transaction(write=False) as tx:
        now = ctx.chain.now(tx)
        end = now + 1 if end is None else end
        start = end - 30 * _DAY if start is None else start
        if start >= end:
            raise InvalidRequest(
                "start must be before end.", code="parameter_invalid", param="start"
            )
        bounds = _bounds(start, end, interval)
        # Hourly rollups and the window's partial hours: the cost does not grow with
        # the number of rows in the window.
        c = metrics_store.window_counts(
            tx, merchant_id, start, end, now=now, grace_period=ctx.constants.grace_period
        )
        series = metrics_store.series(tx, merchant_id, bounds)
    paid = c["bills_paid"]
    completed = c["sessions_completed"]
    attempts = completed + c["payment_failures"]
    return {
        "object": "analytics.metrics",
        "start": start,
        "end": end,
        "currency": "usdc",
        **{k: c[k] for k in _TOTALS},
        "conversion_rate": rate(completed, c["sessions_created"]),
        "average_order_value": c["volume"] // paid if paid else 0,
        "repayment_rate": rate(c["repaid_count"], paid),
        "default_rate": rate(c["liquidated_count"], paid),
        "payment_attempts": attempts,
        "payment_failures": c["payment_failures"],
        "payment_success_rate": rate(completed, attempts),
        "series": series,
    }


def list_transactions(
    ctx: ServiceContext,
    merchant_id: str,
    page: PageRequest,
    *,
    line_type: str | None,
    start: int | None,
    end: int | None,
    bill: str | None,
) -> tuple[list[dict[str, Any]], bool]:
    """``GET /v1/analytics/transactions``."""
    with ctx.db.transaction(write=False) as tx:
        result = ledger_store.list_lines(
            tx, merchant_id, page, line_type=line_type, start=start, end=end, bill=bill
        )
    return [line_object(r) for r in result.rows], result.has_more
