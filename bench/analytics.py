"""Analytics metrics from hourly rollups against the raw recomputation, on one history.

A history is made through the real services and contract engine
(``services/history_fill``, as ``bench/history.py`` makes one) over ``--days`` of ledger
time in **hourly** slices, so that every hour of the window holds activity and the
rollups have a row per merchant and hour: the most rows a window can cost them (a year:
8,760). ``--merchants`` shops, the first with ``--first-share`` of the bills.

Then, as the first (largest) shop, for the last 30 and 365 days by day (what
``GET /v1/analytics/metrics`` answers when asked for them):

* ``rollups``: the analytics service's call in this process (the endpoint's work);
* ``raw``: the same figures recomputed from every row of the window (``ledger.*_raw``,
  ``payment_failures.count``: what the service did before the rollups), in one read
  transaction, in the same run on the same database;
* ``http``: ``GET /v1/analytics/metrics`` on the backend served by uvicorn in a child
  process, one client over loopback;

p50/p99 of each, the ratio raw/rollups, whether both give the same figures, and a goal
line (p99 <= 200 ms over HTTP). SQLite, PostgreSQL (a throwaway cluster), or both.

    python bench/analytics.py [--bills 100000] [--days 730] [--sqlite] [--postgres]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx
from _history_measure import timed
from _served import served
from history import SEALING_KEY, _databases, database_arguments

from lumenlater_sdk.backend import BackendConfig
from lumenlater_sdk.backend.app import Backend
from lumenlater_sdk.backend.services import analytics
from lumenlater_sdk.backend.services.history_fill import HistoryFill
from lumenlater_sdk.backend.store import ledger, payment_failures

HOUR = 3600
DAY = 86_400
GOAL_MS = 200.0


def fill(url: str, args: argparse.Namespace) -> tuple[Backend, HistoryFill]:
    """A history of ``args.bills`` bills over ``args.days`` days, in hourly slices."""
    backend = Backend(
        BackendConfig(
            database_url=url,
            secret_key=SEALING_KEY,
            rate_limit=False,
            log_requests=False,
            run_delivery=False,
        )
    )
    made = HistoryFill(backend.ctx, batch=args.batch, slice_seconds=HOUR)
    n = args.merchants
    for i in range(n):
        weight = args.first_share if i == 0 or n == 1 else (1 - args.first_share) / (n - 1)
        made.add_shop(f"Analytics Shop {i}", weight, None)
    slices = args.days * 24
    per_day = args.bills / args.days
    for shop in made.shops:  # about two weeks of the shop's bills owed at once, 10 each
        made.ensure_shoppers(shop, max(5, math.ceil(per_day * shop.weight * 14 / 10)))
    start = last = time.perf_counter()
    for k in range(slices):
        # Whole bills per slice, spread so that the total is args.bills.
        due = args.bills * (k + 1) // slices - made.counts["bills"]
        made.run_slice(max(0, due))
        now = time.perf_counter()
        if now - last >= args.progress or k == slices - 1:
            last = now
            rate = made.counts["bills"] / (now - start)
            print(
                f"  day {made.days:6.1f}: {made.counts['bills']:>9,} bills ({rate:5.0f}/s)",
                flush=True,
            )
    print(f"filled in {time.perf_counter() - start:.0f} s", flush=True)
    return backend, made


def raw_figures(backend: Backend, merchant: str, start: int, end: int) -> dict[str, Any]:
    """The service's counts and series recomputed from every row of ``[start, end)``."""
    ctx = backend.ctx
    bounds = [*range(start, end, DAY), end]
    with ctx.db.transaction(write=False) as tx:
        now = ctx.chain.now(tx)
        return {
            **ledger.line_totals_raw(tx, merchant, start, end),
            **ledger.bill_counts_raw(tx, merchant, start, end, now, ctx.constants.grace_period),
            **ledger.session_counts_raw(tx, merchant, start, end),
            "payment_failures": payment_failures.count(tx, merchant, start, end),
            "series": ledger.series_raw(tx, merchant, bounds),
        }


def pct(values: list[float], p: float) -> float:
    """The *p*-th percentile of *values*."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(label: str, url: str, backend: Backend, made: HistoryFill, n: int) -> list[str]:
    """Time each way for 30 and 365 days; the goal lines."""
    shop = made.shops[0]
    ctx = backend.ctx
    with ctx.db.transaction(write=False) as tx:
        now = ctx.chain.now(tx)
        lines = int(
            tx.scalar(
                "SELECT COUNT(*) FROM ledger_lines WHERE merchant_id = ?", (shop.merchant_id,)
            )
        )
        hours = int(tx.scalar("SELECT COUNT(*) FROM analytics_hourly"))
    print(f"{label}: first shop's payment lines {lines:,}; rollup rows (all shops) {hours:,}")
    goals = []
    with (
        served(url, SEALING_KEY) as srv,
        httpx.Client(
            base_url=srv.base, headers={"Authorization": f"Bearer {shop.secret_key}"}, timeout=60
        ) as http,
    ):
        for days in (30, 365):
            end = now + 1
            start = end - days * DAY

            def service(start: int = start, end: int = end) -> dict[str, Any]:
                return analytics.metrics(ctx, shop.merchant_id, start, end, "day")

            def over_http(start: int = start, end: int = end) -> None:
                r = http.get(
                    "/v1/analytics/metrics", params={"start": start, "end": end, "interval": "day"}
                )
                r.raise_for_status()

            got, want = service(), raw_figures(backend, shop.merchant_id, start, end)
            same = (
                all(got[k] == v for k, v in want.items() if k != "series")
                and [{k: s[k] for k in ("start", "volume", "bills_paid")} for s in got["series"]]
                == want["series"]
            )
            fast = timed(n, service, warm=3)
            slow = timed(
                max(5, n // 10),
                lambda s=start, e=end: raw_figures(backend, shop.merchant_id, s, e),
                warm=3,
            )
            wire = timed(n, over_http, warm=3)
            print(
                f"{label} metrics {days}d (volume {got['volume']:,}, bills paid"
                f" {got['bills_paid']:,}): rollups p50 {statistics.median(fast):.2f} ms"
                f" p99 {pct(fast, 99):.2f} ms | raw p50 {statistics.median(slow):.2f} ms"
                f" p99 {pct(slow, 99):.2f} ms | http p50 {statistics.median(wire):.2f} ms"
                f" p99 {pct(wire, 99):.2f} ms | raw/rollups p50"
                f" {statistics.median(slow) / statistics.median(fast):.1f}x"
                f" | identical: {'yes' if same else 'NO'}",
                flush=True,
            )
            ok = pct(wire, 99) <= GOAL_MS and same
            goals.append(
                f"goal: {label} metrics {days}d p99 <= {GOAL_MS:.0f} ms over HTTP, identical"
                f" to raw: {'met' if ok else 'NOT met'} ({pct(wire, 99):.1f} ms)"
            )
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], parents=[database_arguments()]
    )
    parser.add_argument("--bills", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730, help="ledger days of history")
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument("--first-share", type=float, default=0.5, help="first shop's bills")
    parser.add_argument("--batch", type=int, default=1000, help="objects per transaction")
    parser.add_argument("--requests", type=int, default=200, help="timed calls per way")
    parser.add_argument("--progress", type=float, default=15.0, help="seconds between lines")
    args = parser.parse_args()
    goals: list[str] = []
    with _databases(args) as databases:
        for label, url in databases:
            print(f"== {label}: {args.bills:,} bills over {args.days} days", flush=True)
            backend, made = fill(url, args)
            try:
                goals += measure(label, url, backend, made, args.requests)
            finally:
                backend.close()
    for line in goals:
        print(line, flush=True)


if __name__ == "__main__":
    main()
