"""The ``--delivered N`` scenario of ``bench/delivery.py``: delivery beside a long history.

An outbox keeps its delivered rows (and the attempt log its attempts): after years a
backend holds millions of them. Nothing a worker does for new events may cost more
for that. Two delivery databases, side by side in one run:

* ``empty``: the delivery tables as a new backend has them;
* ``delivered``: the same with *N* delivered outbox rows and their *N* attempt-log
  rows (one 200 each) for the benchmark's own endpoint, the worst case for indexes
  that lead with the endpoint. They are written by the database itself in
  transactions of 500,000 rows (``INSERT ... SELECT`` over a generated series), then
  settled as a long-lived database is (WAL checkpointed; PostgreSQL vacuumed and
  analyzed, as autovacuum would have done).

After a warm-up round on each (not counted), round after round (``--repeat``), the two
alternately, each first in turn: ``--events`` events are queued
with the worker stopped, then (1) the outbox claim scan (``pick_due``, a claim of 100
as the worker makes, not leased) is timed 200 times against that backlog, and (2) a
worker (default settings) is started and timed until every handler ran. Medians per
database, and the delivered/empty ratio of each. SQLite in temp files; PostgreSQL on a
throwaway cluster with ``--postgres`` (as ``backend_load.py`` starts one), or on
``--database-url`` (two fresh databases are made beside it).

Goal (issue 17): throughput and the claim scan within 10 % of the empty outbox's.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from contextlib import nullcontext
from typing import Any

GOAL_RATIO = 0.9
_CHUNK = 500_000
_SCANS = 200


def prefill(db: Any, endpoint_id: str, merchant: str, n: int) -> float:
    """*n* delivered outbox rows and their attempt-log rows for *endpoint_id*; seconds."""
    now = int(time.time()) - 86_400
    if db.dialect == "postgresql":
        series = "FROM generate_series(?::bigint, ?::bigint) AS s(i)"
    else:
        series = (
            "FROM (WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)"
            " SELECT i FROM s)"
        )
    t0 = time.perf_counter()
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK) - 1
        with db.transaction() as tx:
            tx.execute(
                "INSERT INTO webhook_outbox (event_id, endpoint_id, merchant_id, status,"
                " attempts, cycle_attempts, cycle_started_ms, next_attempt_ms, created)"
                " SELECT 'evt_hist' || i, ?, ?, 'delivered', 1, 1, ?, ?, ? " + series,
                (endpoint_id, merchant, now * 1000, now * 1000, now, lo, hi),
            )
            tx.execute(
                "INSERT INTO webhook_deliveries (id, merchant_id, event_id, endpoint_id,"
                " attempt, status_code, duration_ms, created, request_signature,"
                " response_headers, response_body)"
                " SELECT 'whd_hist' || i, ?, 'evt_hist' || i, ?, 1, 200, 12, ?,"
                " 't=1,v1=00', '{}', 'ok' " + series,
                (merchant, endpoint_id, now, lo, hi),
            )
        print(f"    prefilled {hi + 1:,} of {n:,}", flush=True)
    return time.perf_counter() - t0


def settle(db: Any) -> None:
    """Leave the database as years of history would, not as a bulk load just did: the
    write-ahead log checkpointed (SQLite truncates it; PostgreSQL flushes it), tables
    vacuumed and analyzed on PostgreSQL. Otherwise the checkpoint and autovacuum of
    millions of new rows run during the first rounds, and slow only the prefilled side."""
    if db.dialect == "sqlite":
        conn = sqlite3.connect(db.path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return
    with db.reads() as tx:  # autocommit: VACUUM runs outside a transaction block
        tx.execute("VACUUM (ANALYZE) webhook_outbox")
        tx.execute("VACUUM (ANALYZE) webhook_deliveries")
        try:
            tx.execute("CHECKPOINT")
        except Exception as exc:  # not a superuser on --database-url
            print(f"    no CHECKPOINT: {exc}")


def _scan(db: Any) -> float:
    """One claim scan as the worker makes it (not leased): seconds."""
    from lumenlater_sdk.backend.delivery._fair import DEFAULT_PER_ENDPOINT, pick_due

    t0 = time.perf_counter()
    with db.transaction() as tx:
        picked = pick_due(
            tx, now_ms=int(time.time() * 1000), limit=100, per_endpoint=DEFAULT_PER_ENDPOINT
        )
    took = time.perf_counter() - t0
    assert picked.rows, "the backlog was not due"
    return took


class Side:
    """One delivery database with its endpoint and receivers."""

    def __init__(self, url: str, args: argparse.Namespace, bench: Any) -> None:
        from delivery_receiver import ReceiverGroup, free_port

        self.bench = bench
        self.args = args
        self.db = bench.fresh_database(argparse.Namespace(database_url=url))
        port = free_port()
        self.endpoint = bench.create_endpoint(self.db, f"http://127.0.0.1:{port}/hooks")
        self.receivers = ReceiverGroup(
            args.receiver, args.receivers, self.endpoint["secret"], port=port
        )
        self.done = 0

    def round(self) -> dict[str, float]:
        """Queue ``--events``, time the claim scan, then deliver them all: figures."""
        from lumenlater_sdk.backend.delivery import DeliveryWorker

        args = self.args
        self.bench.insert(self.db, args.events, per_tx=500)
        scans = sorted(_scan(self.db) for _ in range(_SCANS))
        worker = DeliveryWorker(self.db, secret_key=self.bench.KEY)
        cpu0 = self.bench._cpu()
        t0 = time.perf_counter()
        started = threading.Event()
        runner = threading.Thread(target=worker.run, kwargs={"on_started": started.set})
        runner.start()
        try:
            started.wait(30)
            self.done += args.events
            self.bench.wait(self.receivers, self.done)
            elapsed = time.perf_counter() - t0
            cpu = self.bench._cpu() - cpu0
        finally:
            worker.stop()
            runner.join(30)
        return {
            "rate": args.events / elapsed,
            "worker_cpu_us": cpu / args.events * 1e6,
            "scan_ms": statistics.median(scans) * 1000,
            "scan_p99_ms": scans[int(0.99 * len(scans))] * 1000,
        }

    def close(self) -> None:
        self.receivers.close()
        self.db.close()


def _pair(urls: tuple[str, str], args: argparse.Namespace, bench: Any, label: str) -> None:
    empty, full = Side(urls[0], args, bench), Side(urls[1], args, bench)
    try:
        took = prefill(full.db, full.endpoint["id"], bench.MERCHANT, args.delivered)
        print(f"  {label}: {args.delivered:,} delivered rows + attempt log in {took:.0f} s")
        for side in (empty, full):
            settle(side.db)
        runs: dict[str, list[dict[str, float]]] = {"empty": [], "delivered": []}
        sides = {"empty": empty, "delivered": full}
        for side in sides.values():
            side.round()  # warm-up (imports, connections, receivers), not counted
        for n in range(args.repeat):
            # Alternate which goes first: the box is shared and its load drifts.
            for name in sorted(sides, reverse=n % 2 == 1):
                runs[name].append(sides[name].round())
        med = {
            side: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for side, rs in runs.items()
        }
        for side, m in med.items():
            rates = ", ".join(f"{r['rate']:.0f}" for r in runs[side])
            print(
                f"  {label} {side:>9}: {m['rate']:7,.0f} events/s, worker CPU"
                f" {m['worker_cpu_us']:4.0f} us/event, claim scan p50 {m['scan_ms']:6.2f} ms"
                f" p99 {m['scan_p99_ms']:6.2f} ms"
                f"   [rates {rates}]"
            )
        rate = med["delivered"]["rate"] / med["empty"]["rate"]
        scan = med["empty"]["scan_ms"] / med["delivered"]["scan_ms"]
        # The worker's CPU per event is what a busy shared box disturbs least.
        cpu = med["empty"]["worker_cpu_us"] / med["delivered"]["worker_cpu_us"]
        held = rate >= GOAL_RATIO and scan >= GOAL_RATIO
        print(
            f"  {label} delivered/empty: throughput x{rate:.2f}, claim scan speed x{scan:.2f}"
            f" (goal >= {GOAL_RATIO}: {'held' if held else 'MISSED'}); worker CPU per event"
            f" x{1 / cpu:.2f}",
            flush=True,
        )
    finally:
        empty.close()
        full.close()


def run_delivered(args: argparse.Namespace, bench: Any) -> None:
    """Both databases asked for, each empty beside prefilled; figures printed."""
    from backend_load import _fresh_database, _postgres

    if not args.no_sqlite:
        tmp = tempfile.mkdtemp(prefix="ll-delivered-")
        try:
            urls = (f"sqlite:///{tmp}/empty.db", f"sqlite:///{tmp}/full.db")
            _pair(urls, args, bench, "sqlite")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    cluster = _postgres([]) if args.postgres and not args.database_url else nullcontext(None)
    with cluster as pg:
        server = args.database_url or pg
        if server:
            urls = (_fresh_database(server), _fresh_database(server))
            _pair(urls, args, bench, "postgresql")
