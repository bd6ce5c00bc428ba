"""Ledger export at a million lines (issue 17): rows/s end to end, server and client memory.

    python bench/export.py [--real 100000] [--lines 1000000] [--repeat 3]
        [--no-sqlite] [--no-postgres] [--pg-option fsync=on]

For each database (SQLite in a temp file; PostgreSQL on a throwaway cluster started as
``backend_load.py`` starts one):

1. ``--real`` ledger lines are made through the real services: bills issued and paid
   through the chain gateway (``issue_bill`` + ``pay_with_wallet`` as the sandbox
   ``approve`` wallet), 500 per transaction, as a payment makes them. About 200 bills/s
   here, so a million real ones would take well over an hour: the lines are then
   copied (fresh ``txn_`` ids, the real lines' values) up to ``--lines``, and both
   sizes are measured.
2. The backend serves in a child process (uvicorn, one worker, as ``backend_load.py``).
   Per format (csv, json) and size, ``--repeat`` rounds of:

   * **db bare**: the same rows read by a bare keyset ``SELECT`` loop in this process
     (batches of 2000, nothing formatted): the database's own floor;
   * **httpx raw**: the export streamed by bare ``httpx`` to a file: the HTTP floor;
   * **sdk**: ``client.analytics.export(fmt, path=..., on_progress=...)`` in a child
     process, which samples its own RSS while it writes.

   While each export streams, the server's RSS is sampled every 10 ms (psutil); its
   rise above the RSS it had idle just before is printed, with the client's rise.

Goals: sdk >= 50,000 rows/s for 1,000,000 lines, CSV and JSON, both databases; server
RSS < 100 MB above idle while streaming; client RSS flat (no growth with the export's
size); the progress callback called. Each row says whether the goal held in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _served import served
from backend_load import _fresh_database, _postgres, pg_commits, pg_option_arguments

GOAL_ROWS_S = 50_000
GOAL_SERVER_MB = 100
SEALING_KEY = "37b57c67167265caf6e98d1f6e5210d22607278218242ab4bbc8ad88c21a348e"
_PER_TX = 500
_PAD_PER_STATEMENT = 1000
_MB = 1024 * 1024


def _config(db_url: str) -> Any:
    """The seeding backend's config (the served one is bench/_served.py's, same settings)."""
    from lumenlater_sdk.backend.config import BackendConfig

    return BackendConfig(
        database_url=db_url,
        secret_key=SEALING_KEY,
        rate_limit=False,
        log_requests=False,
        run_delivery=False,
        tick_interval=3600,
    )


def seed_real(db_url: str, n: int) -> tuple[str, str]:
    """A merchant with *n* payment lines made by the services; (merchant id, secret key)."""
    from lumenlater_sdk.backend.app import create_app
    from lumenlater_sdk.backend.services.bills import NewBill, issue_bill
    from lumenlater_sdk.backend.services.wallets import pay_with_wallet, resolve_wallet

    app = create_app(_config(db_url))
    backend = app.backend
    try:
        ctx = backend.ctx
        creds = backend.create_merchant("Export Bench")
        merchant = creds.merchant_id
        with ctx.db.transaction(write=False) as tx:
            wallet = resolve_wallet(tx, merchant, "approve")
        t0 = time.perf_counter()
        for start in range(0, n, _PER_TX):
            with ctx.db.transaction() as tx:
                for i in range(start, min(n, start + _PER_TX)):
                    new = NewBill(customer=wallet["address"], amount=1_000_000 + i)
                    bill = issue_bill(ctx, tx, merchant, new, None)
                    pay_with_wallet(ctx, tx, bill, wallet, None)
            if start and start % 20_000 == 0:
                print(f"    seeded {start:,} real lines", flush=True)
        took = time.perf_counter() - t0
        print(f"    {n:,} real lines in {took:.0f} s ({n / took:,.0f} bills paid/s)", flush=True)
        return merchant, creds.secret_key
    finally:
        backend.close()


def pad(db_url: str, merchant: str, total: int) -> None:
    """Copies of the merchant's lines (fresh ids, same values) until it has *total*."""
    from lumenlater_sdk.backend._ids import new_id
    from lumenlater_sdk.backend.db import connect

    db = connect(db_url)
    try:
        with db.reads() as tx:
            real = tx.fetchall(
                "SELECT type, bill_id, amount, fee, net, created, tx_hash FROM ledger_lines"
                " WHERE merchant_id = ? ORDER BY id",
                (merchant,),
            )
        have = len(real)
        t0 = time.perf_counter()
        marks = "(" + ", ".join("?" * 9) + ")"
        while have < total:
            with db.transaction() as tx:
                for _ in range(20):
                    k = min(_PAD_PER_STATEMENT, total - have)
                    if k <= 0:
                        break
                    values: list[Any] = []
                    for j in range(have, have + k):
                        r = real[j % len(real)]
                        values += [new_id("txn"), merchant, *r.values()]
                    tx.execute(
                        "INSERT INTO ledger_lines (id, merchant_id, type, bill_id, amount, fee,"
                        " net, created, tx_hash) VALUES " + ", ".join([marks] * k),
                        values,
                    )
                    have += k
        if db.dialect == "postgresql":
            with db.transaction() as tx:
                tx.execute("ANALYZE ledger_lines")
        print(f"    copied up to {total:,} lines in {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        db.close()


@contextmanager
def server(db_url: str) -> Iterator[tuple[str, psutil.Process]]:
    """The backend in a child process on *db_url*: (base url, its process)."""
    with served(db_url, SEALING_KEY, tick_interval=3600) as srv:
        yield srv.base, psutil.Process(srv.pid)


class Sampler:
    """The peak RSS of a process, sampled every 10 ms on a thread, above its RSS at start."""

    def __init__(self, process: psutil.Process) -> None:
        self._process = process
        self.start = process.memory_info().rss
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def stop(self) -> float:
        """Stop; the peak's rise above the start, in MB."""
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
        return (self.peak - self.start) / _MB


def db_bare(db_url: str, merchant: str) -> tuple[int, float]:
    """Every line of *merchant* read by a keyset SELECT loop: (rows, seconds)."""
    from lumenlater_sdk.backend.db import connect

    db = connect(db_url)
    try:
        sql = (
            "SELECT id, type, bill_id, amount, fee, net, created, tx_hash FROM ledger_lines"
            " WHERE merchant_id = ? AND id > ? ORDER BY id LIMIT 2000"
        )
        n, after = 0, ""
        t0 = time.perf_counter()
        while True:
            with db.reads() as tx:
                rows = tx.fetchall(sql, (merchant, after))
            n += len(rows)
            if len(rows) < 2000:
                return n, time.perf_counter() - t0
            after = rows[-1]["id"]
    finally:
        db.close()


def httpx_raw(base: str, key: str, fmt: str, path: str) -> float:
    """The export streamed by bare httpx to *path*: seconds."""
    with httpx.Client(base_url=base, timeout=600) as c:
        c.get("/healthz")  # connected before the clock starts, as the SDK child is
        t0 = time.perf_counter()
        with (
            c.stream(
                "GET",
                "/v1/analytics/export",
                params={"format": fmt},
                headers={"Authorization": f"Bearer {key}"},
            ) as r,
            open(path, "wb") as f,
        ):
            r.raise_for_status()
            for chunk in r.iter_raw():
                f.write(chunk)
        return time.perf_counter() - t0


def sdk_child(base: str, key: str, fmt: str, path: str) -> dict[str, Any]:
    """``analytics.export(path=..., on_progress=...)`` in this process, with its RSS."""
    from lumenlater_sdk import LumenLater

    me = psutil.Process()
    calls = [0]

    def progress(done: int) -> None:
        calls[0] += 1

    with LumenLater(api_key=key, base_url=base, timeout=600) as client:
        client.analytics.metrics()  # connection and imports warm before the sample starts
        sampler = Sampler(me)
        t0 = time.perf_counter()
        client.analytics.export(fmt, path=path, on_progress=progress)
        took = time.perf_counter() - t0
        rise = sampler.stop()
    return {"seconds": took, "rss_rise_mb": rise, "progress_calls": calls[0]}


def run_sdk(base: str, key: str, fmt: str, path: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--sdk-child", base, key, fmt, path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _rows_in(path: str, fmt: str) -> int:
    if fmt == "csv":
        with open(path, "rb") as f:
            return sum(1 for _ in f) - 1
    with open(path, "rb") as f:
        return len(json.load(f))


def measure(db_url: str, merchant: str, key: str, lines: int, repeat: int, tmp: Path) -> list[str]:
    """Every figure for one size on one database, as printed lines."""
    out = []
    with server(db_url) as (base, proc):
        path = str(tmp / "export.out")
        for fmt in ("csv", "json"):
            runs: dict[str, list[float]] = {"db": [], "httpx": [], "sdk": []}
            srv_mb: list[float] = []
            cli_mb: list[float] = []
            calls = 0
            for _ in range(repeat):
                n, took = db_bare(db_url, merchant)
                assert n == lines, (n, lines)
                runs["db"].append(n / took)
                runs["httpx"].append(lines / httpx_raw(base, key, fmt, path))
                assert _rows_in(path, fmt) == lines
                sampler = Sampler(proc)
                sdk = run_sdk(base, key, fmt, path)
                srv_mb.append(sampler.stop())
                assert _rows_in(path, fmt) == lines
                runs["sdk"].append(lines / sdk["seconds"])
                cli_mb.append(sdk["rss_rise_mb"])
                calls = sdk["progress_calls"]
            size = os.path.getsize(path) / _MB
            med = {k: statistics.median(v) for k, v in runs.items()}
            held = med["sdk"] >= GOAL_ROWS_S and max(srv_mb) < GOAL_SERVER_MB and calls > 0
            verdict = ("held" if held else "MISSED") if lines >= 1_000_000 else "at 1M lines"
            out.append(
                f"  {lines:>9,} lines {fmt:4} ({size:5.0f} MB): sdk {med['sdk']:8,.0f} rows/s"
                f" (x{med['sdk'] / GOAL_ROWS_S:.2f} of goal) | httpx raw {med['httpx']:8,.0f}"
                f" (sdk/httpx {med['sdk'] / med['httpx']:.2f}) | db bare {med['db']:9,.0f}"
                f" (sdk/db {med['sdk'] / med['db']:.2f}) | server RSS +{max(srv_mb):5.1f} MB,"
                f" client RSS +{max(cli_mb):5.1f} MB, {calls:,} progress calls"
                f" | goal {verdict}"
                f"   [sdk {', '.join(f'{x:,.0f}' for x in runs['sdk'])}]"
            )
            print(out[-1], flush=True)
            os.unlink(path)
    return out


def bench(db_url: str, label: str, args: argparse.Namespace) -> list[str]:
    print(f"{label}:", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="ll-export-"))
    try:
        merchant, key = seed_real(db_url, args.real)
        lines = [f"{label}:"]
        lines += measure(db_url, merchant, key, args.real, args.repeat, tmp)
        if args.lines > args.real:
            pad(db_url, merchant, args.lines)
            lines += measure(db_url, merchant, key, args.lines, args.repeat, tmp)
        return lines
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], parents=[pg_option_arguments([])]
    )
    parser.add_argument("--real", type=int, default=100_000, help="lines made by the services")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in all (copies)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--sdk-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sdk_child:
        print(json.dumps(sdk_child(*args.sdk_child)))
        return
    print(f"{os.cpu_count()} CPUs; {args.real:,} real lines, then {args.lines:,}", flush=True)
    report: list[str] = []
    if not args.no_sqlite:
        tmp = tempfile.mkdtemp(prefix="ll-export-db-")
        try:
            report += bench(f"sqlite:///{tmp}/export.db", "sqlite", args)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not args.no_postgres:
        print(f"PostgreSQL: {pg_commits(args.pg_option)}", flush=True)
    pg = nullcontext(None) if args.no_postgres else _postgres(args.pg_option)
    with pg as pg_url:
        if pg_url:
            report += bench(_fresh_database(pg_url), "postgresql", args)
    print("\n".join(["", "summary:", *report]))


if __name__ == "__main__":
    main()
