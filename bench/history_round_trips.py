"""Round trips to PostgreSQL of bench/history.py's fill per bill, or of its delivery per
outbox row: a figure the load of a shared machine does not move.

Through the test suite's counting proxy (tests/backend/pg_wire.py: one ReadyForQuery, one
round trip). On a busy machine each round trip is a sleep and a wake-up of both processes,
which is where most of a PostgreSQL fill's wall time went (at load 10, 126 s of a 4,000-bill
fill loop whose own CPU was 16 s and PostgreSQL's ~12 s). The tree measured is the one on
PYTHONPATH, so the same command measures a baseline checkout.

    python bench/history_round_trips.py fill --db URL [--bills 3000] [--after 1000]
    python bench/history_round_trips.py deliver --db URL   # a database history.py filled
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tests/backend"))

from history import SEALING_KEY, Filler
from history_delivery_cost import _reset
from pg_wire import RoundTripCounter

from lumenlater_sdk.backend.db import connect


class _Forget(list[str]):
    """The proxy's statement log, kept empty: a fill runs hundreds of thousands."""

    def append(self, _: str) -> None:
        return None


def _fill(proxy: RoundTripCounter, url: str, bills: int, after: int) -> None:
    args = argparse.Namespace(
        batch=1000, deliver=False, merchants=20, first_share=0.5, per_day=1370, progress=1e9
    )
    filler = Filler(url, args)
    try:
        filler.fill_to(after)  # the shoppers' wallets first: thousands of round trips
        before, first = proxy.trips, filler.fill.counts["bills"]
        filler.fill_to(bills)
        made, trips = filler.fill.counts["bills"] - first, proxy.trips - before
        print(
            f"fill from {first:,} to {first + made:,} bills: {trips:,} round trips,"
            f" {trips / made:.2f} per bill"
        )
    finally:
        filler.close()


def _deliver(proxy: RoundTripCounter, direct_url: str, url: str) -> None:
    from delivery_receiver import ReceiverGroup

    from lumenlater_sdk.backend.delivery import DeliveryWorker

    receiver = ReceiverGroup("null", 1, "unused")
    try:
        _reset(direct_url, receiver.url)
        with connect(direct_url) as direct, connect(url) as db:

            def pending() -> int:  # not through the proxy: not counted
                with direct.transaction(write=False) as tx:
                    return int(
                        tx.scalar("SELECT count(*) FROM webhook_outbox WHERE status = 'pending'")
                    )

            todo = pending()
            worker = DeliveryWorker(db, secret_key=SEALING_KEY, batch_size=500, concurrency=64)
            started = threading.Event()
            runner = threading.Thread(target=worker.run, kwargs={"on_started": started.set})
            before = proxy.trips
            runner.start()
            started.wait(60)
            while pending() > 0:
                time.sleep(0.2)
            trips = proxy.trips - before
            worker.stop()
            runner.join(60)
        print(f"deliver: {todo:,} rows, {trips:,} round trips, {trips / todo:.3f} per row")
    finally:
        receiver.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("fill", "deliver"))
    p.add_argument("--db", required=True, help="postgresql://... (fill: an empty database)")
    p.add_argument("--bills", type=int, default=3000)
    p.add_argument("--after", type=int, default=1000, help="fill: count from this bill on")
    args = p.parse_args()
    proxy = RoundTripCounter(args.db)
    proxy.log = _Forget()
    url = proxy.url(args.db.rsplit("/", 1)[1])
    print(f"tree: {os.environ.get('PYTHONPATH', '.')} (load {os.getloadavg()[0]:.1f})")
    try:
        if args.what == "fill":
            _fill(proxy, url, args.bills, args.after)
        else:
            _deliver(proxy, args.db, url)
    finally:
        proxy.close()


if __name__ == "__main__":
    main()
