"""SQLite's page size: what a new database file gets, what an existing file keeps, and
the backend guide's recipe that converts one (SQLite only: PostgreSQL has no such
setting)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from backend_helpers import SECRET_KEY, Api, new_bill_body

from lumenlater_sdk.backend.db._sqlite import PAGE_SIZE
from lumenlater_sdk.backend.testing import run_sandbox

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "backend.rst"

# The largest bill the API takes: its row, event and stored answer span many pages.
LARGE_METADATA = {f"key_{i:02d}": chr(ord("a") + i % 26) * 500 for i in range(50)}


def _pragma(db: Path, name: str) -> Any:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def _bills(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A small and a large bill, each checked against its read-back and its replay."""
    body = new_bill_body(api)
    large = {**body, "metadata": LARGE_METADATA, "description": "d" * 500}
    made = []
    for n, b in enumerate((body, large)):
        bill = api.ok("POST", "/v1/bills", json=b, headers={"Idempotency-Key": f"page-{n}"})
        assert api.ok("GET", f"/v1/bills/{bill['id']}") == bill
        again = api.ok("POST", "/v1/bills", json=b, headers={"Idempotency-Key": f"page-{n}"})
        assert again == bill
        made.append(bill)
    assert made[1]["metadata"] == LARGE_METADATA
    listed = api.ok("GET", "/v1/bills", params={"limit": 2})["data"]
    assert [b["id"] for b in listed] == [made[1]["id"], made[0]["id"]]
    assert listed[0] == made[1]
    return made[0], made[1]


def test_a_new_file_gets_small_pages_and_holds_the_largest_bill(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    with (
        run_sandbox(f"sqlite:///{db}", run_delivery=False, tick_interval=3600) as sb,
        Api(sb.base_url, sb.secret_key) as api,
    ):
        _bills(api)
    assert _pragma(db, "page_size") == PAGE_SIZE != 4096
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "integrity_check") == "ok"


def _guide_recipe() -> list[str]:
    """The statements of the guide's conversion command (its quoted SQL)."""
    line = next(x for x in GUIDE.read_text().splitlines() if "VACUUM" in x and "$ " in x)
    quoted = re.search(r"'([^']+)'", line)
    assert quoted is not None, line
    return [s.strip() for s in quoted.group(1).split(";") if s.strip()]


def test_an_older_file_keeps_its_pages_until_the_guides_vacuum(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:  # empty, as SQLite makes a file by default
        conn.execute("PRAGMA page_size=4096")
        conn.execute("CREATE TABLE made_by_an_older_release (x)")
        conn.execute("DROP TABLE made_by_an_older_release")
    url = f"sqlite:///{db}"
    options: dict[str, Any] = {"run_delivery": False, "tick_interval": 3600}
    with (
        run_sandbox(url, secret_key=SECRET_KEY, **options) as sb,
        Api(sb.base_url, sb.secret_key) as api,
    ):
        small, large = _bills(api)
        key = sb.secret_key
    assert _pragma(db, "page_size") == 4096

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in _guide_recipe():
            conn.execute(statement).fetchall()
    finally:
        conn.close()
    assert _pragma(db, "page_size") == PAGE_SIZE
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "integrity_check") == "ok"

    with run_sandbox(url, secret_key=SECRET_KEY, **options) as sb, Api(sb.base_url, key) as api:
        body = new_bill_body(api)
        large_body = {**body, "metadata": LARGE_METADATA, "description": "d" * 500}
        for n, (bill, sent) in enumerate(((small, body), (large, large_body))):
            assert api.ok("GET", f"/v1/bills/{bill['id']}") == bill
            headers = {"Idempotency-Key": f"page-{n}"}
            assert api.ok("POST", "/v1/bills", json=sent, headers=headers) == bill
