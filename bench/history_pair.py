"""POST /v1/bills and the pay/repay cycle on kept histories of different sizes, in
alternating rounds, with what each request costs SQLite: statements, page-cache misses,
read system calls.

``bench/history.py measure`` measures one database after another, so a neighbour's
load that comes and goes lands on one size and not the other. Here a server per
database (each ``--server``, bench/_served.py's child process) runs at once, and each
round times ``--per-round`` POSTs and cycles on every server in turn, the order
rotated from round to round. Between blocks (untimed) the bench reads, from inside
each server, how many statements its SQLite connections ran (a trace callback, only
with ``--count``: it costs a little time per statement), their page-cache hits and
misses (``sqlite3_db_status``, through ctypes: Python's sqlite3 does not expose it)
and the server's read system calls (``/proc/PID/io``); per request, they tell whether
time grows because more pages come from outside SQLite's cache.

A server may get extra pragmas for its connections (``NAME:PATH:PRAGMA,PRAGMA``):
``h100k:/d/h100k.db:cache_size=-2000`` runs the file with SQLite's default cache, and
``old:/d/h100k.db::/work/main`` with the backend of another checkout (a baseline).
The runs write to the databases (a bill per POST, one per cycle): measure copies.
A server may be a PostgreSQL database instead (``NAME:postgresql://...``, the kept
databases of ``bench/history.py cluster``, ``NAME:postgresql://...::CHECKOUT`` with
another checkout's backend): its SQLite counters read zero, and the server's CPU and
wall times are what it reports.

    python bench/history_pair.py --server 10k:/data/h10k.db --server 100k:/data/h100k.db \
        [--rounds 10] [--per-round 30] [--count]
    python bench/history_pair.py --server 10k:postgresql://postgres@127.0.0.1:5432/h10000 \
        --server 1M:postgresql://postgres@127.0.0.1:5432/hist
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx
from _history_measure import _cycle, _pct, _post_bill
from _served import child_server
from history import SEALING_KEY, _kept_shop

from lumenlater_sdk._ports import free_port
from lumenlater_sdk.backend import BackendConfig
from lumenlater_sdk.backend.app import Backend

STATS = "/__bench__/sqlite"
_QUIET: dict[str, Any] = {"stdout": subprocess.DEVNULL}


def _callgrind_out(prefix: str) -> list[str]:
    return [f"--callgrind-out-file={prefix}.%p"]


COUNTERS = (
    *("statements", "hit", "miss", "write", "syscr", "rchar", "syscw", "cpu_us"),
    *("disk_read", "disk_write", "waits", "checkpoint_cpu_us"),
)
"""What the server's stats route answers that add up over requests."""

# The backend with its SQLite connections watched: extra pragmas, a statement counter
# (with BENCH_COUNT), and a route answering their cache counters and the process's reads.
_SERVER = """
import collections, ctypes, itertools, json, os, re, threading, time
import uvicorn
from lumenlater_sdk.backend import BackendConfig, create_app
from lumenlater_sdk.backend.db import _sqlite

PRAGMAS = [p for p in os.environ.get("BENCH_PRAGMAS", "").split(",") if p]
COUNT = os.environ.get("BENCH_COUNT", "0") != "0"
BY_STATEMENT = os.environ.get("BENCH_COUNT") == "2"
lib = ctypes.CDLL("libsqlite3.so.0")  # the library _sqlite3 is linked to: already loaded
lib.sqlite3_db_status.argtypes = [ctypes.c_void_p, ctypes.c_int] + [
    ctypes.POINTER(ctypes.c_int)] * 2 + [ctypes.c_int]
lib.sqlite3_db_filename.restype = ctypes.c_char_p
lib.sqlite3_db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
HIT, MISS, WRITE = 7, 8, 9  # SQLITE_DBSTATUS_CACHE_*
conns = []
statements = itertools.count()
opened = _sqlite.SQLiteDatabase._open


def handle(conn):
    # CPython 3.11's connection object: PyObject_HEAD, then the sqlite3 pointer.
    db = ctypes.c_void_p.from_address(id(conn) + 16).value
    name = lib.sqlite3_db_filename(db, b"main").decode()
    assert os.path.samefile(name, conn.execute("PRAGMA database_list").fetchone()["file"])
    return db


def _open(self, **options):
    conn = opened(self, **options)
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    db = handle(conn)
    if BY_STATEMENT:
        conn.set_trace_callback(Attributed(db))
    elif COUNT:
        conn.set_trace_callback(lambda _sql: next(statements))
    conns.append((conn, db))
    return conn


LITERAL = re.compile(r"'(?:[^']|'')*'|\\b\\d+\\b")
misses = collections.Counter()
cpu_us = collections.Counter()


class Attributed:
    # Counts statements, and charges each the misses until its connection's next one
    # (its rows are fetched before that), by its text with the literals taken out.

    # And the thread's CPU time till then (the Python after it too: after a COMMIT, all
    # until the connection's next statement, the next request's parsing included).
    def __init__(self, db):
        self.db, self.sql, self.miss, self.cpu = db, None, 0, 0.0

    def __call__(self, sql):
        next(statements)
        now, cpu = status(self.db, MISS), time.thread_time()
        if self.sql is not None:
            misses[self.sql] += now - self.miss
            cpu_us[self.sql] += int((cpu - self.cpu) * 1e6)
        self.sql, self.miss, self.cpu = LITERAL.sub("?", sql)[:160], now, cpu


_sqlite.SQLiteDatabase._open = _open


def status(db, op):
    cur, hi = ctypes.c_int(), ctypes.c_int()
    lib.sqlite3_db_status(db, op, ctypes.byref(cur), ctypes.byref(hi), 0)
    return cur.value


def waits():
    # Voluntary context switches of every thread: a wait on a lock, the disk, a socket.
    total = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/status") as f:
                total += int(next(x for x in f if x.startswith("voluntary_")).split()[1])
        except (OSError, StopIteration):
            pass
    return total


def thread_cpu_us(name):
    # The CPU of this process's threads called *name* (the WAL checkpointer's).
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for t in threading.enumerate():
        if t.name == name and t.native_id is not None:
            try:
                with open(f"/proc/self/task/{t.native_id}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) * 1_000_000 // tick
            except OSError:
                pass
    return total


def stats(pragmas):
    io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
    cpu = os.times()
    out = {"connections": len(conns), "syscr": int(io["syscr"]), "rchar": int(io["rchar"]),
           "cpu_us": int((cpu.user + cpu.system) * 1e6),
           "syscw": int(io["syscw"]), "disk_read": int(io["read_bytes"]),
           "disk_write": int(io["write_bytes"]), "waits": waits(),
           "checkpoint_cpu_us": thread_cpu_us("sqlite-checkpoint"),
           "per_connection": [status(db, HIT) + status(db, MISS) for _, db in conns],
           "statements": next(statements) if COUNT else 0}
    out["by_statement"] = {k: [v, cpu_us[k]] for k, v in misses.items()}
    if pragmas and conns:  # a statement of its own on a connection: once, before the rounds
        conn = conns[0][0]
        out["pragmas"] = {p: conn.execute(f"PRAGMA {p}").fetchone()[p]
                          for p in ("cache_size", "mmap_size")}
    for name, op in (("hit", HIT), ("miss", MISS), ("write", WRITE)):
        out[name] = sum(status(db, op) for _, db in conns)
    return out


config = BackendConfig(**json.loads(os.environ["BENCH_CONFIG"]))
inner = create_app(config)


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "@STATS@":
        body = json.dumps(stats(scope["query_string"] == b"pragmas")).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    await inner(scope, receive, send)


uvicorn.run(app, host="127.0.0.1", port=config.port, log_level="warning", access_log=False,
            lifespan="on")
""".replace("@STATS@", STATS)


def database_url(path: str) -> str:
    """A server's database: a PostgreSQL URL as given, else a SQLite file's path."""
    return path if path.startswith("postgresql://") else f"sqlite:///{path}"


@contextmanager
def _watched(
    path: str, pragmas: list[str], count: int, code: str | None, callgrind: str | None
) -> Iterator[tuple[str, int]]:
    port = free_port()
    config = {
        "rate_limit": False,
        "log_requests": False,
        "run_delivery": False,
        "database_url": database_url(path),
        "secret_key": SEALING_KEY,
        "port": port,
    }
    with tempfile.TemporaryDirectory(prefix="ll-bench-pair-") as tmp:
        (Path(tmp) / "server.py").write_text(_SERVER)
        env = {
            **os.environ,
            "BENCH_CONFIG": json.dumps(config),
            "BENCH_PRAGMAS": ",".join(pragmas),
            "BENCH_COUNT": str(count),
        }
        if code:  # the backend as another checkout has it (a baseline)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [code, env.get("PYTHONPATH")]))
        cmd = [sys.executable, str(Path(tmp) / "server.py")]
        if callgrind:  # counting only while Target.block switches it on
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                *_callgrind_out(callgrind),
                *cmd,
            ]
        with child_server(cmd, port, env=env, cwd=tmp, timeout=900) as proc:
            yield f"http://127.0.0.1:{port}", proc.pid


class Target:
    """One database under its own server, and what was measured on it."""

    def __init__(self, spec: str) -> None:
        label, path = spec.split(":", 1)
        rest: list[str] = []
        if not path.startswith("postgresql://"):  # a URL's own colons are not fields
            path, *rest = path.split(":")
        elif "::" in path:  # URL::CHECKOUT (no URL has a double colon)
            path, code = path.split("::", 1)
            rest = ["", code]
        self.label, self.path = label, path
        self.pragmas = rest[0].split(",") if rest and rest[0] else []
        self.code = rest[1] if len(rest) > 1 else None
        backend = Backend(
            BackendConfig(
                database_url=database_url(path),
                secret_key=SEALING_KEY,
                rate_limit=False,
                log_requests=False,
                run_delivery=False,
            )
        )
        try:
            self.shop = _kept_shop(backend)
            with backend.db.transaction(write=False) as tx:
                self.bills = int(tx.scalar("SELECT count(*) FROM bills"))
        finally:
            backend.close()
        self.times: dict[str, list[float]] = {"POST bill": [], "pay/repay cycle": []}
        self.costs: dict[str, dict[str, int]] = {k: {} for k in self.times}
        self.by_statement: dict[str, dict[str, list[int]]] = {k: {} for k in self.times}
        self.http: httpx.Client | None = None
        self.pid = 0
        self.counted = False

    def stats(self, pragmas: bool = False) -> dict[str, Any]:
        assert self.http is not None
        return dict(self.http.get(STATS + ("?pragmas" if pragmas else "")).json())

    def callgrind(self, switch: str) -> None:
        """Callgrind's counting in this server on or off (the cycles are counted)."""
        subprocess.run(["callgrind_control", "-i", switch, str(self.pid)], check=True, **_QUIET)

    def block(self, name: str, n: int) -> None:
        """*n* timed requests of kind *name*, with the counters read around them."""
        assert self.http is not None
        http, customer = self.http, self.shop.shoppers[1]
        call = (
            (lambda: _post_bill(http, str(customer["address"])))
            if name == "POST bill"
            else (lambda: _cycle(http, customer))
        )
        before = self.stats()
        counting = self.counted and name == "pay/repay cycle"
        if counting:
            self.callgrind("on")
        for _ in range(n):
            t0 = time.perf_counter()
            call()
            self.times[name].append((time.perf_counter() - t0) * 1000)
        if counting:
            self.callgrind("off")
        after = self.stats()
        costs = self.costs[name]
        for k in COUNTERS:
            costs[k] = costs.get(k, 0) + after[k] - before[k]
        costs["n"] = costs.get("n", 0) + n
        was = before["per_connection"]
        used = sum(1 for i, a in enumerate(after["per_connection"]) if a != (was[i:] or [0])[0])
        costs["connections used"] = max(costs.get("connections used", 0), used)
        mine = self.by_statement[name]
        for sql, (m, us) in after["by_statement"].items():
            m0, us0 = before["by_statement"].get(sql, (0, 0))
            total = mine.setdefault(sql, [0, 0])
            total[0] += m - m0
            total[1] += us - us0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server",
        action="append",
        required=True,
        help="LABEL:PATH[:PRAGMA,PRAGMA[:CHECKOUT]] of a SQLite file bench/history.py filled,"
        " or LABEL:postgresql://... of a kept PostgreSQL database"
        " (CHECKOUT: serve it with the backend of that directory, e.g. a baseline's)",
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=30, help="POSTs and cycles per block")
    parser.add_argument("--warm", type=int, default=20, help="untimed cycles per server first")
    parser.add_argument("--count", action="store_true", help="count statements (slower)")
    parser.add_argument(
        "--callgrind",
        metavar="DIR",
        help="run the servers under callgrind (files in DIR) and report the instructions"
        " per cycle in each (user space only: system calls are counted apart)",
    )
    parser.add_argument(
        "--by-statement",
        type=int,
        default=0,
        metavar="N",
        help="and the cache misses and CPU of each: the N costliest (slower still)",
    )
    args = parser.parse_args()
    targets = [Target(spec) for spec in args.server]
    print(f"load before: {os.getloadavg()}", flush=True)
    with ExitStack() as stack:
        for t in targets:
            count = 2 if args.by_statement else int(args.count)
            base, t.pid = stack.enter_context(
                _watched(
                    t.path,
                    t.pragmas,
                    count,
                    t.code,
                    args.callgrind and f"{args.callgrind}/{t.label}",
                )
            )
            t.counted = bool(args.callgrind)
            t.http = stack.enter_context(
                httpx.Client(
                    base_url=base,
                    headers={"Authorization": f"Bearer {t.shop.secret_key}"},
                    timeout=120,
                )
            )
            print(
                f"{t.label}: {t.bills:,} bills, pragmas {t.pragmas or '-'},"
                f" code {t.code or 'this checkout'},"
                f" in effect {t.stats(pragmas=True).get('pragmas', '-')}",
                flush=True,
            )
        for t in targets:
            for _ in range(args.warm):
                _cycle(t.http, t.shop.shoppers[1])  # type: ignore[arg-type]
        for r in range(args.rounds):
            k = r % len(targets)
            for t in targets[k:] + targets[:k]:
                t.block("POST bill", args.per_round)
                t.block("pay/repay cycle", args.per_round)
        if args.callgrind:
            for t in targets:
                subprocess.run(["callgrind_control", "-d", str(t.pid)], check=True, **_QUIET)
    print(f"load after: {os.getloadavg()}", flush=True)
    if args.callgrind:
        for t in targets:
            total = sum(
                int(line.split()[1])
                for f in Path(args.callgrind).glob(f"{t.label}.*")
                for line in f.read_text().splitlines()
                if line.startswith("totals:")  # summary: 0 (counting was off at start)
            )
            cycles = t.costs["pay/repay cycle"]["n"]
            print(f"{t.label:8} callgrind: {total / cycles / 1e6:.2f} M instructions per cycle")
    for name in ("POST bill", "pay/repay cycle"):
        first = statistics.median(targets[0].times[name])
        for t in targets:
            v, c = t.times[name], t.costs[name]
            per = {k: c[k] / c["n"] for k in c if k != "n"}
            med = statistics.median(v)
            print(
                f"{t.label:8} {name:16} p50 {med:6.2f} ms  p99 {_pct(v, 99):6.2f} ms"
                f"  x{med / first:.2f} (n={len(v)})  server CPU {per['cpu_us'] / 1000:.2f} ms,"
                f" {c['connections used']} connections,"
                f" per {'POST' if name == 'POST bill' else 'cycle'}: "
                + (f"{per['statements']:.1f} statements, " if count else "")
                + f"cache hits {per['hit']:.0f}, misses {per['miss']:.1f},"
                f" read syscalls {per['syscr']:.1f} ({per['rchar'] / 1024:.0f} KiB),"
                f" write syscalls {per['syscw']:.1f}, disk read {per['disk_read'] / 1024:.0f}"
                f" KiB written {per['disk_write'] / 1024:.0f} KiB, waits {per['waits']:.1f},"
                f" checkpointer CPU {per['checkpoint_cpu_us'] / 1000:.2f} ms",
                flush=True,
            )
            if args.by_statement:
                top = sorted(t.by_statement[name].items(), key=lambda kv: -kv[1][1])
                for sql, (m, us) in top[: args.by_statement]:
                    print(
                        f"    {us / c['n'] / 1000:6.3f} ms CPU {m / c['n']:6.1f} misses  {sql}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
