"""Webhook delivery benchmark: events/s per worker process, and event-to-handler latency.

    python bench/delivery.py [--events 3000] [--rate 200] [--seconds 5] [--database-url URL]

A real ``WebhookApp`` runs under uvicorn in its own process on loopback. Phase 1
queues ``--events`` events, then starts one ``DeliveryWorker`` and times how fast
they are all handled. Phase 2 inserts events (row + outbox, one transaction each,
as the backend does) at ``--rate`` per second with the worker running, and measures
insert → handler latency. Goals: ≥ 1,000 events/s, p99 ≤ 100 ms at 200 events/s;
the printed ratios are figure / goal (throughput) and goal / figure (latency).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

GOAL_RATE = 1000.0
GOAL_P99_MS = 100.0
MERCHANT = "GBENCHMERCHANTAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEY = "bench-secret-key-0123456789"


def _receiver(port: int, secret: str) -> None:
    """Child process: a WebhookApp that records handler latency; GET /stats reports it."""
    import uvicorn

    from lumenlater_sdk.webhooks import WebhookApp

    latencies: list[float] = []
    hooks = WebhookApp(secret=secret)

    @hooks.on("*")
    async def handle(event: Any) -> None:
        latencies.append(time.time() - float(event.model_extra["bench_t"]))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            body = json.dumps({"count": len(latencies), "latencies": latencies}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            if scope["path"] == "/reset":
                latencies.clear()
            return
        await hooks(scope, receive, send)

    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False
    )


def _stats(port: int, path: str = "/stats") -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _insert(db: Any, n: int) -> None:
    from lumenlater_sdk.backend.delivery import enqueue
    from lumenlater_sdk.webhooks.testing import make_event

    for _ in range(n):
        ev = make_event("bill.paid")
        ev["bench_t"] = time.time()
        with db.transaction() as tx:
            tx.execute(
                "INSERT INTO events (id, merchant_id, type, created, livemode, payload)"
                " VALUES (?, ?, ?, ?, 0, ?)",
                (ev["id"], MERCHANT, ev["type"], ev["created"], json.dumps(ev)),
            )
            enqueue(tx, event_id=ev["id"], merchant_id=MERCHANT, event_type=ev["type"])


def _wait(port: int, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while _stats(port)["count"] < n:
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for deliveries")
        time.sleep(0.01)


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--receiver", nargs=2, metavar=("PORT", "SECRET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        _receiver(int(args.receiver[0]), args.receiver[1])
        return

    from lumenlater_sdk.backend.db import connect
    from lumenlater_sdk.backend.delivery import DeliveryWorker, WebhookEndpointService, install

    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    db = connect(url)
    install(db)
    with db.transaction() as tx:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, merchant_id TEXT,"
            " type TEXT, created BIGINT, livemode INTEGER, payload TEXT)"
        )
    port = _free_port()
    svc = WebhookEndpointService(db, secret_key=KEY)
    ep = svc.create(MERCHANT, url=f"http://127.0.0.1:{port}/hooks", enabled_events=["*"])
    child = subprocess.Popen([sys.executable, __file__, "--receiver", str(port), ep["secret"]])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _stats(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

        # Phase 1: throughput of one worker on a backlog.
        _insert(db, args.events)
        worker = DeliveryWorker(db, secret_key=KEY, concurrency=16, batch_size=100)
        t0 = time.perf_counter()
        worker.start()
        _wait(port, args.events)
        elapsed = time.perf_counter() - t0
        rate = args.events / elapsed
        _stats(port, "/reset")

        # Phase 2: latency at a steady rate, worker running (woken by enqueue).
        n = int(args.rate * args.seconds)
        start = time.perf_counter()
        for i in range(n):
            target = start + i / args.rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            _insert(db, 1)
        _wait(port, n)
        lat = [x * 1000 for x in _stats(port)["latencies"]]
        worker.close()
    finally:
        child.terminate()
        child.wait(10)
        db.close()
    p50, p99 = _pct(lat, 50), _pct(lat, 99)
    print(f"database: {db.dialect}; {os.cpu_count()} CPUs")
    print(
        f"throughput: {rate:,.0f} events/s ({args.events} events in {elapsed:.2f} s)"
        f"  ratio to goal {GOAL_RATE:,.0f}/s: {rate / GOAL_RATE:.2f}"
    )
    print(
        f"latency at {args.rate:g} events/s ({n} events): p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        f"  ratio goal/p99: {GOAL_P99_MS / p99:.2f}"
    )


if __name__ == "__main__":
    main()
