"""The soroban gateway's own tables (component ``soroban_gateway``), all ``soroban_``.

``soroban_submissions`` records every transaction *before* it is sent (hash,
envelope, the last close time it may apply at) and how it settled, so a timeout
never leads to a second submission and a restart reconciles what was in flight.
``soroban_events`` holds the contract events read from ``getEvents``, each given a
local, strictly increasing ``cursor`` when first seen (the RPC's own ids are
strings, unique per event, and kept to de-duplicate). ``soroban_sync`` is one row:
where ``getEvents`` paging resumes. ``soroban_sandbox_accounts`` keeps the sealed
seeds of the accounts that sandbox powers over RPC made (``_sandbox.py``).

The gateway writes these through its own transactions on its own
:class:`~lumenlater_sdk.backend.db.Database`, never through a caller's: a chain
call is not transactional with the caller's rows, and its record must survive
the caller rolling back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...db import Database, Migration, Row, Tx, migrate

__all__ = ["COMPONENT", "MIGRATIONS", "Journal", "StoredEvent", "Submission"]

COMPONENT = "soroban_gateway"

MIGRATIONS = [
    Migration(
        1,
        "submissions, events and the getEvents cursor of the soroban gateway",
        "CREATE TABLE soroban_submissions ("
        " hash TEXT PRIMARY KEY,"
        " contract TEXT NOT NULL,"
        " function TEXT NOT NULL,"
        " envelope TEXT NOT NULL,"
        " max_time BIGINT NOT NULL,"
        " status TEXT NOT NULL,"
        " detail TEXT NOT NULL,"
        " ledger BIGINT NOT NULL);\n"
        "CREATE TABLE soroban_events ("
        " cursor BIGINT PRIMARY KEY,"
        " event_id TEXT NOT NULL UNIQUE,"
        " ledger BIGINT NOT NULL,"
        " tx_hash TEXT NOT NULL,"
        " contract TEXT NOT NULL,"
        " contract_id TEXT NOT NULL,"
        " topics TEXT NOT NULL,"
        " data TEXT NOT NULL,"
        " timestamp BIGINT NOT NULL);\n"
        "CREATE INDEX soroban_events_tx ON soroban_events (tx_hash);\n"
        "CREATE TABLE soroban_sync ("
        " id INTEGER PRIMARY KEY,"
        " rpc_cursor TEXT,"
        " start_ledger BIGINT NOT NULL)",
    ),
    Migration(
        2,
        "the accounts of sandbox powers over RPC: built-in wallets and the liquidator",
        "CREATE TABLE soroban_sandbox_accounts ("
        " name TEXT PRIMARY KEY,"
        " address TEXT NOT NULL,"
        " seed_encrypted TEXT NOT NULL)",
    ),
    Migration(
        3,
        "the operation a submission carries out (a retried request finds its transaction)",
        "ALTER TABLE soroban_submissions ADD COLUMN operation TEXT;\n"
        "CREATE INDEX soroban_submissions_operation ON soroban_submissions (operation)"
        " WHERE operation IS NOT NULL",
    ),
]

SENT = "sent"
"""Handed to ``sendTransaction``; its outcome not known yet."""
SETTLED = ("applied", "failed", "expired", "refused")
"""``applied``: SUCCESS; ``failed``: FAILED on chain; ``expired``: never found and past
its time bounds, so it can no longer apply; ``refused``: ``sendTransaction`` said ERROR."""


@dataclass(frozen=True)
class Submission:
    """One row of ``soroban_submissions``."""

    hash: str
    contract: str
    function: str
    envelope: str
    max_time: int
    status: str
    operation: str | None = None
    """The caller's name for what the transaction does (see ``SorobanGateway.invoke``)."""


@dataclass(frozen=True)
class StoredEvent:
    """One row of ``soroban_events``: topics and data as base64 ScVals, ``|``-joined topics."""

    cursor: int
    event_id: str
    ledger: int
    tx_hash: str
    contract: str
    contract_id: str
    topics: tuple[str, ...]
    data: str
    timestamp: int


class Journal:
    """SQL over the gateway's tables, each method its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        migrate(db, COMPONENT, MIGRATIONS)

    # --- sandbox accounts ---------------------------------------------------------------
    def sandbox_account(self, name: str) -> tuple[str, str] | None:
        """``(address, sealed seed)`` of the sandbox account *name*, or ``None``."""
        with self.db.transaction(write=False) as t:
            row = t.fetchone(
                "SELECT address, seed_encrypted FROM soroban_sandbox_accounts WHERE name = ?",
                (name,),
            )
        return None if row is None else (row["address"], row["seed_encrypted"])

    def add_sandbox_account(self, name: str, address: str, sealed_seed: str) -> None:
        """Keep a sandbox account; if *name* is taken already, the first one stays."""
        with self.db.transaction() as t:
            t.execute(
                "INSERT INTO soroban_sandbox_accounts (name, address, seed_encrypted)"
                " VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                (name, address, sealed_seed),
            )

    # --- submissions ---------------------------------------------------------------------
    def record_sent(self, s: Submission, *, again: bool = False) -> None:
        """Before ``sendTransaction``: the envelope that is about to leave. *again*: the
        same envelope was recorded before and refused or expired; it is sent anew."""
        with self.db.transaction() as t:
            if again:
                t.send(
                    "UPDATE soroban_submissions SET status = ?, detail = '', ledger = 0,"
                    " max_time = ?, operation = ? WHERE hash = ?",
                    (SENT, s.max_time, s.operation, s.hash),
                )
                return
            t.send(
                "INSERT INTO soroban_submissions (hash, contract, function, envelope, max_time,"
                " status, detail, ledger, operation) VALUES (?, ?, ?, ?, ?, ?, '', 0, ?)",
                (s.hash, s.contract, s.function, s.envelope, s.max_time, SENT, s.operation),
            )

    def submission(self, tx_hash: str) -> Submission | None:
        """The submission recorded under *tx_hash*, or ``None``."""
        found = self._submissions("WHERE hash = ?", (tx_hash,))
        return found[0] if found else None

    def last_of(self, operation: str, *, since: int) -> Submission | None:
        """The latest submission recorded for *operation* that could apply at or after
        ledger time *since* (its ``max_time``), or ``None``."""
        found = self._submissions(
            "WHERE operation = ? AND max_time >= ?", (operation, since), newest_first=True
        )
        return found[0] if found else None

    def settle(self, tx_hash: str, status: str, *, detail: str = "", ledger: int = 0) -> None:
        """Record how a submission ended (one of :data:`SETTLED`)."""
        if status not in SETTLED:
            raise ValueError(f"unknown settlement {status!r}")
        with self.db.transaction() as t:
            t.send(
                "UPDATE soroban_submissions SET status = ?, detail = ?, ledger = ? WHERE hash = ?",
                (status, detail, ledger, tx_hash),
            )

    def submissions(self, *, status: str | None = None) -> list[Submission]:
        """Every recorded submission (or those in *status*), oldest first."""
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        return self._submissions(where, params)

    def _submissions(
        self, where: str, params: Sequence[object], *, newest_first: bool = False
    ) -> list[Submission]:
        order = "max_time DESC, hash DESC" if newest_first else "max_time, hash"
        with self.db.transaction(write=False) as t:
            rows = t.fetchall(
                "SELECT hash, contract, function, envelope, max_time, status, operation"
                f" FROM soroban_submissions {where} ORDER BY {order}",
                params,
            )
        return [
            Submission(
                r["hash"],
                r["contract"],
                r["function"],
                r["envelope"],
                int(r["max_time"]),
                r["status"],
                r["operation"],
            )
            for r in rows
        ]

    # --- events --------------------------------------------------------------------------
    def sync_position(self, t: Tx) -> tuple[str | None, int | None]:
        """``(rpc_cursor, start_ledger)`` under the row's lock; ``(None, None)`` before the
        first sync."""
        row = t.fetchone(
            "SELECT rpc_cursor, start_ledger FROM soroban_sync WHERE id = 1" + t.for_update
        )
        if row is None:
            return None, None
        return row["rpc_cursor"], int(row["start_ledger"])

    def save_position(self, t: Tx, rpc_cursor: str | None, start_ledger: int) -> None:
        """Where the next ``getEvents`` resumes."""
        if t.execute(
            "UPDATE soroban_sync SET rpc_cursor = ?, start_ledger = ? WHERE id = 1",
            (rpc_cursor, start_ledger),
        ):
            return
        t.send(
            "INSERT INTO soroban_sync (id, rpc_cursor, start_ledger) VALUES (1, ?, ?)",
            (rpc_cursor, start_ledger),
        )

    def add_events(self, t: Tx, events: Sequence[StoredEvent]) -> int:
        """Store the events not stored yet (by RPC id), each with the next cursor; how many."""
        added = 0
        last = int(t.scalar("SELECT COALESCE(MAX(cursor), 0) FROM soroban_events") or 0)
        for e in events:
            if t.fetchone("SELECT cursor FROM soroban_events WHERE event_id = ?", (e.event_id,)):
                continue
            last += 1
            added += 1
            t.send(
                "INSERT INTO soroban_events (cursor, event_id, ledger, tx_hash, contract,"
                " contract_id, topics, data, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    last,
                    e.event_id,
                    e.ledger,
                    e.tx_hash,
                    e.contract,
                    e.contract_id,
                    "|".join(e.topics),
                    e.data,
                    e.timestamp,
                ),
            )
        return added

    def forget_events(self, through: int, limit: int) -> int:
        """Delete up to *limit* stored events with a cursor at most *through*, lowest
        first, in one short transaction; how many went. The newest event always stays:
        :meth:`add_events` numbers the next one after it."""
        with self.db.transaction() as t:
            newest = int(t.scalar("SELECT COALESCE(MAX(cursor), 0) FROM soroban_events") or 0)
            return t.execute(
                "DELETE FROM soroban_events WHERE cursor IN (SELECT cursor FROM soroban_events"
                " WHERE cursor <= ? ORDER BY cursor LIMIT ?)",
                (min(through, newest - 1), limit),
            )

    def events_after(self, cursor: int, limit: int) -> list[StoredEvent]:
        """Stored events with a cursor above *cursor*, oldest first."""
        return self._events("WHERE cursor > ? ORDER BY cursor LIMIT ?", (cursor, limit))

    def events_of(self, tx_hash: str) -> list[StoredEvent]:
        """The stored events of one transaction, in order."""
        return self._events("WHERE tx_hash = ? ORDER BY cursor", (tx_hash,))

    def _events(self, where: str, params: Sequence[object]) -> list[StoredEvent]:
        with self.db.transaction(write=False) as t:
            rows = t.fetchall(
                "SELECT cursor, event_id, ledger, tx_hash, contract, contract_id, topics, data,"
                f" timestamp FROM soroban_events {where}",
                params,
            )
        return [_stored(r) for r in rows]


def _stored(r: Row) -> StoredEvent:
    return StoredEvent(
        cursor=int(r["cursor"]),
        event_id=r["event_id"],
        ledger=int(r["ledger"]),
        tx_hash=r["tx_hash"],
        contract=r["contract"],
        contract_id=r["contract_id"],
        topics=tuple(str(r["topics"]).split("|")),
        data=r["data"],
        timestamp=int(r["timestamp"]),
    )
