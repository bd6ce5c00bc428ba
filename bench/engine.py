"""Throughput of the local contract engine on SQLite, against the same SQL run bare.

Like with like: each round sets up a ledger (genesis, one approved merchant), copies
the database file, then runs full bill lives (create_bill + pay_bill_bnpl +
repay_bill) for ``--duration`` seconds while recording every statement the engine
sends, transaction by transaction. The baseline replays exactly those statements,
with the same parameters, in the same transactions (``BEGIN IMMEDIATE`` or ``BEGIN``
as the engine opened them) on the copy, through the same database layer. What is
left between the two is the engine's own work: contract logic, encoding, caches.
(The recording is one list append per statement; it is counted on the engine's side.)

    python bench/engine.py [--duration 5] [--rounds 3]

Prints each round, the median over rounds, and the engine's cost as a multiple of
the bare SQL (no goal is set for it in issue 16; it is a regression guard).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stellar_sdk import Keypair

from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.chain.local import USDC_UNIT, LocalGateway
from lumenlater_sdk.backend.db import _sqlite, connect

# (begin statement, [(method, sql, params), ...]) per transaction, in order.
Recorded = list[tuple[str, list[tuple[str, str, tuple[Any, ...]]]]]


@contextmanager
def recording() -> Iterator[Recorded]:
    """Record every transaction the SQLite layer runs while the block is open."""
    log: Recorded = []
    tx_cls = _sqlite._SQLiteTx
    db_cls = _sqlite.SQLiteDatabase
    saved = {name: getattr(tx_cls, name) for name in ("execute", "fetchall", "iterate")}
    saved_run = db_cls._run

    def wrap(name: str) -> Any:
        original = saved[name]

        def recorded(self: Any, sql: str, params: Sequence[Any] = (), **kw: Any) -> Any:
            log[-1][1].append((name, sql, tuple(params)))
            return original(self, sql, params, **kw)

        return recorded

    @contextmanager
    def run(self: Any, conn: sqlite3.Connection, begin: str) -> Iterator[Any]:
        log.append((begin, []))
        with saved_run(self, conn, begin) as tx:
            yield tx

    for name in saved:
        setattr(tx_cls, name, wrap(name))
    db_cls._run = run  # type: ignore[method-assign]
    try:
        yield log
    finally:
        for name, fn in saved.items():
            setattr(tx_cls, name, fn)
        db_cls._run = saved_run  # type: ignore[method-assign]


def setup(path: Path) -> tuple[Any, LocalGateway, Keypair, Keypair]:
    db = connect(f"sqlite:///{path}")
    gw = LocalGateway(db, sealer=SecretBox(os.urandom(32)))
    g = gw.genesis()
    merchant = Keypair.random()
    gw.enroll_and_approve_merchant(merchant, "bench")
    user = g.wallets["approve"]
    # repay_bill pulls with USDC transfer_from (as deployed): one allowance for the run,
    # so each bill life stays three ledger transactions.
    spender = gw.contract_id("bnpl_core")
    gw.invoke("usdc", "approve", [user.public_key, spender, 10**18, 2**31 - 1], signer=user)
    return db, gw, merchant, user


def copy(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL database (the backup API reads the WAL too)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def engine_run(
    gw: LocalGateway, merchant: Keypair, user: Keypair, duration: float
) -> tuple[int, float]:
    """(cycles, seconds) of bill lives for about *duration* seconds."""
    # A cent a bill: the wallet repays from its own balance, which must last the run.
    args = [merchant.public_key, user.public_key, USDC_UNIT // 100, "bench"]
    cycles = 0
    start = time.perf_counter()
    while True:
        bill_id = gw.invoke("bnpl_core", "create_bill", args, signer=merchant).result
        gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)
        cycles += 1
        elapsed = time.perf_counter() - start
        if elapsed >= duration:
            return cycles, elapsed


def replay(path: Path, log: Recorded) -> float:
    """Seconds to run the recorded transactions on *path* through the same layer."""
    with connect(f"sqlite:///{path}") as db:
        start = time.perf_counter()
        for begin, statements in log:
            with db.transaction(write=begin != "BEGIN") as tx:
                for method, sql, params in statements:
                    if method == "execute":
                        tx.execute(sql, params)
                    elif method == "fetchall":
                        tx.fetchall(sql, params)
                    else:
                        for _ in tx.iterate(sql, params):
                            pass
        return time.perf_counter() - start


def one_round(duration: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ll-bench-") as tmp:
        engine_db, bare_db = Path(tmp) / "engine.db", Path(tmp) / "bare.db"
        db, gw, merchant, user = setup(engine_db)
        try:
            copy(engine_db, bare_db)
            with recording() as log:
                cycles, engine_s = engine_run(gw, merchant, user, duration)
        finally:
            db.close()
        bare_s = replay(bare_db, log)
    statements = sum(len(s) for _, s in log)
    return {
        "cycles": cycles,
        "transactions": len(log),
        "statements": statements,
        "engine_cps": cycles / engine_s,
        "bare_cps": cycles / bare_s,
        "ratio": engine_s / bare_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of engine per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = []
    for i in range(args.rounds):
        r = one_round(args.duration)
        results.append(r)
        print(
            f"round {i + 1}: {r['cycles']:.0f} cycles, {r['transactions'] / r['cycles']:.1f} "
            f"transactions and {r['statements'] / r['cycles']:.1f} statements per cycle; "
            f"engine {r['engine_cps']:.1f} cycles/s, same SQL bare {r['bare_cps']:.1f} cycles/s "
            f"= engine costs {r['ratio']:.2f}x its SQL"
        )
    med = {k: statistics.median(r[k] for r in results) for k in ("engine_cps", "bare_cps", "ratio")}
    spread = max(r["ratio"] for r in results) - min(r["ratio"] for r in results)
    print(
        f"median of {args.rounds} rounds of {args.duration:g} s: engine {med['engine_cps']:.1f} "
        f"create+pay+repay cycles/s, the same SQL bare {med['bare_cps']:.1f} cycles/s; the "
        f"engine costs {med['ratio']:.2f}x the SQL it sends (spread {spread:.2f} between rounds)"
    )


if __name__ == "__main__":
    main()
