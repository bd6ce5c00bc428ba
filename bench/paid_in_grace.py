"""Analytics' not-yet-overdue count on a filled history: the store's read against the
earlier one (every bill of the last grace period along bills_merchant_created).

On a database ``bench/history.py`` filled (or kept), for the merchant with the most
bills, at the ledger's now and the 14-day grace period, over the whole hours of the last
30 and 365 days: both statements in alternating rounds (each round times one call of
each, which first alternating), their medians, that they agree, and each one's plan
(``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite).

    python bench/paid_in_grace.py --db URL [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from _history_explain import largest_merchant

from lumenlater_sdk.backend.db import Tx, connect
from lumenlater_sdk.backend.store import metrics

HOUR, DAY, GRACE = 3600, 86_400, 14 * 86_400

BEFORE = (
    "SELECT COALESCE(SUM(CASE WHEN status = 'paid' AND paid_at >= ? AND paid_at < ?"
    " THEN 1 ELSE 0 END), 0) FROM bills WHERE merchant_id = ? AND created >= ?"
)
"""The statement of ``metrics._paid_in_grace`` before migration 21 (the baseline)."""


def _before(tx: Tx, merchant: str, start: int, end: int, since: int) -> int:
    return int(tx.scalar(BEFORE, (start, end, merchant, since)))


def _plan(tx: Tx, fn: Callable[..., int], *args: int | str) -> list[str]:
    from lumenlater_sdk.backend.db._recording import RecordingTx

    rec = RecordingTx(tx)
    fn(rec, *args)
    out = []
    for sql, params in rec.statements:
        if tx.dialect == "sqlite":
            rows = tx.fetchall("EXPLAIN QUERY PLAN " + sql, params)
            out += [str(r["detail"]) for r in rows]
        else:
            rows = tx.fetchall("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            out += [str(next(iter(r.values()))) for r in rows]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True)
    p.add_argument("--rounds", type=int, default=40)
    args = p.parse_args()
    db = connect(args.db)
    try:
        with db.transaction(write=False) as tx:
            merchant, bills = largest_merchant(tx)
            now = int(tx.scalar("SELECT last_time FROM chain_ledger WHERE id = 1"))
        print(
            f"{db.dialect}: {bills:,} bills of the largest merchant; load {os.getloadavg()[0]:.1f}"
        )
        sides: dict[str, Callable[..., int]] = {
            "before": _before,
            "store": metrics._paid_in_grace,
        }
        for days in (30, 365):
            hi = now // HOUR * HOUR
            call = (merchant, hi - days * DAY, hi, now - GRACE)
            times: dict[str, list[float]] = {k: [] for k in sides}
            counts = set()
            for n in range(args.rounds):
                for name in sides if n % 2 == 0 else list(sides)[::-1]:
                    with db.transaction(write=False) as tx:
                        t0 = time.perf_counter()
                        counts.add((name, sides[name](tx, *call)))
                        times[name].append((time.perf_counter() - t0) * 1000)
            agree = len({c for _, c in counts}) == 1
            print(
                f"{days}d: "
                + ", ".join(f"{k} median {statistics.median(v):.2f} ms" for k, v in times.items())
                + f"; counts {sorted(counts)} ({'agree' if agree else 'DIFFER'})"
            )
            if days == 365:
                with db.transaction(write=False) as tx:
                    for name, fn in sides.items():
                        print(f"  {name}:")
                        for line in _plan(tx, fn, *call):
                            print(f"    {line}")
        print(f"load {os.getloadavg()[0]:.1f}")
    finally:
        db.close()


if __name__ == "__main__":
    main()
