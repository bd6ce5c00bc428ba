"""Analytics from stored data: metrics with a series, ledger lines, streamed exports."""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ..paging import PageRequest
from ..store import ledger as ledger_store
from ..store import payment_failures as failure_store
from .context import ServiceContext
from .errors import InvalidRequest
from .objects import line_object

__all__ = ["export_lines", "list_transactions", "metrics", "rate"]

_DAY = 86_400
_MAX_BUCKETS = 400
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
        totals = ledger_store.line_totals(tx, merchant_id, start, end)
        bills = ledger_store.bill_counts(
            tx, merchant_id, start, end, now, ctx.constants.grace_period
        )
        sessions = ledger_store.session_counts(tx, merchant_id, start, end)
        failures = failure_store.count(tx, merchant_id, start, end)
        series = ledger_store.series(tx, merchant_id, bounds)
    paid = bills["bills_paid"]
    attempts = sessions["sessions_completed"] + failures
    return {
        "object": "analytics.metrics",
        "start": start,
        "end": end,
        "currency": "usdc",
        **totals,
        **bills,
        **sessions,
        "conversion_rate": rate(sessions["sessions_completed"], sessions["sessions_created"]),
        "average_order_value": totals["volume"] // paid if paid else 0,
        "repayment_rate": rate(bills["repaid_count"], paid),
        "default_rate": rate(bills["liquidated_count"], paid),
        "payment_attempts": attempts,
        "payment_failures": failures,
        "payment_success_rate": rate(sessions["sessions_completed"], attempts),
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


def export_lines(
    ctx: ServiceContext, merchant_id: str, fmt: str, start: int | None, end: int | None
) -> Iterator[bytes]:
    """``GET /v1/analytics/export``: CSV or a JSON array, produced batch by batch."""
    rows = ledger_store.iterate_lines(ctx.db, merchant_id, start=start, end=end)
    if fmt == "csv":
        yield (",".join(_CSV_COLUMNS) + "\n").encode()
        for row in rows:
            obj = line_object(row)
            yield (
                ",".join("" if obj[c] is None else str(obj[c]) for c in _CSV_COLUMNS) + "\n"
            ).encode()
        return
    yield b"["
    first = True
    for row in rows:
        yield (b"" if first else b",") + json.dumps(line_object(row)).encode()
        first = False
    yield b"]"
