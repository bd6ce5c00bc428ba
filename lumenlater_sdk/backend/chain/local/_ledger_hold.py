"""What one database transaction holds of the local ledger: its locked row, and the
calls' writes, made once just before the COMMIT.

Every state-changing call locks the single ``chain_ledger`` row (``SELECT … FOR UPDATE``
on PostgreSQL; on SQLite the write transaction holds the whole database) and keeps
the lock until its transaction ends: no other writer can change the ledger meanwhile.
So a transaction reads the row once. From the lock on, the row lives here, one
:class:`LedgerHold` per transaction (:meth:`Tx.deferred`), and every later call, clock
read and ledger read of that transaction answers from it.

Nobody else can see a call's writes before its transaction commits either, so they
wait here too: the contract state it set, its events, its ``chain_transactions`` row
and the ledger row's new values. Just before the COMMIT they are written in a few
multi-row statements (:meth:`LedgerHold.flush`), whatever the number of calls: the
tables end exactly as per-call writes would have left them. The transaction's own
reads see them first: contract state through :class:`~._storage.Storage` (which looks
here before the cache and the database), and a read of the event or transaction
tables writes them out before it runs (:meth:`LedgerHold.flush`, by the gateway).

Calls that may be refused part-way (a funding of several calls, say) run inside
:meth:`LedgerHold.mark`/:meth:`LedgerHold.restore`, which undo in memory what they
left here. A savepoint set through :meth:`Tx.savepoint` (the gateway's own, a keyed
request's) sends what was kept before it is set, and a rollback to it
(:meth:`Tx.rollback_to`) drops what was kept since: the hold follows the database.
A savepoint set in plain SQL would not be followed. A transaction wrapped in another
:class:`Tx` (a ``RecordingTx``) has a hold of its own, flushed only when the
wrapper's deferred writes are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..._json_text import compact
from ...db import Row, Tx, json_rows
from ._json import dumps

__all__ = ["COLUMNS", "LedgerHold", "held"]

_KEY = "chain_ledger"
COLUMNS = "sequence, event_id, clock_offset, last_time, genesis, state_version"
"""The columns of the row the engine reads."""
_STATE_BATCH = 200  # rows per multi-row INSERT, far below SQLite's parameter limit
_ROW_BATCH = 100  # 8 parameters a row
_STATE = ("chain_state (contract, key, value)", ("text", "text", "text"))
_EVENTS = (
    "chain_events (event_id, ledger, tx_hash, contract, contract_id, topics, data, timestamp)",
    ("bigint", "bigint", "text", "text", "text", "text", "text", "bigint"),
)
_TRANSACTIONS = (
    "chain_transactions (ledger, hash, contract, function, args, signer, timestamp, result)",
    ("bigint", "text", "text", "text", "text", "text", "bigint", "text"),
)
_UPSERT = " ON CONFLICT (contract, key) DO UPDATE SET value = excluded.value"
_UNSET: Any = object()

Key = tuple[str, str]
Mark = tuple[Row | None, bool, int, int, int]


class LedgerHold:
    """One transaction's locked ``chain_ledger`` row (``row``: ``None`` until locked) and
    the writes of its calls not yet sent (``state``: contract state by key)."""

    def __init__(self) -> None:
        self.row: Row | None = None
        self.state: dict[Key, Any] = {}
        self._changed = False
        self._events: list[Sequence[Any]] = []
        self._transactions: list[Sequence[Any]] = []
        self._marks = 0
        self._undo: list[tuple[Key, Any]] = []  # (key, value before) while marked
        self._saves: list[tuple[str, Row | None, bool]] = []  # savepoints set, oldest first

    def change(self, **values: Any) -> Row:
        """Set columns of the held row (a new dict: rows handed out earlier stay as they
        were); the new row."""
        if self.row is None:
            raise RuntimeError("the chain ledger row is changed only once locked")
        self.row = {**self.row, **values}
        self._changed = True
        return self.row

    def record(
        self,
        state: Mapping[Key, Any],
        events: Sequence[Sequence[Any]],
        transaction: Sequence[Any],
        **ledger: Any,
    ) -> None:
        """Keep one applied call: the state it set (values never mutated afterwards),
        its ``chain_events`` and ``chain_transactions`` rows, the ledger's new values."""
        if self._marks:
            self._undo += [(k, self.state.get(k, _UNSET)) for k in state]
        self.state.update(state)
        self._events += events
        self._transactions.append(transaction)
        self.change(**ledger)

    # --- undoing ---------------------------------------------------------------------
    def mark(self) -> Mark:
        """Start a span :meth:`restore` can undo in memory (nothing may be flushed in it)."""
        self._marks += 1
        return (
            self.row,
            self._changed,
            len(self._events),
            len(self._transactions),
            len(self._undo),
        )

    def restore(self, mark: Mark) -> None:
        """Undo what was kept since *mark*."""
        row, changed, events, transactions, undo = mark
        while len(self._undo) > undo:
            key, before = self._undo.pop()
            if before is _UNSET:
                self.state.pop(key, None)
            else:
                self.state[key] = before
        del self._events[events:], self._transactions[transactions:]
        self.row, self._changed = row, changed

    def unmark(self) -> None:
        """End the innermost span."""
        self._marks -= 1
        if not self._marks:
            self._undo.clear()

    # Tx.savepoint / rollback_to / release call these.
    def savepoint(self, tx: Tx, name: str) -> None:
        """Before ``SAVEPOINT name``: send what was kept (so a rollback to it undoes what
        comes after in the database and here alike) and remember the row."""
        self.flush(tx)
        self._saves.append((name, self.row, self._changed))

    def rolled_back(self, name: str) -> None:
        """After ``ROLLBACK TO SAVEPOINT name``: what was kept since is gone (and sent
        since, undone by the database), the row as it was then (a lock taken since is
        gone with it on PostgreSQL: the next call takes it again). A savepoint this hold
        never saw was set before it existed: then everything it knows goes."""
        self.state.clear()
        del self._events[:], self._transactions[:], self._undo[:]
        for i in range(len(self._saves) - 1, -1, -1):
            if self._saves[i][0] == name:
                _, self.row, self._changed = self._saves[i]
                del self._saves[i + 1 :]
                return
        self.row, self._changed = None, False
        self._saves.clear()

    def released(self, name: str) -> None:
        """After ``RELEASE SAVEPOINT name``: it and those set after it are gone."""
        for i in range(len(self._saves) - 1, -1, -1):
            if self._saves[i][0] == name:
                del self._saves[i:]
                return

    # --- writing -----------------------------------------------------------------------
    def flush(self, tx: Tx) -> None:
        """Send everything kept (called before COMMIT, and before reads of the tables)."""
        if self._marks:
            raise RuntimeError("chain writes flushed inside a span that may be undone")
        state = sorted(self.state.items())
        _insert(tx, _STATE, [(c, k, dumps(v)) for (c, k), v in state], _STATE_BATCH, _UPSERT)
        self.state.clear()
        _insert(tx, _EVENTS, self._events, _ROW_BATCH)
        _insert(tx, _TRANSACTIONS, self._transactions, _ROW_BATCH)
        row = self.row
        if row is not None and self._changed:
            tx.send(
                "UPDATE chain_ledger SET sequence = ?, event_id = ?, clock_offset = ?,"
                " last_time = ?, genesis = ?, state_version = ? WHERE id = 1",
                (
                    row["sequence"],
                    row["event_id"],
                    row["clock_offset"],
                    row["last_time"],
                    row["genesis"],
                    row["state_version"],
                ),
            )
            self._changed = False


def _insert(
    tx: Tx,
    into: tuple[str, tuple[str, ...]],
    rows: list[Sequence[Any]],
    batch: int,
    suffix: str = "",
) -> None:
    """Send *rows* into *into* (``(table (columns), their PostgreSQL types)``); clear them.

    SQLite: multi-row VALUES, *batch* rows a statement. PostgreSQL: every row in one
    statement, as one jsonb array parameter (:func:`json_rows`): an 85-row chain_events
    INSERT cost 3.8 ms of client CPU with a parameter per value, 0.45 ms as jsonb. On the
    history fill, ~110 parameters a bill went through psycopg's rewrite before.
    """
    if not rows:
        return
    table, types = into
    if tx.dialect == "postgresql":
        tx.send(f"INSERT INTO {table} " + json_rows(types) + suffix, (compact(rows),))
    else:
        marks = "(" + ", ".join(["?"] * len(types)) + ")"
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            tx.send(
                f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(chunk)) + suffix,
                [value for row in chunk for value in row],
            )
    rows.clear()


def held(tx: Tx) -> LedgerHold:
    """*tx*'s hold (made empty on first use)."""
    return tx.deferred(_KEY, LedgerHold)
