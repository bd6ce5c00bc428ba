"""Throughput of the local contract engine on SQLite, against a bare-SQLite baseline.

Measures full bill lives (create_bill + pay_bill_bnpl + repay_bill: three ledger
transactions each) per second on a SQLite file in a temporary directory, and in
the same run the same number of bare SQLite write transactions (BEGIN IMMEDIATE,
one UPDATE, COMMIT) through the same database layer, then prints the ratio.

    python3 bench/engine.py [cycles]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from stellar_sdk import Keypair

from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.chain.local import USDC_UNIT, LocalGateway
from lumenlater_sdk.backend.db import connect


def bill_cycles(path: Path, cycles: int) -> float:
    """Seconds for *cycles* create + pay + repay lives."""
    with connect(f"sqlite:///{path}") as db:
        gw = LocalGateway(db, sealer=SecretBox(os.urandom(32)))
        g = gw.genesis()
        merchant = Keypair.random()
        gw.enroll_and_approve_merchant(merchant, "bench")
        user = g.wallets["approve"]
        args = [merchant.public_key, user.public_key, 25 * USDC_UNIT, "bench"]
        start = time.perf_counter()
        for _ in range(cycles):
            bill_id = gw.invoke("bnpl_core", "create_bill", args, signer=merchant).result
            gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)
            gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)
        return time.perf_counter() - start


def bare_transactions(path: Path, count: int) -> float:
    """Seconds for *count* one-row write transactions."""
    with connect(f"sqlite:///{path}") as db:
        with db.transaction() as tx:
            tx.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)")
            tx.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
        start = time.perf_counter()
        for _ in range(count):
            with db.transaction() as tx:
                tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
        return time.perf_counter() - start


def main() -> None:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory(prefix="ll-bench-") as tmp:
        engine_s = bill_cycles(Path(tmp) / "engine.db", cycles)
        # Same number of database transactions as the engine committed (3 per cycle).
        bare_s = bare_transactions(Path(tmp) / "bare.db", 3 * cycles)
    engine_rate = cycles / engine_s
    bare_rate = cycles / bare_s  # "cycles" of 3 bare transactions
    print(f"cycles: {cycles} (3 ledger transactions each)")
    print(f"engine: {engine_rate:8.1f} create+pay+repay cycles/s ({engine_s:.2f} s)")
    print(f"bare:   {bare_rate:8.1f} cycles/s of 3 bare SQLite write transactions ({bare_s:.2f} s)")
    print(f"ratio:  engine is {bare_rate / engine_rate:.1f}x slower than bare transactions")


if __name__ == "__main__":
    main()
