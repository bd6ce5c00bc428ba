"""A merchant history of a million bills, made honestly, and the API's costs against its size.

``fill`` makes a sandbox history through the real services and the local contract engine
(``lumenlater_sdk.backend.services.history_fill``): ``--merchants`` shops (the first holds
``--first-share`` of the bills, the rest share the others), each with funded shopper
wallets and a webhook endpoint; slices of ledger time (``--per-day`` bills a day, four
slices a day) of bills issued, most paid through the BNPL engine, most repaid, some late,
some liquidated after 28 days, some cancelled, some left to expire, checkout sessions
(completed, refused, expired), with their events, ledger lines and outbox rows. The
outbox is then delivered by the real ``DeliveryWorker`` to a receiver process answering
200 (``--no-deliver``: left queued). Progress and rates are printed, then rows per table.

``fill --state FILE`` writes the fill's checkpoint to FILE after every slice and, when
FILE exists, carries that fill on instead of starting one: a million bills on a small
machine can take several sittings (stop one with SIGUSR1, which ends after the slice).
``cluster`` keeps a PostgreSQL cluster (bench settings) in a directory across sittings.

``run`` fills to each of ``--sizes`` in turn and, at each, starts the backend (uvicorn, in
a child process, as bench/backend_load.py does) on that database and measures p50/p99 of
the hot reads, lists, writes and analytics as the first (largest) merchant, one client
sequentially over loopback (bench/_history_measure.py); then the ratios largest/smallest
size, ``goal: ...: met|NOT met`` lines, and a PNG of p99 against history size
(``--plot``). SQLite, PostgreSQL (a throwaway cluster, as backend_load starts one), or both.

    python bench/history.py fill --db sqlite:///tmp/h.db --bills 1000000 [--merchants 20]
        [--state h.json]   # carried on from h.json if it exists; SIGUSR1: stop cleanly
    python bench/history.py cluster --dir /big/pg   # a kept PostgreSQL cluster, until ^C
    python bench/history.py run [--sizes 10000,100000,1000000] [--sqlite] [--postgres]
        [--plot history.png] [--json out.json] [--keep]   # SIGUSR1: stop filling, measure
    python bench/history.py measure --db URL --size 1000000 [--json out.json]  # a kept database
    python bench/history.py explain --db URL [--generic]  # where list and analytics time goes
    python bench/history.py report sqlite.json pg.json --plot out.png   # again, from --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _history_measure import GOALS, measure, report
from _served import served
from backend_load import _fresh_database, _postgres, pg_commits, pg_option_arguments

from lumenlater_sdk.backend import BackendConfig
from lumenlater_sdk.backend.app import Backend
from lumenlater_sdk.backend.services import api_keys, wallets
from lumenlater_sdk.backend.services.history_fill import HistoryFill, Shop

SEALING_KEY = "5f0c2b7d9e41a3c68b2d4f7091e3a5c7d9b1f3e5a7c9d1b3f5e7a9c1d3b5f7e9"
"""Fixed: the server the measurement starts must open the seeds the fill sealed."""

TABLES = (
    "merchants",
    "wallets",
    "bills",
    "checkout_sessions",
    "payment_failures",
    "events",
    "ledger_lines",
    "webhook_outbox",
    "webhook_deliveries",
    "chain_events",
    "chain_events_seen",
    "chain_state",
)
SHOPPER_BILLS = 500
"""A shop gets one shopper wallet per this many of its bills (at least 5)."""
OPEN_BILLS = 10
"""Bills a shopper owes at once, about: what a shopper's collateral is read against."""
PG_SETTINGS = [
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "wal_level=minimal",
    "max_wal_senders=0",
    "max_wal_size=8GB",
    "checkpoint_timeout=30min",
    "shared_buffers=2GB",
    "shared_preload_libraries=pg_stat_statements",
]
"""The throwaway cluster's settings before any ``--pg-option`` (a later one wins). Commits
are not durable (a crash loses the cluster, which is thrown away anyway); with the defaults
a million-bill fill checkpointed every 1 GB of WAL, wrote whole pages after each and read
through 128 MB of shared buffers. Query plans and read paths are PostgreSQL's own:
work_mem, planner costs and autovacuum stay at their defaults. pg_stat_statements is loaded
so that a run's statements can be read (``explain``, or SELECT ... FROM
pg_stat_statements after CREATE EXTENSION)."""
STOP = threading.Event()
"""Set by SIGUSR1: the fill stops after its current slice and that size is measured last."""


class Filler:
    """A history on one database, filled on in steps (``fill_to``) by one process."""

    def __init__(self, db_url: str, args: argparse.Namespace) -> None:
        config = BackendConfig(
            database_url=db_url,
            secret_key=SEALING_KEY,
            rate_limit=False,
            log_requests=False,
            run_delivery=False,
        )
        self.backend = Backend(config)
        self.db_url = db_url
        self.args = args
        self.state: Path | None = Path(args.state) if getattr(args, "state", None) else None
        saved = json.loads(self.state.read_text()) if self.state and self.state.exists() else None
        self.receiver: Any = None
        self.fill_seconds = saved["fill_seconds"] if saved else 0.0
        self.deliver_seconds = saved["deliver_seconds"] if saved else 0.0
        if args.deliver:
            from delivery_receiver import ReceiverGroup

            # A carried-on fill's endpoints point at the port its first sitting chose.
            port = saved["receiver_port"] if saved else None
            self.receiver = ReceiverGroup("null", 1, "unused", port=port)
        if saved:
            self.fill = HistoryFill.resume(self.backend.ctx, saved["fill"], batch=args.batch)
            print(f"carried on from {self.state}: {self.fill.counts['bills']:,} bills", flush=True)
            return
        self.fill = HistoryFill(self.backend.ctx, batch=args.batch)
        url = self.receiver.url if self.receiver else None
        n = args.merchants
        for i in range(n):
            weight = args.first_share if i == 0 or n == 1 else (1 - args.first_share) / (n - 1)
            self.fill.add_shop(f"History Shop {i}", weight, url)

    def save(self) -> None:
        """Write the checkpoint (``--state``), whole or not at all."""
        if self.state is None:
            return
        saved = {
            "fill": self.fill.checkpoint(),
            "fill_seconds": self.fill_seconds,
            "deliver_seconds": self.deliver_seconds,
            "receiver_port": self.receiver.port if self.receiver else None,
        }
        part = self.state.with_suffix(".part")
        # The checkpoint holds the shops' secret keys.
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(saved, out)
        os.replace(part, self.state)

    def close(self) -> None:
        """Close the database and stop the receiver."""
        if self.receiver is not None:
            self.receiver.close()
        self.backend.close()

    def fill_to(self, bills: int) -> None:
        """Fill on until the history holds *bills* bills; deliver what it queued."""
        fill, args = self.fill, self.args
        for shop in fill.shops:
            # About OPEN_BILLS bills owed per shopper at once (two weeks of its shop's bills
            # spread over them), and at least one shopper per SHOPPER_BILLS bills.
            owed = math.ceil(args.per_day * shop.weight * 14 / OPEN_BILLS)
            share = math.ceil(bills * shop.weight / SHOPPER_BILLS)
            fill.ensure_shoppers(shop, max(5, owed, share))
        per_slice = max(1, args.per_day // 4)
        start, cpu = time.perf_counter(), time.process_time()
        made0, last, made_last = fill.counts["bills"], start, fill.counts["bills"]
        last_save = start
        while fill.counts["bills"] < bills and not STOP.is_set():
            fill.run_slice(min(per_slice, bills - fill.counts["bills"]))
            self.fill_seconds += time.perf_counter() - last_save
            last_save = time.perf_counter()
            self.save()
            now = time.perf_counter()
            if now - last >= args.progress or fill.counts["bills"] >= bills or STOP.is_set():
                # The rate since the last line too: the average hides how the rate moves as
                # the history grows (repayments start, tables and indexes get bigger).
                recent = (fill.counts["bills"] - made_last) / max(now - last, 1e-9)
                last, made_last = now, fill.counts["bills"]
                made = fill.counts["bills"] - made0
                print(
                    f"  {fill.counts['bills']:>9,} bills ({made / (now - start):6.0f}/s,"
                    f" lately {recent:6.0f}/s), day {fill.days:6.1f}: "
                    + ", ".join(
                        f"{k} {v:,}" for k, v in sorted(fill.counts.items()) if k != "bills"
                    ),
                    flush=True,
                )
        took, cpu = time.perf_counter() - start, max(time.process_time() - cpu, 1e-9)
        self.fill_seconds += time.perf_counter() - last_save
        self.save()
        # This process's CPU as well: on a busy machine wall time measures the neighbours
        # (PostgreSQL's own work is not in it).
        print(
            f"fill to {bills:,} bills: {took:.1f} s (total {self.fill_seconds:.1f} s),"
            f" {cpu:.1f} s of this process's CPU"
            f" ({(fill.counts['bills'] - made0) / cpu:.0f} bills per CPU second)",
            flush=True,
        )
        # A fill stopped to be carried on later delivers then: its receiver comes back on
        # the same port.
        if self.receiver is not None and not (STOP.is_set() and self.state):
            self.deliver()

    def deliver(self) -> None:
        """Run the delivery worker until the outbox holds nothing pending."""
        from lumenlater_sdk.backend.delivery import DeliveryWorker

        db = self.backend.db

        def pending() -> int:
            return _scalar(db, "SELECT count(*) FROM webhook_outbox WHERE status = 'pending'")

        todo = pending()
        worker = DeliveryWorker(db, secret_key=SEALING_KEY, batch_size=500, concurrency=64)
        started = threading.Event()
        runner = threading.Thread(target=worker.run, kwargs={"on_started": started.set})
        start = time.perf_counter()
        runner.start()
        started.wait(60)
        try:
            while (left := pending()) > 0:
                time.sleep(1.0)
                rate = (todo - left) / (time.perf_counter() - start)
                print(f"  delivering: {left:,} of {todo:,} left ({rate:,.0f}/s)", flush=True)
        finally:
            worker.stop()
            runner.join(60)
        took = time.perf_counter() - start
        self.deliver_seconds += took
        self.save()
        print(f"delivered {todo:,} outbox rows in {took:.1f} s", flush=True)

    def table_rows(self) -> dict[str, int]:
        """Rows per table."""
        return _table_rows(self.backend)


def _table_rows(backend: Backend) -> dict[str, int]:
    return {t: _scalar(backend.db, f"SELECT count(*) FROM {t}") for t in TABLES}


def _scalar(db: Any, sql: str) -> int:
    with db.transaction(write=False) as tx:
        return int(tx.scalar(sql))


def _print_rows(filler: Any) -> None:
    rows = filler.table_rows()
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()), flush=True)


def database_arguments() -> argparse.ArgumentParser:
    """The options :func:`_databases` reads, as a parent parser (``parents=[...]``)."""
    p = argparse.ArgumentParser(add_help=False, parents=[pg_option_arguments(PG_SETTINGS)])
    p.add_argument("--sqlite", action="store_true", help="SQLite (the default)")
    p.add_argument("--postgres", action="store_true", help="PostgreSQL")
    p.add_argument("--tmp", help="directory for the SQLite file (default: the system's)")
    return p


@contextmanager
def _databases(args: argparse.Namespace) -> Iterator[list[tuple[str, str]]]:
    """(label, url) of a fresh database per dialect asked for."""
    with ExitStack() as stack:
        out = []
        if args.sqlite or not args.postgres:
            tmp = Path(tempfile.mkdtemp(prefix="ll-history-", dir=args.tmp))
            stack.callback(shutil.rmtree, tmp, True)
            out.append(("sqlite", f"sqlite:///{tmp / 'history.db'}"))
        if args.postgres:
            print(
                f"PostgreSQL: {' '.join(args.pg_option)}; {pg_commits(args.pg_option)}",
                flush=True,
            )
            cluster = stack.enter_context(_postgres(args.pg_option))
            out.append(("postgresql", _fresh_database(cluster)))
        yield out


def _cmd_fill(args: argparse.Namespace) -> None:
    filler = Filler(args.db, args)
    try:
        filler.fill_to(args.bills)
        _print_rows(filler)
        print(f"first merchant's secret key: {filler.fill.shops[0].secret_key}")
    finally:
        filler.close()


def _cmd_cluster(args: argparse.Namespace) -> None:
    with _postgres(args.pg_option, keep=Path(args.dir).resolve()) as url:
        print(f"PostgreSQL: {' '.join(args.pg_option)}; {pg_commits(args.pg_option)}", flush=True)
        print(f"cluster: {url}  (stop: kill {os.getpid()}, or ^C)", flush=True)
        try:
            while True:
                signal.pause()
        except (KeyboardInterrupt, SystemExit):
            pass


def _cmd_run(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, dict[int, dict[str, list[float]]]] = {}
    with _databases(args) as databases:
        for label, url in databases:
            print(f"== {label}", flush=True)
            filler = Filler(url, args)
            results[label] = {}
            try:
                for size in sizes:
                    filler.fill_to(size)
                    size = filler.fill.counts["bills"]  # less when stopped (SIGUSR1)
                    _print_rows(filler)
                    shop = filler.fill.shops[0]
                    with served(url, SEALING_KEY) as srv:
                        results[label][size] = measure(srv.base, shop, filler, args.requests)
                    report(label, size, results[label][size])
                    if args.json:  # after every size: a run cut short keeps its figures
                        Path(args.json).write_text(json.dumps(results))
                    if STOP.is_set():
                        print(f"fill stopped (SIGUSR1) at {size:,} bills", flush=True)
                        break
            finally:
                filler.close()
        report_all(results, args.plot)
        if args.keep:
            _keep(databases)


def _keep(databases: list[tuple[str, str]]) -> None:
    """Hold the filled databases (and the PostgreSQL cluster) until SIGTERM or ^C, for
    ``explain`` or ``measure`` on them: leaving the run tears them down."""
    for label, url in databases:
        print(f"kept {label}: {url}", flush=True)
    print(f"until SIGTERM: kill {os.getpid()}", flush=True)
    while True:
        signal.pause()


def _kept_shop(backend: Backend) -> Shop:
    """The first shop of a database a fill made, with a fresh secret key (the fill's own key
    is stored hashed) and its shoppers, for measuring a history kept from an earlier run."""
    ctx = backend.ctx
    with backend.db.transaction(write=False) as tx:
        row = tx.fetchone(
            "SELECT id FROM merchants WHERE business_name = ? ORDER BY created LIMIT 1",
            ("History Shop 0",),
        )
        if row is None:
            sys.exit("no 'History Shop 0' in this database: not one bench/history.py filled")
        merchant_id = str(row["id"])
        orders = int(
            tx.scalar(
                "SELECT count(*) FROM bills WHERE merchant_id = ? AND order_id LIKE 'order-%'",
                (merchant_id,),
            )
        )
        shoppers = [wallets.resolve_wallet(tx, merchant_id, f"shopper-{i}") for i in (0, 1)]
    key = api_keys.create_key(ctx, merchant_id, type="secret", name="history bench", livemode=False)
    shop = Shop(merchant_id, str(key["secret"]), 1.0, shoppers=shoppers, orders=orders)
    return shop


def _cmd_measure(args: argparse.Namespace) -> None:
    backend = Backend(
        BackendConfig(
            database_url=args.db,
            secret_key=SEALING_KEY,
            rate_limit=False,
            log_requests=False,
            run_delivery=False,
        )
    )
    try:
        shop = _kept_shop(backend)
        _print_rows(SimpleNamespace(backend=backend, table_rows=lambda: _table_rows(backend)))
        with served(args.db, SEALING_KEY) as srv:
            res = measure(srv.base, shop, SimpleNamespace(backend=backend), args.requests)
    finally:
        backend.close()
    report(args.label, args.size, res)
    if args.json:  # add to (or replace in) what a run wrote, for ``report``
        path = Path(args.json)
        results = json.loads(path.read_text()) if path.exists() else {}
        results.setdefault(args.label, {})[str(args.size)] = res
        path.write_text(json.dumps(results))


def _cmd_report(args: argparse.Namespace) -> None:
    results: dict[str, dict[int, dict[str, list[float]]]] = {}
    for name in args.files:
        for label, by_size in json.loads(Path(name).read_text()).items():
            results[label] = {int(size): res for size, res in by_size.items()}
    for label, by_size in results.items():
        for size, res in sorted(by_size.items()):
            report(label, size, res)
    report_all(results, args.plot)


def report_all(results: dict[str, dict[int, dict[str, list[float]]]], plot: str | None) -> None:
    """Ratios, goal lines and the plot."""
    from _history_measure import goal_lines, plot_p99

    for label, by_size in results.items():
        own = sorted(by_size)  # a run cut short has fewer sizes
        for line in goal_lines(label, by_size, own[0], own[-1]):
            print(line, flush=True)
    if plot:
        plot_p99(results, plot)
        print(f"plot: {plot}", flush=True)


def main() -> None:
    # A run stopped with SIGTERM still stops its server, receiver and PostgreSQL cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))
    # SIGUSR1 ends a long run early but still measured: the fill stops after its slice.
    signal.signal(signal.SIGUSR1, lambda *_: STOP.set())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--merchants", type=int, default=20)
    common.add_argument("--first-share", type=float, default=0.5, help="first shop's bills")
    common.add_argument("--per-day", type=int, default=1370, help="bills per ledger day")
    common.add_argument("--batch", type=int, default=1000, help="objects per transaction")
    common.add_argument("--progress", type=float, default=10.0, help="seconds between lines")
    common.add_argument("--no-deliver", dest="deliver", action="store_false")
    f = sub.add_parser("fill", parents=[common], help="fill one database")
    f.add_argument("--db", required=True, help="sqlite:///PATH or postgresql://...")
    f.add_argument("--bills", type=int, default=1_000_000)
    f.add_argument(
        "--state", help="checkpoint file: written after every slice, carried on if it exists"
    )
    c = sub.add_parser(
        "cluster",
        parents=[pg_option_arguments(PG_SETTINGS)],
        help="keep a PostgreSQL cluster in a directory, until ^C",
    )
    c.add_argument("--dir", required=True, help="its directory (made the first time)")
    r = sub.add_parser(
        "run", parents=[common, database_arguments()], help="fill in steps and measure at each"
    )
    r.add_argument("--sizes", default="10000,100000,1000000")
    r.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    r.add_argument("--plot", help="write a PNG of p99 against history size here")
    r.add_argument("--json", help="write the latencies (ms) per database, size, endpoint here")
    r.add_argument(
        "--keep", action="store_true", help="keep the databases after the report, until SIGTERM"
    )
    m = sub.add_parser("measure", help="measure a database an earlier fill or run kept")
    m.add_argument("--db", required=True, help="a filled database")
    m.add_argument("--size", type=int, required=True, help="its bills: the figures' size")
    m.add_argument("--label", default="sqlite", help="sqlite or postgresql, as a run labels")
    m.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    m.add_argument("--json", help="add the figures to this file (as run --json writes)")
    e = sub.add_parser("explain", help="time and explain the lists and analytics queries")
    e.add_argument("--db", required=True, help="a filled database")
    e.add_argument("--repeat", type=int, default=50)
    e.add_argument("--generic", action="store_true", help="PostgreSQL: explain the generic plans")
    p = sub.add_parser("report", help="ratios, goals and the plot again from --json files")
    p.add_argument("files", nargs="+", help="files a run wrote with --json")
    p.add_argument("--plot", help="write the PNG here")
    args = parser.parse_args()
    if args.command == "report":
        _cmd_report(args)
        return
    if args.command == "cluster":
        _cmd_cluster(args)
        return
    if args.command == "explain":
        from _history_explain import explain

        explain(args.db, SEALING_KEY, args.repeat, args.generic)
        return
    print(f"goals: {GOALS}", flush=True)
    if args.command == "measure":
        _cmd_measure(args)
        return
    (_cmd_fill if args.command == "fill" else _cmd_run)(args)


if __name__ == "__main__":
    main()
