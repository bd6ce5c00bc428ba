"""``bench/history.py explain``: where a filled database's list and analytics time goes.

For the merchant with the most bills, each list filter of ``GET /v1/bills``, of
``GET /v1/events`` and of ``GET /v1/checkout/sessions`` (the store's query) and
``GET /v1/analytics/metrics`` for 30 and 365 days (the service's whole call) is timed in
process (no HTTP: the database's share of the request), then run once more recording
the SQL it sends, each statement explained (``EXPLAIN QUERY PLAN`` on SQLite,
``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, of the custom plan, or with ``--generic``
of the generic plan a prepared statement may be given).
"""

from __future__ import annotations

import functools
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from _history_measure import middle_created

from lumenlater_sdk.backend.db import Tx
from lumenlater_sdk.backend.db._recording import RecordingTx
from lumenlater_sdk.backend.paging import PageRequest
from lumenlater_sdk.backend.store import bills as bill_store
from lumenlater_sdk.backend.store import events as event_store
from lumenlater_sdk.backend.store import sessions as session_store

DAY = 86_400
_BILL_DURATION, _GRACE = DAY, 14 * DAY


def _queries(tx: Tx, merchant: str) -> dict[str, Callable[[Tx], object]]:
    row = tx.fetchone(
        "SELECT min(created) AS lo, max(created) AS hi, count(*) AS n FROM bills"
        " WHERE merchant_id = ?",
        (merchant,),
    )
    assert row is not None
    lo, hi = int(row["lo"]), int(row["hi"])
    now = int(tx.scalar("SELECT last_time FROM chain_ledger WHERE id = 1"))
    customer = tx.scalar("SELECT customer FROM bills WHERE merchant_id = ? LIMIT 1", (merchant,))
    deep = tx.scalar(
        "SELECT id FROM bills WHERE merchant_id = ? ORDER BY id DESC LIMIT 1 OFFSET 10000",
        (merchant,),
    )

    def bills(page: PageRequest | None = None, **filters: Any) -> Callable[[Tx], object]:
        return lambda t: bill_store.list_bills(
            t,
            merchant,
            page or PageRequest(limit=10),
            now=now,
            bill_duration=_BILL_DURATION,
            grace_period=_GRACE,
            **filters,
        )

    mid = middle_created(tx, merchant, int(row["n"]))
    out: dict[str, Callable[[Tx], object]] = {
        "first page": bills(),
        "deep page": bills(PageRequest(10, starting_after=deep)),
        **{
            f"status={s}": bills(status=s)
            for s in ("created", "paid", "repaid", "liquidated", "cancelled", "overdue", "expired")
        },
        "customer=": bills(customer=customer),
        "order_id=": bills(order_id="order-7"),
        "created narrow": bills(created_gte=mid, created_lte=mid + 3600),
        "created wide": bills(created_gte=lo + (hi - lo) // 20, created_lte=hi),
    }
    return {**out, **_event_and_session_queries(tx, merchant)}


def _event_and_session_queries(tx: Tx, merchant: str) -> dict[str, Callable[[Tx], object]]:
    """``GET /v1/events`` and ``GET /v1/checkout/sessions`` of *merchant*: the first page,
    each filter, and a narrow (an hour) and a wide (the newest 95 %) created range."""
    first = PageRequest(limit=10)

    def listed(lister: Any, **filters: Any) -> Callable[[Tx], object]:
        return lambda t: lister(t, merchant, first, **filters)

    out: dict[str, Callable[[Tx], object]] = {}
    for table, name, lister in (
        ("events", "events", event_store.list_events),
        ("checkout_sessions", "sessions", session_store.list_sessions),
    ):
        row = tx.fetchone(
            f"SELECT min(created) AS lo, max(created) AS hi FROM {table} WHERE merchant_id = ?",
            (merchant,),
        )
        if row is None or row["lo"] is None:
            continue
        lo, hi = int(row["lo"]), int(row["hi"])
        mid = (lo + hi) // 2
        out[f"{name}: first page"] = listed(lister)
        out[f"{name}: created narrow"] = listed(lister, created_gte=mid, created_lte=mid + 3600)
        out[f"{name}: created wide"] = listed(
            lister, created_gte=lo + (hi - lo) // 20, created_lte=hi
        )
    for kind in ("bill.repaid", "bill.*"):
        out[f"events: type={kind}"] = listed(event_store.list_events, event_type=kind)
    for status in ("open", "complete", "expired"):
        out[f"sessions: status={status}"] = listed(session_store.list_sessions, status=status)
    object_id = tx.scalar(
        "SELECT object_id FROM events WHERE merchant_id = ? ORDER BY id LIMIT 1", (merchant,)
    )
    if object_id is not None:
        out["events: object"] = listed(event_store.list_events, object_id=str(object_id))
    order_id = tx.scalar(
        "SELECT order_id FROM checkout_sessions WHERE merchant_id = ? ORDER BY id LIMIT 1",
        (merchant,),
    )
    if order_id is not None:
        out["sessions: order_id"] = listed(session_store.list_sessions, order_id=str(order_id))
    return out


class _RecordingDb:
    """A database whose transactions record their statements (for a whole service call)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.statements: list[tuple[str, list[Any]]] = []

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        with self.inner.transaction(write=write) as tx:
            rec = RecordingTx(tx)
            yield rec
            self.statements += rec.statements

    def reads(self) -> Any:
        return self.transaction(write=False)


def _metrics(ctx: Any, merchant: str, days: int) -> Callable[[Any], object]:
    """The analytics service's whole call for the last *days* days, by day, on *db*."""
    from lumenlater_sdk.backend.services import analytics

    def run(db: Any) -> object:
        c = ctx.with_db(db)
        with db.transaction(write=False) as tx:
            now = int(tx.scalar("SELECT last_time FROM chain_ledger WHERE id = 1"))
        return analytics.metrics(c, merchant, now - days * DAY, now + 1, "day")

    return run


def _literal(value: Any) -> str:
    """*value* as an SQL literal (the store's parameters: text, integers, id arrays)."""
    if value is None:
        return "NULL"
    if isinstance(value, (list, tuple)):
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]::text[]"
    if isinstance(value, (bool, int)):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _plan(tx: Tx, sql: str, params: list[Any], generic: bool = False) -> list[str]:
    if tx.dialect == "sqlite":
        return [str(r["detail"]) for r in tx.fetchall("EXPLAIN QUERY PLAN " + sql, params)]
    if not generic:
        rows = tx.fetchall("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [str(next(iter(r.values()))) for r in rows]
    # The plan a statement gets once prepared on its connection (db/_pg_direct.py) and
    # PostgreSQL's plan cache prefers the generic plan, which cannot see the values:
    # PREPAREd with $n placeholders, EXECUTEd with the values written in. (The store's
    # statements hold no ``?`` but their placeholders.)
    n = iter(range(1, len(params) + 1))
    tx.execute("PREPARE explained AS " + re.sub(r"\?", lambda _: f"${next(n)}", sql))
    tx.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    args = f"({', '.join(_literal(p) for p in params)})" if params else ""
    try:
        rows = tx.fetchall(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE explained{args}")
    finally:
        tx.execute("DEALLOCATE explained")
        tx.execute("SET LOCAL plan_cache_mode = auto")
    return [str(next(iter(r.values()))) for r in rows]


def largest_merchant(tx: Tx) -> tuple[str, int]:
    """The merchant with the most bills in a filled history, and its number of bills."""
    merchant = str(
        tx.scalar(
            "SELECT merchant_id FROM bills GROUP BY merchant_id ORDER BY count(*) DESC LIMIT 1"
        )
    )
    return merchant, int(tx.scalar("SELECT count(*) FROM bills WHERE merchant_id = ?", (merchant,)))


def explain(db_url: str, key: str, repeat: int, generic: bool = False) -> None:
    """Time and explain every list filter and analytics query of the largest merchant
    (on PostgreSQL with *generic*: each statement's generic plan, as prepared)."""
    from lumenlater_sdk.backend import BackendConfig
    from lumenlater_sdk.backend.app import Backend

    backend = Backend(BackendConfig(database_url=db_url, secret_key=key, run_delivery=False))
    db = backend.db
    try:
        with db.transaction(write=False) as tx:
            merchant, bills = largest_merchant(tx)
            queries: dict[str, Callable[[Any], object]] = {
                name: functools.partial(_in_tx, query=q)
                for name, q in _queries(tx, merchant).items()
            }
        for days in (30, 365):
            queries[f"metrics {days}d (service)"] = _metrics(backend.ctx, merchant, days)
        print(f"{db.dialect}: merchant {merchant[:8]}… with {bills:,} bills", flush=True)
        for name, query in queries.items():
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                query(db)
                times.append((time.perf_counter() - t0) * 1000)
            rec = _RecordingDb(db)
            query(rec)
            with db.transaction(write=False) as tx:
                plans = []
                for sql, params in rec.statements:
                    # A setting the call sends for its next statements (the series'
                    # ``SET LOCAL jit = off``) is set, as it was, not explained:
                    # EXPLAIN refuses it.
                    if sql.startswith("SET "):
                        tx.execute(sql, params)
                    else:
                        plans.append((sql, _plan(tx, sql, params, generic)))
            times.sort()
            print(
                f"{name:32} median {statistics.median(times):8.2f} ms"
                f"  p99 {times[min(len(times) - 1, int(0.99 * len(times)))]:8.2f} ms",
                flush=True,
            )
            for sql, plan in plans:
                print(f"    SQL {' '.join(sql.split())[:300]}")
                for line in plan:
                    print(f"      {line}")
    finally:
        backend.close()


def _in_tx(db: Any, query: Callable[[Tx], object]) -> object:
    with db.transaction(write=False) as tx:
        return query(tx)
