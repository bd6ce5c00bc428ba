"""Analytics' figures over a window: whole hours from the rollups, the rest from raw rows.

A window ``[start, end)`` holds whole hours ``[lo, hi)`` (``start`` rounded up to an
hour, ``end`` rounded down), summed from ``analytics_hourly`` at the cost of one row
per hour whatever the merchant's volume, and at most two partial hours at its ends,
read from raw rows along their ``(merchant_id, time)`` indexes; the same holds for
each bucket of a series. The figures equal the ``*_raw``
aggregates of ``ledger.py`` over the whole window (tests/backend/test_analytics_rollups.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..db import Row, Tx
from . import ledger, payment_failures, rollups
from .rollups import HOUR

__all__ = ["series", "window_counts"]


def _up(t: int) -> int:
    return -(-t // HOUR) * HOUR


def _down(t: int) -> int:
    return t // HOUR * HOUR


def _raw(tx: Tx, merchant_id: str, start: int, end: int, now: int, grace_period: int) -> Row:
    return {
        **ledger.line_totals_raw(tx, merchant_id, start, end),
        **ledger.bill_counts_raw(tx, merchant_id, start, end, now, grace_period),
        **ledger.session_counts_raw(tx, merchant_id, start, end),
        "payment_failures": payment_failures.count(tx, merchant_id, start, end),
    }


def _paid_in_grace(tx: Tx, merchant_id: str, start: int, end: int, since: int) -> int:
    """Bills still ``paid``, paid in ``[start, end)`` and created at or after *since*
    (not overdue yet), read apart on the overdue sweep's ``overdue_notified``.

    Unannounced ones along ``bills_merchant_unswept`` from *since* on: the last grace
    period's bills still paid, not every bill it made. Announced ones along
    ``bills_merchant_notified`` from *since* on: there are none unless *now* is earlier
    than a sweep that announced them (ledger time only moves on, but the figures hold
    at any *now*), so that read finds nothing at once, however many overdue bills stay
    unpaid. (On PostgreSQL both halves read ``bills_merchant_paid_created``, whose
    second column is ``overdue_notified``: migration 23.) ``paid_at`` is tested per
    row: the unary ``+`` keeps SQLite from reading every bill paid in the window along
    ``bills_paid`` instead."""
    one = (
        "(SELECT COUNT(*) FROM bills WHERE merchant_id = ? AND status = 'paid'"
        " AND overdue_notified = {} AND created >= ? AND +paid_at >= ? AND +paid_at < ?)"
    )
    args = (merchant_id, since, start, end)
    return int(tx.scalar(f"SELECT {one.format(0)} + {one.format(1)}", args + args))


def window_counts(
    tx: Tx, merchant_id: str, start: int, end: int, *, now: int, grace_period: int
) -> Row:
    """``volume``, ``fees``, ``net_volume``, ``bills_created``, ``bills_paid``,
    ``repaid_count``, ``liquidated_count``, ``overdue_count`` (bills paid in the window,
    still paid and more than *grace_period* seconds old at *now*), ``sessions_created``,
    ``sessions_completed`` and ``payment_failures`` of ``[start, end)``."""
    lo, hi = _up(start), _down(end)
    if lo >= hi:
        return _raw(tx, merchant_id, start, end, now, grace_period)
    s = rollups.sums(tx, merchant_id, lo, hi)
    # Overdue depends on now: of the bills still paid (counted by the hour they were
    # paid), those created within the grace period are not overdue yet.
    recent = _paid_in_grace(tx, merchant_id, lo, hi, now - grace_period)
    out = {
        "volume": s["payment_volume"],
        "fees": s["payment_fees"],
        "net_volume": s["payment_net"],
        "bills_created": s["bills_created"],
        "bills_paid": s["bills_paid"],
        "repaid_count": s["bills_repaid"],
        "liquidated_count": s["bills_liquidated"],
        "overdue_count": s["bills_still_paid"] - recent,
        "sessions_created": s["sessions_created"],
        "sessions_completed": s["sessions_completed"],
        "payment_failures": s["payment_failures"],
    }
    for a, b in ((start, lo), (hi, end)):
        if a < b:
            for key, value in _raw(tx, merchant_id, a, b, now, grace_period).items():
                out[key] += value
    return out


def _piece_sums(tx: Tx, merchant_id: str, pieces: Sequence[tuple[int, int, int]]) -> list[Row]:
    """Payment volume and count per raw piece ``(bucket, start, end)``, in one statement:
    each piece's sums are subqueries correlated with its bounds, range reads of
    ``ledger_lines_type_created`` (as ``rollups.payment_buckets``). The bounds are this
    module's integers, written into the statement (there can be hundreds)."""
    values = ", ".join(f"({int(i)}, {int(a)}, {int(b)})" for i, a, b in pieces)
    lines = (
        "FROM ledger_lines WHERE merchant_id = ? AND type = 'payment'"
        " AND created >= pieces.lo AND created < pieces.hi"
    )
    return tx.fetchall(
        f"WITH pieces (b, lo, hi) AS (VALUES {values}) SELECT b,"
        f" (SELECT COALESCE(SUM(amount), 0) {lines}) AS volume,"
        f" (SELECT COUNT(*) {lines}) AS n FROM pieces",
        (merchant_id, merchant_id),
    )


def series(tx: Tx, merchant_id: str, bounds: Sequence[int]) -> list[Row]:
    """Payment volume and count (``bills_paid``) per bucket ``[bounds[i], bounds[i+1])``:
    each bucket's whole hours from the rollups, the partial hours at its ends raw."""
    n = len(bounds) - 1
    whole: list[tuple[int, int, int]] = []
    raw: list[tuple[int, int, int]] = []
    for i in range(n):
        a, b = bounds[i], bounds[i + 1]
        lo, hi = _up(a), _down(b)
        if lo < hi:
            whole.append((i, lo, hi))
            raw += [(i, x, y) for x, y in ((a, lo), (hi, b)) if x < y]
        else:
            raw.append((i, a, b))
    volume, paid = [0] * n, [0] * n
    if tx.dialect == "postgresql" and (whole or raw):
        # Each bucket's sums are subqueries correlated with bounds the planner cannot
        # see, so it prices each at a fixed share of the merchant's rows: the estimate
        # grows with the history, the work does not. Past jit_*_above_cost PostgreSQL
        # compiles the statement first: a 365-day series at 100k bills was priced 607k
        # and spent 492 of its 520 ms in JIT inlining, optimization and emission (the
        # reads themselves: 28 ms; bench/history.py explain). For this transaction only.
        tx.send("SET LOCAL jit = off")
    rows = rollups.payment_buckets(tx, merchant_id, whole) if whole else []
    if raw:
        rows += _piece_sums(tx, merchant_id, raw)
    for r in rows:
        volume[int(r["b"])] += int(r["volume"])
        paid[int(r["b"])] += int(r["n"])
    return [{"start": bounds[i], "volume": volume[i], "bills_paid": paid[i]} for i in range(n)]
