"""The ``--hostile`` scenario of ``bench/delivery.py``: one merchant's hanging endpoint
with a backlog of thousands, and another merchant's webhooks measured beside it.

Merchant A's endpoint is a *black hole*: a process that accepts every connection and
reads the requests but never answers, so each attempt holds its connection until the
worker's timeout (10 s by default). Thousands of events are queued for it. Merchant B's
endpoint is a real ``WebhookApp`` receiver (``delivery_receiver.py``). B's events are
inserted at ``--rate`` per second for ``--seconds`` seconds, and insert → handler
latency is measured three times in one run, with one worker at default settings:

* ``alone``: before A's backlog exists (the baseline);
* ``hostile``: with A's backlog queued and A's endpoint holding its capped slots;
* ``uncapped`` (with ``--uncapped``): the same with ``endpoint_concurrency`` =
  ``concurrency`` (no cap per endpoint: A's backlog takes every slot, B waits for A's
  timeouts), for 20 of B's events only, to show what the cap buys.

Goal (issue 14): B's p99 under 1 s with the hostile backlog.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import subprocess
import sys
import threading
import time
from typing import Any

GOAL_HOSTILE_P99_MS = 1000.0
UNCAPPED_EVENTS = 20  # without a cap each waits for A's timeouts: a few show it
HOSTILE = "GBENCHHOSTILEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def black_hole(port: int) -> None:
    """Child process: accept every connection, read whatever comes, never answer."""
    sel = selectors.DefaultSelector()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4096)
    sel.register(server, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is server:
                conn, _ = server.accept()
                sel.register(conn, selectors.EVENT_READ)
            elif not sock.recv(65536):  # the worker gave up on it
                sel.unregister(sock)
                sock.close()


class BlackHole:
    """A :func:`black_hole` process on a free port."""

    def __init__(self) -> None:
        from delivery_receiver import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(self.port)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _in_flight(db: Any, endpoint_id: str) -> int:
    with db.transaction(write=False) as tx:
        return int(
            tx.scalar(
                "SELECT COUNT(*) FROM webhook_outbox WHERE endpoint_id = ? AND status = 'pending'"
                " AND lock_token IS NOT NULL AND locked_until_ms > ?",
                (endpoint_id, int(time.time() * 1000)),
            )
        )


def _paced(db: Any, args: argparse.Namespace, insert: Any, most: int | None) -> int:
    n = min(int(args.rate * args.seconds), most or sys.maxsize)
    start = time.perf_counter()
    for i in range(n):
        delay = start + i / args.rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        insert(db, 1)
    return n


class _Serving:
    """A worker serving on a thread of this process (where the events are inserted)."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        started = threading.Event()
        self.thread = threading.Thread(target=worker.run, kwargs={"on_started": started.set})
        self.thread.start()
        started.wait(30)

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(30)


def measure_hostile(args: argparse.Namespace, bench: Any) -> dict[str, Any]:
    """One run of the three phases; *bench* is ``delivery.py`` (its helpers)."""
    from delivery_receiver import ReceiverGroup, free_port

    from lumenlater_sdk.backend.delivery import DeliveryWorker

    db = bench.fresh_database(args)
    port = free_port()
    victim = bench.create_endpoint(db, f"http://127.0.0.1:{port}/hooks", bench.MERCHANT)
    hole = BlackHole()
    receivers = ReceiverGroup(args.receiver, args.receivers, victim["secret"], port=port)
    hostile = bench.create_endpoint(db, hole.url, HOSTILE)
    result: dict[str, Any] = {"database": db.dialect, "backlog": args.backlog}

    def victim_events(label: str, most: int | None = None) -> None:
        mark, before = receivers.counts(), receivers.count()
        n = _paced(db, args, bench.insert, most)
        bench.wait(receivers, before + n, timeout=120)
        lat = [x * 1000 for x in receivers.latencies(after=mark)]
        result[label] = {"p50": bench.pct(lat, 50), "p99": bench.pct(lat, 99), "max": max(lat)}

    def hostile_backlog(worker: Any, *, queue: bool = True) -> None:
        if queue:
            bench.insert(db, args.backlog, per_tx=500, merchant=HOSTILE)
            worker.wake()
        deadline = time.monotonic() + 30
        while _in_flight(db, hostile["id"]) < worker.endpoint_concurrency:
            if time.monotonic() > deadline:
                raise SystemExit("the hostile endpoint never filled its slots")
            time.sleep(0.02)

    try:
        serving = _Serving(DeliveryWorker(db, secret_key=bench.KEY, **bench.worker_options(args)))
        try:
            result["cap"] = serving.worker.endpoint_concurrency
            result["concurrency"] = serving.worker.concurrency
            victim_events("alone")
            hostile_backlog(serving.worker)
            victim_events("hostile")
            result["hostile_in_flight"] = _in_flight(db, hostile["id"])
        finally:
            serving.stop()  # A's unanswered attempts are given back untried
        if args.uncapped:
            uncapped = DeliveryWorker(db, secret_key=bench.KEY, endpoint_concurrency=64)
            serving = _Serving(uncapped)
            try:
                hostile_backlog(serving.worker, queue=False)  # the backlog is still there
                victim_events("uncapped", most=UNCAPPED_EVENTS)
            finally:
                serving.stop()
    finally:
        receivers.close()
        hole.close()
        db.close()
    return result


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Print every run's figures and the ratios against its own baseline."""
    goal = GOAL_HOSTILE_P99_MS
    for r in runs:
        alone, hostile = r["alone"], r["hostile"]
        print(
            f"{r['database']}: merchant B @{args.rate:g}/s for {args.seconds:g}s; merchant A's"
            f" endpoint never answers, backlog {r['backlog']}, cap {r['cap']} per endpoint"
            f" of {r['concurrency']} (A in flight: {r['hostile_in_flight']})"
        )
        print(f"  alone:    p50 {alone['p50']:7.1f} ms  p99 {alone['p99']:7.1f} ms")
        print(
            f"  hostile:  p50 {hostile['p50']:7.1f} ms  p99 {hostile['p99']:7.1f} ms"
            f"  (p99 x{hostile['p99'] / alone['p99']:.2f} of alone;"
            f" goal {goal:g} ms, goal/p99 {goal / hostile['p99']:.1f})"
        )
        if "uncapped" in r:
            u = r["uncapped"]
            print(
                f"  uncapped: p50 {u['p50']:7.1f} ms  p99 {u['p99']:7.1f} ms"
                f"  (p99 x{u['p99'] / alone['p99']:.1f} of alone; no cap per endpoint,"
                f" {UNCAPPED_EVENTS} events)"
            )


if __name__ == "__main__":
    black_hole(int(sys.argv[1]))
