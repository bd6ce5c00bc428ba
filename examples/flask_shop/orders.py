"""The shop's own order book in SQLite: orders, their lines, and their payment state.

Webhook deliveries are at-least-once and unordered, so status changes only move
forward (:data:`STATUS_RANK`): a late ``bill.paid`` can never undo ``repaid``.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

STATUS_RANK = {
    "pending": 0,
    "cancelled": 1,
    "paid": 2,
    "overdue": 3,
    "repaid": 4,
    "liquidated": 4,
}
"""How far along an order is; an update to a lower or equal rank is ignored."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    session_id TEXT UNIQUE,
    bill_id TEXT,
    customer TEXT,
    late_fee INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id TEXT NOT NULL REFERENCES orders(id),
    position INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_amount INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
);
CREATE INDEX IF NOT EXISTS orders_bill ON orders(bill_id);
"""


@dataclass(frozen=True)
class OrderLine:
    """One line of an order, priced when the order was placed."""

    sku: str
    name: str
    quantity: int
    unit_amount: int

    @property
    def subtotal(self) -> int:
        """``quantity * unit_amount`` in stroops."""
        return self.quantity * self.unit_amount


@dataclass(frozen=True)
class Order:
    """An order as stored; amounts in stroops."""

    id: str
    created: int
    updated: int
    amount: int
    status: str
    session_id: str | None
    bill_id: str | None
    customer: str | None
    late_fee: int
    lines: tuple[OrderLine, ...]


class OrderStore:
    """Orders in a SQLite file; safe to share between threads (a connection per call)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit mode with explicit BEGIN IMMEDIATE where a read decides a write,
        # so two webhook deliveries for one order cannot interleave.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        with closing(conn):
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn

    def create(self, lines: Sequence[OrderLine]) -> Order:
        """Record a new ``pending`` order for *lines*."""
        if not lines:
            raise ValueError("an order needs at least one line")
        order_id = f"ORD-{secrets.token_hex(4).upper()}"
        now = int(time.time())
        amount = sum(line.subtotal for line in lines)
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO orders (id, created, updated, amount, status) "
                "VALUES (?, ?, ?, ?, 'pending')",
                (order_id, now, now, amount),
            )
            conn.executemany(
                "INSERT INTO order_lines (order_id, position, sku, name, quantity, unit_amount) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (order_id, i, line.sku, line.name, line.quantity, line.unit_amount)
                    for i, line in enumerate(lines)
                ],
            )
            conn.execute("COMMIT")
        order = self.get(order_id)
        assert order is not None
        return order

    def attach_session(self, order_id: str, session_id: str) -> None:
        """Remember which checkout session pays for the order."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE orders SET session_id = ?, updated = ? WHERE id = ?",
                (session_id, int(time.time()), order_id),
            )

    def get(self, order_id: str) -> Order | None:
        """The order with this id, or ``None``."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
            return self._order(conn, row) if row else None

    def find(
        self,
        *,
        order_id: str | None = None,
        session_id: str | None = None,
        bill_id: str | None = None,
    ) -> Order | None:
        """The order matching the first of *order_id*, *session_id*, *bill_id* that matches."""
        with self._connect() as conn:
            for column, value in (
                ("id", order_id),
                ("session_id", session_id),
                ("bill_id", bill_id),
            ):
                if value:
                    row = conn.execute(
                        f"SELECT * FROM orders WHERE {column} = ?", (value,)
                    ).fetchone()
                    if row:
                        return self._order(conn, row)
        return None

    def list(self, limit: int = 100) -> list[Order]:
        """The newest orders first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM orders ORDER BY created DESC, rowid DESC LIMIT ?", (limit,)
            ).fetchall()
            return [self._order(conn, row) for row in rows]

    def advance(
        self,
        order_id: str,
        status: str,
        *,
        bill_id: str | None = None,
        customer: str | None = None,
        late_fee: int | None = None,
    ) -> bool:
        """Move the order forward to *status*; returns whether the status changed.

        Payment details (*bill_id*, *customer*) are filled in whenever still unknown,
        and *late_fee* is recorded together with the status it came with.
        """
        if status not in STATUS_RANK:
            raise ValueError(f"unknown order status {status!r}")
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return False
            moves = STATUS_RANK[status] > STATUS_RANK.get(row["status"], 0)
            now = int(time.time())
            conn.execute(
                "UPDATE orders SET bill_id = COALESCE(bill_id, ?), "
                "customer = COALESCE(customer, ?), updated = ? WHERE id = ?",
                (bill_id, customer, now, order_id),
            )
            if moves:
                conn.execute(
                    "UPDATE orders SET status = ?, late_fee = COALESCE(?, late_fee) WHERE id = ?",
                    (status, late_fee, order_id),
                )
            conn.execute("COMMIT")
            return moves

    @staticmethod
    def _order(conn: sqlite3.Connection, row: sqlite3.Row) -> Order:
        lines = conn.execute(
            "SELECT sku, name, quantity, unit_amount FROM order_lines "
            "WHERE order_id = ? ORDER BY position",
            (row["id"],),
        ).fetchall()
        return Order(
            id=row["id"],
            created=row["created"],
            updated=row["updated"],
            amount=row["amount"],
            status=row["status"],
            session_id=row["session_id"],
            bill_id=row["bill_id"],
            customer=row["customer"],
            late_fee=row["late_fee"],
            lines=tuple(OrderLine(**dict(line)) for line in lines),
        )
