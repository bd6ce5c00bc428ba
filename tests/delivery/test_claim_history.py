"""A claim beside a long delivery history reads the pending rows' indexes alone.

An outbox keeps its delivered and failed rows (by the million after a few years, until
retention prunes them). Every read a claim makes must go along the partial indexes of
pending and leased rows (delivery migration 6), whose size is the backlog's, never an
index that also holds the history: each statement ``pick_due`` sends is recorded and
explained, on a table whose statistics say what a long history says (PostgreSQL
ANALYZEd: pending rows are rare), on both databases. The claim still deals the rows a
claim should, oldest first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from delivery_support import MERCHANT, prepare
from endpoint_support import Endpoints

from lumenlater_sdk.backend.db import Database, Tx, connect
from lumenlater_sdk.backend.db._recording import RecordingTx
from lumenlater_sdk.backend.delivery._fair import pick_due

HISTORY = 30_000
# The pending rows' index: (status, endpoint_id, ...) on SQLite, (endpoint_id, ...) on
# PostgreSQL (delivery migration 7).
ALLOWED = {
    "webhook_outbox_pending_due",
    "webhook_outbox_pending_endpoint",
    "webhook_outbox_leased_status",
}


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with connect(db_url) as database:
        prepare(database)
        yield database


def _indexes(tx: Tx, sql: str, params: list[Any]) -> set[str]:
    """The webhook_outbox indexes the plan of *sql* reads."""
    if tx.dialect == "sqlite":
        shown = " ".join(str(r["detail"]) for r in tx.fetchall("EXPLAIN QUERY PLAN " + sql, params))
    else:
        raw = tx.scalar("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = json.loads(raw) if isinstance(raw, str) else raw
        shown = json.dumps(plan)
        # An index read whose condition leaves out the index's first column reads the
        # whole index: PostgreSQL drops from a partial index's conditions what its
        # predicate implies, so ``status = 'pending'`` leading an index WHERE status =
        # 'pending' narrows nothing, and each endpoint's seek read the whole backlog.
        for node in _nodes(plan[0]["Plan"]):
            if "Index Name" in node:
                first = tx.scalar(
                    "SELECT a.attname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                    " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]"
                    " WHERE i.relname = ?",
                    (node["Index Name"],),
                )
                cond = node.get("Index Cond")
                # (None and no Filter: the index's own order, as far as a LIMIT reads.)
                if (cond is None and "Filter" in node) or (
                    cond is not None and not re.search(rf"\b{first}\b", str(cond))
                ):
                    return {f"all of {node['Index Name']}"}
    if re.search(r"SCAN (webhook_outbox|o)\b(?! USING)|Seq Scan", shown):
        return {"a full read"}
    return set(re.findall(r"\bwebhook_outbox_\w+", shown))


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _history(db: Database, endpoints: list[str]) -> None:
    """HISTORY delivered and failed rows, then a backlog: 5 due rows per endpoint, 2 later."""
    with db.transaction() as tx:
        rows: list[Any] = []
        for i in range(HISTORY):
            status = "delivered" if i % 10 else "failed"
            rows += [f"evt_old{i}", endpoints[i % 3], MERCHANT, status, 1_000 + i, 1]
            if len(rows) == 6 * 500:
                tx.execute(
                    "INSERT INTO webhook_outbox (event_id, endpoint_id, merchant_id, status,"
                    " next_attempt_ms, created) VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?)"] * 500),
                    rows,
                )
                rows = []
        for n, ep in enumerate(endpoints):
            for i in range(7):
                due = 5_000_000 + 10 * i + n if i < 5 else 9_000_000
                tx.execute(
                    "INSERT INTO webhook_outbox (event_id, endpoint_id, merchant_id, status,"
                    " next_attempt_ms, created) VALUES (?, ?, ?, 'pending', ?, 1)",
                    (f"evt_new{n}_{i}", ep, MERCHANT, due),
                )
        if tx.dialect == "postgresql":
            tx.execute("ANALYZE webhook_outbox")


def test_a_claim_reads_only_pending_rows_beside_a_long_history(db: Database) -> None:
    endpoints = sorted(
        Endpoints(db).create(MERCHANT, url=f"https://h{i}.test/hooks", enabled_events=["*"])["id"]
        for i in range(3)
    )
    _history(db, endpoints)
    with db.transaction() as tx:
        recording = RecordingTx(tx)
        picked = pick_due(recording, now_ms=6_000_000, limit=8, per_endpoint=4)
        read = [
            (" ".join(sql.split())[:90], _indexes(tx, sql, params))
            for sql, params in recording.statements
            if "webhook_outbox" in sql
        ]
    # Dealt in turn, each endpoint's oldest due rows first, none past its cap of 4:
    # three rounds of one row each, then two endpoints get a fourth... up to 8.
    assert [r["event_id"] for r in picked.rows] == [
        "evt_new0_0",
        "evt_new1_0",
        "evt_new2_0",
        "evt_new0_1",
        "evt_new1_1",
        "evt_new2_1",
        "evt_new0_2",
        "evt_new1_2",
    ]
    assert picked.capped is False
    assert read, "the claim sent no outbox reads"
    for statement, indexes in read:
        assert indexes and indexes <= ALLOWED, (db.dialect, statement, indexes)
