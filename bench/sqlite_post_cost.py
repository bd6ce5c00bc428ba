"""SQLite: what one request costs the server, counted rather than timed under load.

Throughput on this shared 2-core machine moves by tens of percent with the other
agents' load; these figures barely move. Sequential requests (one at a time, so no
lock hand-offs) to the bench server of ``backend_load.py`` (a child process), after
``--history`` bills made through the API, and per request:

* **server CPU**: the scheduler's count of the server process's threads on a CPU
  (/proc/<pid>/task/*/schedstat, nanoseconds), per route: POST /v1/bills (a small
  bill, as backend_load.py sends, with a fresh uuid4 Idempotency-Key as the SDK
  sends), POST of a large bill (50 metadata keys of 500 characters and a
  500-character description: the largest the API takes), GET of either, and the
  first page of GET /v1/bills (10 and 100 bills);
* **WAL frames and bytes per POST**, and commits: each frame is one page the POST
  changed, whole, plus a 24-byte header, written and checksummed (a read snapshot
  held over the POSTs keeps the WAL from restarting, so their frames lie in a row);
  ``--pages`` also names the tables and indexes those pages belong to;
* **statements per POST and SQLite's own CPU per POST** (``--replay`` POSTs
  recorded by an in-process server, then run again alone on a copy of the
  database): the rest of the server's CPU is the Python around it.

``--page-size N`` makes the database file with that page size before the server
opens it (as a new database would get it); ``--against DIR`` alternates, round by
round and which side first, with a server imported from another checkout and prints
this/baseline ratios (``--baseline-page-size`` for its file). Commits are as the
server makes them: WAL, synchronous=NORMAL (durable when the process dies, not on
power loss).

    python bench/sqlite_post_cost.py [--rounds 3] [--against DIR] [--page-size 1024] [--pages]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import pickle
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from backend_load import _server

from lumenlater_sdk.backend.db._checkpoint import AUTOCHECKPOINT_PAGES

BIG_METADATA = {f"key_{i:02d}": chr(ord("a") + i % 26) * 500 for i in range(50)}
WAL_HEADER = 32
FRAME_HEADER = 24

# Run with the side's PYTHONPATH: the statements of *n* POSTs (after as many made
# first), with their parameters, and a copy of the database from before them.
_RECORD = """
import pickle, sqlite3, sys, uuid
import httpx
from lumenlater_sdk.backend.db import _sqlite
from lumenlater_sdk.backend.testing import run_sandbox

n, out, page_size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
log, recording = [], False

class Recorded:
    def __init__(self, conn):
        object.__setattr__(self, "_conn", conn)
    def execute(self, sql, params=()):
        if recording:
            log.append((sql, tuple(params)))
        return self._conn.execute(sql, params)
    def __getattr__(self, name):
        return getattr(self._conn, name)
    def __setattr__(self, name, value):
        setattr(self._conn, name, value)

opened = _sqlite.SQLiteDatabase._open
_sqlite.SQLiteDatabase._open = lambda self: Recorded(opened(self))
live = f"{out}/live.db"
if page_size:
    with sqlite3.connect(live) as conn:
        conn.execute(f"PRAGMA page_size={page_size}")
        conn.execute("CREATE TABLE page_size_set (x)")
        conn.execute("DROP TABLE page_size_set")
with run_sandbox(f"sqlite:///{live}", run_delivery=False, tick_interval=3600) as sb:
    c = httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.secret_key}"})
    body = {"customer": sb.backend.genesis.wallets["approve"].public_key, "amount": 10_000_000}
    post = lambda: c.post("/v1/bills", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    for _ in range(n):
        post().raise_for_status()
    src, dst = sqlite3.connect(live), sqlite3.connect(f"{out}/start.db")
    src.backup(dst)
    src.close()
    dst.close()
    recording = True
    for _ in range(n):
        post().raise_for_status()
    recording = False
with open(f"{out}/log.pkl", "wb") as f:
    pickle.dump(log, f)
"""


def _cpu(pid: int) -> dict[str, int]:
    """Nanoseconds on a CPU of each of process *pid*'s threads (the scheduler's own
    count; user + system time moves in 10 ms ticks)."""
    out: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread ended
            out[task.name] = int((task / "schedstat").read_text().split()[0])
    return out


def _cpu_since(pid: int, before: dict[str, int]) -> float:
    """Seconds on a CPU of *pid*'s threads since *before* (:func:`_cpu`), thread by
    thread: an idle worker thread that ends meanwhile (anyio ends those idle for 10 s)
    takes its count with it, and must not be subtracted as if it had run backwards."""
    now = _cpu(pid)
    return sum(ns - before.get(tid, 0) for tid, ns in now.items()) / 1e9


def _server_process() -> int:
    """The bench server child's pid (read from /proc: no third-party dependency)."""
    me = str(os.getpid())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            ppid = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if ppid == me and any(b"bench_server.py" in part for part in cmdline):
                return int(proc.name)
    raise RuntimeError("no bench server child")


def _frames_written(
    db: Path, wal: Path, page_size: int, call: Callable[[], httpx.Response], count: int
) -> list[tuple[int, bool]]:
    """The WAL frames *count* calls wrote. The WAL is emptied first (TRUNCATE, the
    server being idle between sequential requests); then one call commits and a read
    snapshot taken at once keeps the WAL from restarting, so the calls' frames are
    appended after it (the log size ``PRAGMA wal_checkpoint`` reports). Should the
    server's checkpointer have copied that commit before the snapshot took hold, the
    WAL may restart under it and its salt changes: then it tries again."""
    probe = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        for _ in range(5):
            probe.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            call().raise_for_status()
            reader = sqlite3.connect(db, isolation_level=None)
            try:
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
                with wal.open("rb") as f:
                    salt = f.read(24)[16:24]
                before = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
                for _ in range(count):
                    call().raise_for_status()
                after = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
            finally:
                reader.close()
            with wal.open("rb") as f:
                if f.read(24)[16:24] != salt or min(before, after) < 0:
                    continue  # restarted, or a checkpoint could not say (-1)
                size = page_size + FRAME_HEADER
                f.seek(WAL_HEADER + before * size)
                data = f.read((after - before) * size)
            return [
                (int.from_bytes(data[o : o + 4], "big"), data[o + 4 : o + 8] != bytes(4))
                for o in range(0, len(data), size)
            ]
    finally:
        probe.close()
    raise RuntimeError("the WAL restarted under every snapshot")


def _owners(db: Path) -> dict[int, str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {p: n for n, p in conn.execute("SELECT name, pageno FROM dbstat")}


def _measure(
    db: Path, label: str, server_path: str | None, args: argparse.Namespace
) -> dict[str, float]:
    out: dict[str, float] = {}
    with _server(f"sqlite:///{db}", 1, server_path) as (base, creds):
        proc = _server_process()
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {creds['key']}"}, timeout=30
        )
        small = {"customer": creds["customer"], "amount": 10_000_000}
        big = {**small, "metadata": BIG_METADATA, "description": "d" * 500}

        def post(body: dict[str, object]) -> Callable[[], httpx.Response]:
            return lambda: client.post(
                "/v1/bills", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )

        for _ in range(args.history):
            post(small)().raise_for_status()
        small_id = post(small)().json()["id"]
        big_id = post(big)().json()["id"]
        with contextlib.closing(sqlite3.connect(db)) as conn:
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        out["page size"] = page_size

        def cpu_per(name: str, call: Callable[[], httpx.Response], n: int) -> None:
            for _ in range(max(5, n // 10)):  # warm: caches, the first of each shape
                call().raise_for_status()
            before = _cpu(proc)
            for _ in range(n):
                call().raise_for_status()
            out[f"{name} CPU us"] = _cpu_since(proc, before) / n * 1e6

        n = args.requests
        cpu_per("POST", post(small), n)
        cpu_per("GET", lambda: client.get(f"/v1/bills/{small_id}"), n)
        # Before the large POSTs: the newest 100 bills are small ones.
        cpu_per("list 10", lambda: client.get("/v1/bills?limit=10"), n // 2)
        cpu_per("list 100", lambda: client.get("/v1/bills?limit=100"), n // 5)
        cpu_per("POST large", post(big), n // 3)
        cpu_per("GET large", lambda: client.get(f"/v1/bills/{big_id}"), n)

        wal = Path(f"{db}-wal")
        pages: collections.Counter[str] = collections.Counter()
        for name, body, count in (("POST", small, n), ("POST large", big, n // 3)):
            frames = _frames_written(db, wal, page_size, post(body), count)
            out[f"{name} WAL frames"] = len(frames) / count
            out[f"{name} WAL KiB"] = len(frames) * (page_size + FRAME_HEADER) / count / 1024
            out[f"{name} commits"] = sum(c for _, c in frames) / count
            if name == "POST" and args.pages:
                owners = _owners(db)
                pages.update(owners.get(p, "(freed since)") for p, _ in frames)
        for table, k in pages.most_common():
            print(f"{label:16}   pages per POST {k / n:5.2f} {table}", flush=True)
    return out


def _sqlite_alone(server_path: str | None, page_size: int | None, n: int) -> dict[str, float]:
    """Statements per POST, and SQLite's own CPU per POST: the statements of *n* POSTs
    recorded (with their parameters) by an in-process server of the side, then run
    again here, alone, on a copy of the database from before them, with the server's
    settings and a PASSIVE checkpoint every 64 commits as its checkpointer makes
    (the median of three runs). What is left of the server's CPU is Python's."""
    env = dict(os.environ)
    if server_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [server_path, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="ll-replay-") as tmp:
        done = subprocess.run(
            [sys.executable, "-c", _RECORD, str(n), tmp, str(page_size or 0)],
            env=env,
            cwd=tmp,  # nothing there shadows the side's imports
            capture_output=True,
        )
        if done.returncode:
            sys.exit(f"recording the statements failed: {done.stderr.decode(errors='replace')}")
        with open(f"{tmp}/log.pkl", "rb") as f:
            log: list[tuple[str, tuple[object, ...]]] = pickle.load(f)
        cpu = []
        for run in range(3):
            copy = f"{tmp}/replay{run}.db"
            shutil.copy(f"{tmp}/start.db", copy)
            cpu.append(_replay(copy, log) / n * 1e6)
    return {"statements per POST": len(log) / n, "SQLite alone CPU us": statistics.median(cpu)}


def _replay(path: str, log: list[tuple[str, tuple[object, ...]]]) -> float:
    """Seconds of this process's CPU that running *log* on *path* takes."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        commits = 0
        start = time.process_time()
        for sql, params in log:
            conn.execute(sql, params).fetchall()
            if sql == "COMMIT":
                commits += 1
                if commits % 64 == 0:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return time.process_time() - start
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--history", type=int, default=2000, help="bills made first")
    parser.add_argument("--requests", type=int, default=600, help="per measurement")
    parser.add_argument("--page-size", type=int, help="page size of the new database file")
    parser.add_argument(
        "--replay", type=int, default=300, help="POSTs recorded and replayed for SQLite alone"
    )
    parser.add_argument("--pages", action="store_true", help="pages per POST by table/index")
    parser.add_argument("--against", metavar="DIR", help="baseline checkout to alternate with")
    parser.add_argument(
        "--baseline-page-size", type=int, help="--page-size of the baseline's database"
    )
    args = parser.parse_args()
    print(
        "Commits: SQLite in WAL mode with synchronous=NORMAL, as the server sets it"
        " (a commit survives the process dying, not a power cut). Sequential requests;"
        f" {args.history} bills made first.",
        flush=True,
    )
    sides = [("this", None)] + ([("baseline", args.against)] if args.against else [])
    runs: dict[str, list[dict[str, float]]] = {side: [] for side, _ in sides}
    for round_ in range(args.rounds):
        # Which side goes first alternates: the second of a pair runs on a warmer machine.
        for side, path in sides[:: 1 if round_ % 2 == 0 else -1]:
            with tempfile.TemporaryDirectory(prefix="ll-cost-") as tmp:
                db = Path(tmp) / "bench.db"
                page_size = args.baseline_page_size if side == "baseline" else args.page_size
                if page_size:
                    with contextlib.closing(sqlite3.connect(db)) as conn:
                        conn.execute(f"PRAGMA page_size={page_size}")
                        conn.execute("CREATE TABLE page_size_set (x)")
                        conn.execute("DROP TABLE page_size_set")
                found = _measure(db, side, path, args)
            found.update(_sqlite_alone(path, page_size, args.replay))
            runs[side].append(found)
            print(
                f"{side:16} " + "  ".join(f"{k} {v:.1f}" for k, v in found.items()),
                flush=True,
            )
    for metric in runs["this"][0]:
        med = {s: statistics.median(r[metric] for r in rs) for s, rs in runs.items()}
        line = f"median {metric:22} this {med['this']:9.1f}"
        if "baseline" in med:
            ratio = med["this"] / med["baseline"] if med["baseline"] else float("nan")
            line += f"  baseline {med['baseline']:9.1f}  ratio {ratio:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
