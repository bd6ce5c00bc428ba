"""A metrics series is never JIT-compiled on PostgreSQL.

Its statements sum each bucket in subqueries correlated with bounds the planner cannot
see, so their estimated cost grows with the merchant's history while the work stays a
few index reads per bucket; past ``jit_above_cost`` PostgreSQL compiled them first (at
100k bills, 492 of a 365-day series' 520 ms). Here every statement is made to look that
expensive (``jit_above_cost = 0``) and each one the series sends is explained.
"""

from __future__ import annotations

import json

import pytest

from lumenlater_sdk.backend.db import connect, migrate
from lumenlater_sdk.backend.db._recording import RecordingTx
from lumenlater_sdk.backend.store import metrics as metrics_store
from lumenlater_sdk.backend.store._schema import COMPONENT, MIGRATIONS

HOUR = 3600


def test_a_metrics_series_runs_without_jit(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's JIT")
    with connect(db_url) as db:
        migrate(db, COMPONENT, MIGRATIONS)
        with db.transaction(write=False) as tx:
            if not tx.scalar("SELECT pg_jit_available()"):
                pytest.skip("this PostgreSQL was built without JIT")
            tx.execute("SET LOCAL jit_above_cost = 0")  # as a long history prices them
            recording = RecordingTx(tx)
            # Whole hours (the rollups) and partial hours at both ends (raw lines).
            metrics_store.series(recording, "acct_1", [1000, 25 * HOUR + 7, 50 * HOUR + 9])
            selects = [(q, p) for q, p in recording.statements if q.startswith("WITH")]
            assert len(selects) == 2, recording.statements
            for sql, params in selects:
                raw = tx.scalar("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plan = json.loads(raw) if isinstance(raw, str) else raw
                assert "JIT" not in plan[0], (sql[:60], plan[0]["JIT"])
