"""Delivery of a filled history's outbox: this tree against another one, rows/s and CPU.

A database bench/history.py filled (and delivered) is reset to "every outbox row
pending, no attempt logged", its endpoints pointed at one null receiver process, and
delivered again by the ``DeliveryWorker`` (history.py's settings: batch 500, concurrency
64) of this tree and of ``--against DIR`` alternately, each in its own process. Per run:
wall time, rows/s, the worker process's CPU and, on PostgreSQL, the CPU of the cluster's
processes meanwhile (bench/history_fill_cost.py's sampler): the box is shared, so CPU
per row is the figure to compare, wall rates only from the same run.

    python bench/history_delivery_cost.py --db URL --against /tmp/base [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from delivery_receiver import ReceiverGroup
from history import SEALING_KEY
from history_fill_cost import _cluster_cpu, _cmdline

from lumenlater_sdk.backend.db import connect

_WORKER = """
import resource, sys, threading, time
from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.delivery import DeliveryWorker
db = connect(sys.argv[1])
def pending():
    with db.transaction(write=False) as tx:
        return int(tx.scalar("SELECT count(*) FROM webhook_outbox WHERE status = 'pending'"))
worker = DeliveryWorker(db, secret_key=sys.argv[2], batch_size=500, concurrency=64)
started = threading.Event()
runner = threading.Thread(target=worker.run, kwargs={"on_started": started.set})
todo = pending()
start = time.perf_counter()
runner.start()
started.wait(60)
while pending() > 0:
    time.sleep(0.2)
took = time.perf_counter() - start
worker.stop()
runner.join(60)
u = resource.getrusage(resource.RUSAGE_SELF)
print(f"delivered {todo} {took:.3f} {u.ru_utime + u.ru_stime:.3f}")
"""

_RESET = (
    "UPDATE webhook_outbox SET status = 'pending', attempts = 0, cycle_attempts = 0,"
    " cycle_started_ms = NULL, next_attempt_ms = 0, locked_until_ms = NULL, lock_token = NULL",
    "DELETE FROM webhook_deliveries",
    "UPDATE webhook_endpoints SET url = ?, failing_since = NULL",
)


def _reset(url: str, receiver: str) -> None:
    with connect(url) as db, db.transaction() as tx:
        for sql in _RESET:
            tx.execute(sql, (receiver,) if "?" in sql else ())


def _deliver(tree: str, url: str, key: str, data_dir: Path | None) -> dict[str, float]:
    seen: dict[int, float] = {}
    before = _cluster_cpu(data_dir) if data_dir else {}
    done = threading.Event()

    def sample() -> None:
        while data_dir and not done.is_set():
            for pid, cpu in _cluster_cpu(data_dir).items():
                seen[pid] = max(seen.get(pid, 0.0), cpu)
            done.wait(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out = subprocess.run(
        [sys.executable, "-c", _WORKER, url, key],
        env={**os.environ, "PYTHONPATH": tree},
        capture_output=True,
        text=True,
        check=False,
    )
    done.set()
    sampler.join()
    found = re.search(r"delivered (\d+) ([\d.]+) ([\d.]+)", out.stdout)
    if found is None:
        sys.exit(f"delivery with {tree} failed:\n{out.stdout}\n{out.stderr}")
    rows, wall, cpu = int(found.group(1)), float(found.group(2)), float(found.group(3))
    pg = sum(c - before.get(pid, 0.0) for pid, c in seen.items())
    return {"rows": rows, "wall": wall, "cpu": cpu, "pg": pg}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="a database bench/history.py filled")
    p.add_argument("--against", required=True, help="a checkout of the baseline")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    sides = [("this", here), ("baseline", str(Path(args.against).resolve()))]
    data_dir = None
    if args.db.startswith("postgresql"):
        found = re.search(r" -D (\S+)", _cmdline(args.db.rsplit("/", 1)[0] + "/postgres"))
        data_dir = Path(found.group(1)) if found else None
    receiver = ReceiverGroup("null", 1, "unused")
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in sides}
    try:
        for round_ in range(args.rounds):
            for name, tree in sides[:: 1 if round_ % 2 == 0 else -1]:
                _reset(args.db, receiver.url)
                r = _deliver(tree, args.db, SEALING_KEY, data_dir)
                results[name].append(r)
                print(
                    f"round {round_} {name:8s}: {r['rows']:,.0f} rows in {r['wall']:6.1f} s"
                    f" ({r['rows'] / r['wall']:6.0f}/s), worker CPU {r['cpu']:5.1f} s,"
                    f" PostgreSQL CPU {r['pg']:5.1f} s:"
                    f" {r['rows'] / (r['cpu'] + r['pg']):5.0f} rows per CPU s"
                    f" (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    finally:
        receiver.close()
    for name, runs in results.items():
        rate = sum(r["rows"] / r["wall"] for r in runs) / len(runs)
        cpu = sum(r["rows"] / (r["cpu"] + r["pg"]) for r in runs) / len(runs)
        print(f"{name:8s}: {rate:6.0f} rows/s, {cpu:5.0f} rows per CPU s (mean of {len(runs)})")


if __name__ == "__main__":
    main()
