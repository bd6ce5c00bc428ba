"""How fast retention prunes a big delivery history, and what it costs writers meanwhile.

    python3 bench/retention.py [--rows 1000000] [--postgres] [--no-sqlite]
                               [--batch 500] [--pause 0.05] [--duration 10]

Per database: a sandbox backend (in this process, as the backend runs its pruner) is
seeded with ``--rows`` delivered webhook outbox rows and as many attempt-log rows, all
40 days old, written by the delivery engine's own functions (``enqueue``, ``claim_due``,
``record_outcomes``) in transactions of 500 events. Then, in the same run:

* baseline: one client POSTs ``/v1/bills`` (keyed) back to back for ``--duration`` s;
* pruning: the same client while :func:`~lumenlater_sdk.backend.services.retention.prune`
  deletes all of it (``--batch`` rows per transaction, ``--pause`` s between batches).

Printed: seeding time, prune rows/s (wall, and without the pauses), the POSTs' p50/p99
with and without pruning and the p99 ratio (pruning / baseline), and errors (any POST
not answered 200). PostgreSQL runs on a throwaway cluster (as bench/backend_load.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backend_load import _fresh_database, _postgres

from lumenlater_sdk.backend.delivery import DEFAULT_SCHEDULE, DISABLE_AFTER, Claim, Outcome
from lumenlater_sdk.backend.delivery import enqueue as enqueue_delivery
from lumenlater_sdk.backend.delivery._attempts import record_outcomes
from lumenlater_sdk.backend.delivery._outbox import claim_due
from lumenlater_sdk.backend.services.retention import RetentionPolicy, prune
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

DAY = 86_400
PER_TX = 500


def seed(sb: SandboxHandle, rows: int) -> float:
    """*rows* delivered outbox rows and attempts, 40 days old; seconds it took."""
    db, endpoint = sb.backend.db, sb.webhook_endpoint
    assert endpoint is not None
    old = time.time() - 40 * DAY
    started = time.perf_counter()
    for start in range(0, rows, PER_TX):
        n = min(PER_TX, rows - start)
        token = uuid.uuid4().hex
        with db.transaction() as tx:
            for i in range(start, start + n):
                enqueue_delivery(
                    tx,
                    event_id=f"evt_bench{i:09d}",
                    merchant_id=sb.merchant_id,
                    event_type="bill.created",
                    now=old,
                )
            due = claim_due(tx, now=old + 1, lease=30, token=token, limit=n, per_endpoint=n)
            claims = [
                Claim(
                    seq=r["seq"],
                    event_id=r["event_id"],
                    event_type="bill.created",
                    payload=b"{}",
                    endpoint_id=r["endpoint_id"],
                    merchant_id=r["merchant_id"],
                    url="http://127.0.0.1:9/",
                    secrets=(),
                    attempt=r["attempts"] + 1,
                    cycle_attempt=r["cycle_attempts"] + 1,
                    cycle_started=old + 1,
                )
                for r in due.rows
            ]
            record_outcomes(
                tx,
                [Outcome(c, 200, None, 4, old + 1) for c in claims],
                tokens={c.seq: token for c in claims},
                schedule=DEFAULT_SCHEDULE,
                disable_after=DISABLE_AFTER,
                now=old + 1,
            )
        if (start // PER_TX) % 200 == 0:
            print(f"  seeded {start + n:,}/{rows:,}", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def post_loop(
    sb: SandboxHandle, until: threading.Event, out: list[float], errors: list[int]
) -> None:
    """POST /v1/bills back to back until *until* is set; latencies (ms) into *out*."""
    with httpx.Client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.secret_key}"}, timeout=60
    ) as http:
        customer = http.get("/v1/test_helpers/wallets/approve").json()["address"]
        body = {"customer": customer, "amount": 1_000_000}
        while not until.is_set():
            t = time.perf_counter()
            r = http.post("/v1/bills", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            out.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                errors.append(r.status_code)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench(url: str, label: str, args: argparse.Namespace) -> None:
    with run_sandbox(
        url, run_delivery=False, retention=False, tick_interval=3600, log_requests=False
    ) as sb:
        seconds = seed(sb, args.rows)
        print(f"{label}: seeded {args.rows:,} delivered outbox rows + {args.rows:,} attempts"
              f" in {seconds:.1f} s ({2 * args.rows / seconds:,.0f} rows/s)")  # fmt: skip
        # Baseline: the same client, no pruning.
        base: list[float] = []
        base_errors: list[int] = []
        stop = threading.Event()
        writer = threading.Thread(target=post_loop, args=(sb, stop, base, base_errors))
        writer.start()
        time.sleep(args.duration)
        stop.set()
        writer.join()
        # Pruning: the same client while everything goes.
        during: list[float] = []
        during_errors: list[int] = []
        stop = threading.Event()
        writer = threading.Thread(target=post_loop, args=(sb, stop, during, during_errors))
        writer.start()
        policy = RetentionPolicy(batch=args.batch, pause=args.pause)
        t = time.perf_counter()
        report = prune(sb.backend.db, policy, now=time.time())
        elapsed = time.perf_counter() - t
        stop.set()
        writer.join()
        working = elapsed - args.pause * max(0, len(report.batches) - 1)
        with sb.backend.db.transaction(write=False) as tx:
            remaining = tx.scalar("SELECT COUNT(*) FROM webhook_deliveries") + tx.scalar(
                "SELECT COUNT(*) FROM webhook_outbox WHERE status = 'delivered'"
            )
        print(
            f"{label}: pruned {report.total:,} rows in {elapsed:.1f} s:"
            f" {report.total / elapsed:,.0f} rows/s wall, {report.total / working:,.0f} rows/s"
            f" without the {args.pause} s pauses ({len(report.batches)} batches of <= {args.batch},"
            f" largest {max(report.batches)}); old rows left: {remaining}"
        )
        bp50, bp99 = statistics.median(base), pct(base, 0.99)
        dp50, dp99 = statistics.median(during), pct(during, 0.99)
        print(
            f"{label}: POST /v1/bills p50 {bp50:.1f} ms p99 {bp99:.1f} ms ({len(base)} requests)"
            f" without pruning; p50 {dp50:.1f} ms p99 {dp99:.1f} ms ({len(during)} requests)"
            f" while pruning; p99 ratio {dp99 / bp99:.2f}, p50 ratio {dp50 / bp50:.2f};"
            f" errors {len(base_errors)} / {len(during_errors)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="delivered rows to seed")
    parser.add_argument("--batch", type=int, default=500, help="rows per prune transaction")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between batches")
    parser.add_argument("--duration", type=float, default=10, help="baseline seconds")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    args = parser.parse_args()
    if not args.no_sqlite:
        with TemporaryDirectory(prefix="ll-retention-") as tmp:
            bench(f"sqlite:///{tmp}/retention.db", "sqlite", args)
    if args.postgres:
        with _postgres([]) as server:
            bench(_fresh_database(server), "postgresql", args)


if __name__ == "__main__":
    main()
