"""Analytics: metrics, ledger lines and the streamed export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from starlette.responses import StreamingResponse

from ...types import Metrics, Transaction
from ..http import Call, ListQuery, Query, RouteSpec
from ..services import analytics, export
from ._lists import list_body, page_of

__all__ = ["MAX_TIME", "ROUTES"]

MAX_TIME = 253_370_764_800
"""9999-01-01T00:00:00Z: monthly buckets step through calendar dates, which end with
year 9999 (a later time was a 500)."""
Time = Annotated[int, Field(ge=0, le=MAX_TIME)]


class MetricsQuery(Query):
    """``[start, end)`` in ledger seconds, bucketed by ``interval``."""

    start: Time | None = None
    end: Time | None = None
    interval: Literal["day", "week", "month"] = "day"


class TransactionsQuery(ListQuery):
    """Ledger line filters."""

    type: Literal["payment", "fee", "reversal"] | None = None
    start: Time | None = None
    end: Time | None = None
    bill: Annotated[str, StringConstraints(max_length=100)] | None = None


class ExportQuery(Query):
    """Export format and window."""

    format: Literal["csv", "json"] = "csv"
    start: Time | None = None
    end: Time | None = None


def _metrics(call: Call) -> dict[str, Any]:
    q: MetricsQuery = call.query
    return analytics.metrics(call.ctx, call.merchant_id, q.start, q.end, q.interval)


def _transactions(call: Call) -> dict[str, Any]:
    q: TransactionsQuery = call.query
    data, more = analytics.list_transactions(
        call.ctx,
        call.merchant_id,
        page_of(q),
        line_type=q.type,
        start=q.start,
        end=q.end,
        bill=q.bill,
    )
    return list_body(data, more, "/v1/analytics/transactions")


def _export(call: Call) -> StreamingResponse:
    q: ExportQuery = call.query
    chunks = export.export_lines(call.ctx, call.merchant_id, q.format, q.start, q.end)
    media = "text/csv; charset=utf-8" if q.format == "csv" else "application/json"
    name = f"transactions.{q.format}"
    return StreamingResponse(
        chunks, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'}
    )


ROUTES = [
    RouteSpec(
        "GET",
        "/v1/analytics/metrics",
        _metrics,
        "retrieveMetrics",
        "Volume, fees, conversion and repayment over a window.",
        "analytics",
        query=MetricsQuery,
        response=Metrics,
    ),
    RouteSpec(
        "GET",
        "/v1/analytics/transactions",
        _transactions,
        "listTransactions",
        "Merchant-side ledger lines.",
        "analytics",
        query=TransactionsQuery,
        list_of=Transaction,
    ),
    RouteSpec(
        "GET",
        "/v1/analytics/export",
        _export,
        "exportTransactions",
        "Ledger lines as a streamed CSV or JSON file.",
        "analytics",
        query=ExportQuery,
        media_type="text/csv",
        alt_media_types=("application/json",),
        file_of=Transaction,
    ),
]
