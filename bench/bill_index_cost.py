"""What an index on ``bills`` costs each bill write: CPU with and without it, paired rounds.

Two databases per dialect, migrated alike by the backend, one with the index dropped
(``--index``; several, comma separated, for what a set of indexes costs together;
by default the latest index added on ``bills``: :data:`LATEST`), and then given
``--then`` statements (``;``-separated): another design's indexes, to weigh two designs
rather than one index against none. Each round runs the
same writes on both, which first alternating, each step in its own transactions of
``--batch`` bills through the store (``store.bills.insert_bill`` / ``update_bill``, so
with the rollups and spans they keep): bills inserted as POST /v1/bills inserts them,
paid, a quarter announced overdue as the sweep does, then all repaid. CPU per bill and
step: on SQLite this process's (the engine runs in it; the Python around it is the same
on both sides), on PostgreSQL the database's backends' (/proc/PID/schedstat). Median
over rounds, and with/without.

    python bench/bill_index_cost.py [--rounds 7] [--bills 2000] [--sqlite] [--postgres]
        [--index NAME[,NAME...]] [--then "CREATE INDEX ...; CREATE INDEX ..."]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from backend_load import _fresh_database, _postgres

from lumenlater_sdk.backend._ids import new_id
from lumenlater_sdk.backend.db import Database, Tx, connect, migrate
from lumenlater_sdk.backend.store import COMPONENT, MIGRATIONS
from lumenlater_sdk.backend.store import bills as bill_store

STEPS = ("insert", "pay", "announce", "repay")
LATEST = {"sqlite": "bills_merchant_notified", "postgresql": "bills_merchant_paid_created"}
"""The index on ``bills`` each dialect's latest migration adding one made (21, 23)."""


def _row(merchant: str, created: int) -> dict[str, Any]:
    return {
        "id": new_id("bill"),
        "merchant_id": merchant,
        "customer": "GCUSTOMER",
        "amount": 10_000_000,
        "currency": "USDC",
        "status": "created",
        "order_id": None,
        "description": None,
        "metadata": "{}",
        "created": created,
        "paid_at": None,
        "repaid_at": None,
        "liquidated_at": None,
        "cancelled_at": None,
        "repaid_amount": None,
        "overdue_notified": 0,
        "session_id": None,
        "contract_id": "CBENCH",
        "bill_number": None,
        "tx_hash": None,
        "ledger": None,
        "livemode": 0,
    }


def _backends_cpu(db: Database) -> float:
    """CPU seconds of every backend connected to *db*'s database (PostgreSQL)."""
    with db.transaction(write=False) as tx:
        pids = [
            int(r["pid"])
            for r in tx.fetchall(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            )
        ]
    total = 0
    for pid in pids:
        try:  # nanoseconds on a CPU (the clock-tick counts of /proc/PID/stat are too coarse)
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except OSError:
            continue
    return total / 1e9


def _cpu(db: Database) -> float:
    return _backends_cpu(db) if db.dialect == "postgresql" else time.process_time()


def _batches(db: Database, ids: list[str], batch: int, fn: Callable[[Tx, str], None]) -> None:
    for start in range(0, len(ids), batch):
        with db.transaction() as tx:
            for bill_id in ids[start : start + batch]:
                fn(tx, bill_id)


def _round(db: Database, merchant: str, t: int, bills: int, batch: int) -> dict[str, float]:
    """CPU per bill of each step, on *db*."""
    rows = [_row(merchant, t + i) for i in range(bills)]
    ids = [str(r["id"]) for r in rows]
    by_id = {str(r["id"]): r for r in rows}
    steps: dict[str, tuple[list[str], Callable[[Tx, str], None]]] = {
        "insert": (ids, lambda tx, i: bill_store.insert_bill(tx, by_id[i])),
        "pay": (ids, lambda tx, i: bill_store.update_bill(tx, i, status="paid", paid_at=t + 60)),
        "announce": (ids[::4], lambda tx, i: bill_store.update_bill(tx, i, overdue_notified=1)),
        "repay": (
            ids,
            lambda tx, i: bill_store.update_bill(
                tx, i, status="repaid", repaid_at=t + 120, repaid_amount=10_000_000
            ),
        ),
    }
    out = {}
    for name, (which, fn) in steps.items():
        before = _cpu(db)
        _batches(db, which, batch, fn)
        out[name] = (_cpu(db) - before) / len(which) * 1e6
    return out


@contextmanager
def _pair(dialect: str, index: str, then: str = "") -> Iterator[tuple[Database, Database]]:
    """(with, without) the index: two fresh databases of *dialect*, *then* run on the
    second after the drop."""
    with ExitStack() as stack:
        if dialect == "sqlite":
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ll-idx-")))
            urls = [f"sqlite:///{tmp / n}.db" for n in ("with", "without")]
        else:
            cluster = stack.enter_context(_postgres(["fsync=off", "synchronous_commit=off"]))
            urls = [_fresh_database(cluster) for _ in range(2)]
        dbs = [connect(u) for u in urls]
        for db in dbs:
            stack.callback(db.close)
            migrate(db, COMPONENT, MIGRATIONS)
        with dbs[1].transaction() as tx:
            for name in index.split(","):
                tx.execute(f"DROP INDEX {name}")
            for sql in filter(None, (t.strip() for t in then.split(";"))):
                tx.execute(sql)
        yield dbs[0], dbs[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--bills", type=int, default=2000, help="bills per round")
    p.add_argument("--batch", type=int, default=100, help="bills per transaction")
    p.add_argument("--index", help="NAME[,NAME...] (default: LATEST's, per dialect)")
    p.add_argument("--then", default="", help="statements run on the second database")
    p.add_argument("--sqlite", action="store_true")
    p.add_argument("--postgres", action="store_true")
    args = p.parse_args()
    dialects = [d for d, on in (("sqlite", args.sqlite), ("postgresql", args.postgres)) if on]
    print(f"load {os.getloadavg()[0]:.1f}; {args.bills} bills a round")
    for dialect in dialects or ["sqlite", "postgresql"]:
        index = args.index or LATEST[dialect]
        print(f"{dialect}: index {index}" + (f"; without: {args.then}" if args.then else ""))
        with _pair(dialect, index, args.then) as (with_db, without_db):
            got: dict[str, dict[str, list[float]]] = {"with": {}, "without": {}}
            for n in range(args.rounds):
                sides = [("with", with_db), ("without", without_db)]
                for label, db in sides if n % 2 == 0 else sides[::-1]:
                    t = 1_800_000_000 + n * 86_400
                    for step, us in _round(db, "mbench", t, args.bills, args.batch).items():
                        got[label].setdefault(step, []).append(us)
            for step in STEPS:
                w, wo = (statistics.median(got[s][step]) for s in ("with", "without"))
                print(
                    f"{dialect:10} {step:9} CPU us per bill: with {w:8.1f}  without {wo:8.1f}"
                    f"  with/without {w / wo:5.3f}"
                )
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
