"""Webhook delivery benchmark: events/s per worker process, and event-to-handler latency.

    python3 bench/delivery.py [--events 5000] [--rate 200] [--seconds 10]
        [--receivers 1] [--receiver webhook|null] [--database-url URL]
        [--against DIR] [--repeat 3] [--capacity]
        [--hostile [--backlog 5000] [--uncapped]] [--endpoint-concurrency N]
        [--delivered 5000000 [--postgres] [--no-sqlite]]

Receivers run in their own processes (``delivery_receiver.py``), never in the
worker's. Throughput: ``--events`` events are queued, then one ``DeliveryWorker``
(default settings) starts and is timed until every handler ran; the worker process's
CPU per event is printed too (its capacity if it had a core to itself: this box has
two, shared with the receivers and whatever else runs). Latency: events are inserted
(event row + outbox, one transaction each, as the backend does, in the worker's
process) at ``--rate`` per second while the worker runs; insert → handler, p50/p99.
``--capacity`` first measures the receivers alone with wrk, so the worker's figure
can be read against what the receiver could take at all.

``--hostile`` runs the fair-delivery scenario instead (``delivery_hostile.py``): one
merchant's endpoint accepts connections and never answers, with ``--backlog`` events
queued for it; another merchant's events at ``--rate`` for ``--seconds``, latency
alone (the baseline) and beside the backlog, ``--repeat`` runs (``--uncapped`` adds a
run of the same worker without its cap per endpoint).

``--delivered N`` runs the long-history scenario instead (``delivery_delivered.py``):
an empty delivery database beside one prefilled with *N* delivered outbox rows and
their attempt log, ``--events`` delivered on each alternately, ``--repeat`` rounds;
throughput and the claim scan's time, and the delivered/empty ratios. SQLite, and
PostgreSQL with ``--postgres`` (a throwaway cluster) or ``--database-url``.

``--against DIR`` runs the same measurement with another checkout's
``lumenlater_sdk`` (e.g. ``git archive HEAD lumenlater_sdk | tar -x -C /tmp/base``)
alternately with this one, ``--repeat`` times, and prints both medians: the box is
shared and noisy, so only figures from one run are compared.

Goals (issue 6): >= 1,000 events/s per worker process; p99 <= 100 ms at 200 events/s.
Goal (issue 14, ``--hostile``): the other merchant's p99 under 1 s beside the backlog.
Goal (issue 17, ``--delivered 5000000``): throughput within 10 % of the empty outbox's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

GOAL_RATE = 1000.0
GOAL_P99_MS = 100.0
MERCHANT = "GBENCHMERCHANTAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEY = "a3d0c4f1e7b2968d5c1f0e3b7a9d2c4e6f8b1a3c5d7e9f0b2c4d6e8fa1b3c5d7"
_EVENTS = (
    "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, merchant_id TEXT,"
    " type TEXT, created BIGINT, livemode INTEGER, payload TEXT)"
)


_template: dict[str, Any] = {}


def insert(db: Any, n: int, per_tx: int = 1, merchant: str = MERCHANT) -> None:
    """Insert *n* events of *merchant* with their outbox rows, *per_tx* per transaction."""
    from lumenlater_sdk.backend.delivery import enqueue
    from lumenlater_sdk.webhooks.testing import make_event

    # One sample event, re-identified: making a fresh sample mints Stellar keypairs,
    # which would bill the worker's process for work that is not delivery.
    if not _template:
        _template.update(make_event("bill.paid"))
    template = _template
    for start in range(0, n, per_tx):
        with db.transaction() as tx:
            for _ in range(min(per_tx, n - start)):
                ev = {**template, "id": "evt_" + os.urandom(12).hex(), "bench_t": time.time()}
                tx.execute(
                    "INSERT INTO events (id, merchant_id, type, created, livemode, payload)"
                    " VALUES (?, ?, ?, ?, 0, ?)",
                    (ev["id"], merchant, ev["type"], ev["created"], json.dumps(ev)),
                )
                enqueue(tx, event_id=ev["id"], merchant_id=merchant, event_type=ev["type"])


def wait(receivers: Any, n: int, timeout: float = 300) -> None:
    """Block until the receivers handled *n* events in all."""
    deadline = time.monotonic() + timeout
    while receivers.count() < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {receivers.count()} of {n} delivered")
        time.sleep(0.02)


def pct(values: list[float], p: float) -> float:
    """The *p*-th percentile of *values*."""
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def create_endpoint(db: Any, url: str, merchant: str = MERCHANT) -> dict[str, Any]:
    """A webhook endpoint for every event, through the endpoint services (on a checkout
    from before they left the delivery package, through its own service)."""
    try:
        from lumenlater_sdk.backend._crypto import SecretBox
        from lumenlater_sdk.backend.config import BackendConfig
        from lumenlater_sdk.backend.services import webhook_endpoints
        from lumenlater_sdk.backend.services.context import ServiceContext
    except ImportError:  # an older checkout given with --against
        from lumenlater_sdk.backend.delivery import WebhookEndpointService

        old: dict[str, Any] = WebhookEndpointService(db, secret_key=KEY).create(
            merchant, url=url, enabled_events=["*"]
        )
        return old
    ctx = ServiceContext(  # the endpoint services never touch the chain
        config=BackendConfig(secret_key=KEY), db=db, chain=None, box=SecretBox(KEY), contract_id=""
    )
    return webhook_endpoints.create_endpoint(ctx, merchant, url=url, enabled_events=["*"])


def worker_options(args: argparse.Namespace) -> dict[str, Any]:
    """``DeliveryWorker`` keywords the command line sets (none: its defaults)."""
    if args.endpoint_concurrency is None:
        return {}
    return {"endpoint_concurrency": args.endpoint_concurrency}


def fresh_database(args: argparse.Namespace) -> Any:
    """``--database-url`` (emptied) or a new SQLite file, with the delivery tables."""
    from lumenlater_sdk.backend.db import connect
    from lumenlater_sdk.backend.delivery import install

    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    db = connect(url)
    install(db)
    with db.transaction() as tx:
        if db.dialect == "postgresql":  # a fresh schema each run on a shared database
            tx.execute("TRUNCATE webhook_outbox, webhook_deliveries")
            tx.execute("DELETE FROM webhook_endpoints")
            tx.execute("DROP TABLE IF EXISTS events")
        tx.execute(_EVENTS)
    return db


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run of both phases against fresh receivers and a fresh database."""
    from delivery_receiver import ReceiverGroup, free_port

    from lumenlater_sdk.backend.delivery import DeliveryWorker

    db = fresh_database(args)
    port = free_port()
    ep = create_endpoint(db, f"http://127.0.0.1:{port}/hooks")
    receivers = ReceiverGroup(args.receiver, args.receivers, ep["secret"], port=port)
    worker = DeliveryWorker(db, secret_key=KEY, **worker_options(args))
    runner: threading.Thread | None = None
    try:
        insert(db, args.events, per_tx=500)
        cpu0, rcpu0 = _cpu(), receivers.cpu_seconds()
        t0 = time.perf_counter()
        started = threading.Event()
        runner = threading.Thread(target=worker.run, kwargs={"on_started": started.set})
        runner.start()
        started.wait(30)
        wait(receivers, args.events)
        elapsed = time.perf_counter() - t0
        cpu, rcpu = _cpu() - cpu0, receivers.cpu_seconds() - rcpu0
        mark = receivers.counts()
        claims = getattr(worker, "_batches", 0)  # claiming transactions, for batch sizes

        n = int(args.rate * args.seconds)
        start = time.perf_counter()
        for i in range(n):
            delay = start + i / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            insert(db, 1)
        wait(receivers, args.events + n)
        lat = [x * 1000 for x in receivers.latencies(after=mark)]
    finally:
        worker.stop()
        if runner is not None:
            runner.join(30)
        receivers.close()
        db.close()
    return {
        "database": db.dialect,
        "rate": args.events / elapsed,
        "elapsed": elapsed,
        "worker_cpu_us": cpu / args.events * 1e6,
        "receiver_cpu_us": rcpu / args.events * 1e6,
        "events_per_claim": args.events / max(claims, 1),
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
        "max": max(lat),
    }


def _child(args: argparse.Namespace, code: str | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--json", "--events", str(args.events)]
    cmd += ["--rate", str(args.rate), "--seconds", str(args.seconds)]
    cmd += ["--receivers", str(args.receivers), "--receiver", args.receiver]
    if args.database_url:
        cmd += ["--database-url", args.database_url]
    if code:
        cmd += ["--code", code]
    if args.endpoint_concurrency is not None:
        cmd += ["--endpoint-concurrency", str(args.endpoint_concurrency)]
    if args.hostile:
        cmd += ["--hostile", "--backlog", str(args.backlog)]
        cmd += ["--uncapped"] if args.uncapped else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _line(label: str, runs: list[dict[str, Any]], rate: float) -> str:
    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    rates = ", ".join(f"{r['rate']:.0f}" for r in runs)
    p99s = ", ".join(f"{r['p99']:.0f}" for r in runs)
    return (
        f"{label:>9}: {med('rate'):7,.0f} events/s (x{med('rate') / GOAL_RATE:.2f} of goal),"
        f" worker CPU {med('worker_cpu_us'):5.0f} us/event, receiver CPU"
        f" {med('receiver_cpu_us'):4.0f} us/event | latency @{rate:g}/s p50 {med('p50'):6.1f} ms"
        f" p99 {med('p99'):7.1f} ms (goal/p99 {GOAL_P99_MS / med('p99'):.2f})"
        f"   [rates {rates}; p99s {p99s}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--receivers", type=int, default=1)
    parser.add_argument("--receiver", choices=["webhook", "null"], default="webhook")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--against", metavar="DIR", help="baseline checkout to alternate with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--capacity", action="store_true", help="measure the receivers alone")
    parser.add_argument("--endpoint-concurrency", type=int, help="the worker's cap per endpoint")
    parser.add_argument("--hostile", action="store_true", help="the fair-delivery scenario")
    parser.add_argument("--backlog", type=int, default=5000, help="--hostile: events for A")
    parser.add_argument("--uncapped", action="store_true", help="--hostile: also without a cap")
    parser.add_argument("--delivered", type=int, default=0, help="prefilled delivered rows")
    parser.add_argument("--postgres", action="store_true", help="--delivered: also PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="--delivered: PostgreSQL only")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, args.code)
    if args.json:
        if args.hostile:
            from delivery_hostile import measure_hostile

            print(json.dumps(measure_hostile(args, sys.modules[__name__])))
        else:
            print(json.dumps(measure(args)))
        return
    print(f"{os.cpu_count()} CPUs; receiver {args.receiver} x{args.receivers};", end=" ")
    print(f"database {args.database_url or 'sqlite (temp file)'}", flush=True)
    if args.capacity:
        from delivery_receiver import capacity

        rps, cpu = capacity(args.receiver, args.receivers)
        print(f"receiver alone (wrk -c32): {rps:,.0f} req/s, {cpu:.0f} us CPU/request")
    if args.delivered:
        from delivery_delivered import run_delivered

        run_delivered(args, sys.modules[__name__])
        return
    if args.hostile:
        from delivery_hostile import report

        report([_child(args, args.against) for _ in range(args.repeat)], args)
        return
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "this": []}
    for _ in range(args.repeat):
        if args.against:
            runs["baseline"].append(_child(args, args.against))
        runs["this"].append(_child(args, None))
    for label, results in runs.items():
        if results:
            print(_line(label, results, args.rate))


if __name__ == "__main__":
    main()
