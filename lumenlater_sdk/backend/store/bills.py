"""The ``bills`` table: the merchant's view of on-chain bills.

Statuses that time derives (``expired``, ``overdue``) depend on the protocol's
deadlines, which the chain defines: callers pass them in seconds (``bill_duration``:
an unpaid bill expires after it; ``grace_period``: a paid one is overdue after it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..db import Row, Tx
from ..paging import Page, PageRequest
from . import rollups
from ._created_ranges import BILLS, created_page, touched
from ._pagination import Branch, fetch_ids, fetch_page, fetch_union_page
from ._rows import insert_row, update_row

__all__ = [
    "delete_authorization",
    "due_for_expiry",
    "due_for_overdue",
    "get_authorization",
    "get_bill",
    "get_bill_ahead",
    "get_bill_by_number",
    "insert_authorization",
    "insert_bill",
    "list_bills",
    "others_timed",
    "update_bill",
]


def insert_bill(tx: Tx, row: Row) -> None:
    """Insert a bill row (a dict of column → value)."""
    insert_row(tx, "bills", row)
    rollups.inserted(tx, "bills", row["id"])
    touched(tx, BILLS, row["id"])


def insert_authorization(tx: Tx, row: Row) -> None:
    """Keep the unsigned entry a ``requires_authorization`` bill waits on."""
    insert_row(tx, "bill_authorizations", row)


def get_authorization(tx: Tx, bill_id: str) -> Row | None:
    """The entry bill *bill_id* waits on, or ``None``."""
    return tx.fetchone("SELECT * FROM bill_authorizations WHERE bill_id = ?", (bill_id,))


def delete_authorization(tx: Tx, bill_id: str) -> None:
    """Drop the bill's unsigned entry: spent (authorized), or never usable now."""
    tx.execute("DELETE FROM bill_authorizations WHERE bill_id = ?", (bill_id,))


def update_bill(tx: Tx, bill_id: str, **changes: Any) -> None:
    """Set some columns of one bill."""
    rollups.changing(tx, "bills", bill_id, changes)
    update_row(tx, "bills", bill_id, changes)
    if "created" in changes or "merchant_id" in changes:
        touched(tx, BILLS, bill_id)


def get_bill(tx: Tx, merchant_id: str, bill_id: str, *, lock: bool = False) -> Row | None:
    """One of the merchant's bills (another merchant's id finds nothing)."""
    return tx.fetchone(
        "SELECT * FROM bills WHERE id = ? AND merchant_id = ?" + (tx.for_update if lock else ""),
        (bill_id, merchant_id),
    )


def get_bill_ahead(tx: Tx, merchant_id: str, bill_id: str) -> Callable[[], Row | None]:
    """:func:`get_bill` sent ahead (:meth:`~..db.Tx.fetch_ahead`): call the result for
    the row, once the statements that should share its round trip were run."""
    rows = tx.fetch_ahead(
        "SELECT * FROM bills WHERE id = ? AND merchant_id = ?", (bill_id, merchant_id)
    )
    return lambda: next(iter(rows()), None)


def get_bill_by_number(tx: Tx, contract_id: str, bill_number: int) -> Row | None:
    """The bill the contract numbers *bill_number*."""
    return tx.fetchone(
        "SELECT * FROM bills WHERE contract_id = ? AND bill_number = ?" + tx.for_update,
        (contract_id, bill_number),
    )


def _status_branches(
    status: str, now: int, bill_duration: int, grace_period: int
) -> tuple[list[Branch], Branch | None]:
    """Conditions for *status* as at *now*: branches, ORed, each read along an index
    in ``id`` order, and one more condition (or ``None``) whose few matches are read
    off an index in another order (:func:`~._pagination.fetch_ids`).

    Time turns an unpaid bill whose life (*bill_duration*) ended into ``expired``, a
    paid one past *grace_period* into ``overdue``. ``created`` is compared with a bound
    computed here (``created < now - duration``, not ``created + duration < now``). The
    unary ``+`` (SQLite's documented way, also valid on PostgreSQL) keeps ``created`` a
    filter where the read is in id order: otherwise SQLite drives the scan by
    ``bills_status_created`` (the time sweeps' index) and sorts every match by ``id``.
    The filter passes over bills the time sweep has not moved on yet.

    Paid bills split on ``overdue_notified``, which the overdue sweep
    (:func:`due_for_overdue`) sets on a paid bill once it is past its grace period and
    which nothing clears while the bill stays paid: an announced bill is overdue for
    good, as long as *now* is not earlier than the sweep's time (ledger time only moves
    on). So ``overdue`` is the announced ones, read in id order along
    ``bills_merchant_paid`` however many there are, and the sweep's backlog (past the
    grace period, not announced yet) read along ``bills_merchant_unswept`` (on
    PostgreSQL ``bills_merchant_paid_created``, migration 23): as many as the sweep has
    still to announce. ``paid`` (in its grace period) reads the
    unannounced ones along ``bills_merchant_paid``, passing over that backlog only, not
    over every overdue bill."""
    alive = now - bill_duration  # unpaid bills created before this have expired
    in_grace = now - grace_period  # paid bills created before this are overdue
    if status in ("created", "requires_authorization"):
        return [(["status = ?", "+created >= ?"], [status, alive])], None
    if status == "expired":
        return [
            (["status = 'expired'"], []),
            (["status = 'created'", "+created < ?"], [alive]),
            (["status = 'requires_authorization'", "+created < ?"], [alive]),
        ], None
    if status == "paid":
        return [(["status = 'paid'", "overdue_notified = 0", "+created >= ?"], [in_grace])], None
    if status == "overdue":
        backlog = (["status = 'paid'", "overdue_notified = 0", "created < ?"], [in_grace])
        return [(["status = 'paid'", "overdue_notified = 1"], [])], backlog
    return [(["status = ?"], [status])], None


def list_bills(
    tx: Tx,
    merchant_id: str,
    page: PageRequest,
    *,
    now: int,
    bill_duration: int,
    grace_period: int,
    status: str | None = None,
    customer: str | None = None,
    order_id: str | None = None,
    created_gte: int | None = None,
    created_lte: int | None = None,
) -> Page:
    """The merchant's bills, newest first, filtered (derived statuses as at *now*); a
    created range as :mod:`._created_ranges` reads it."""
    where: list[str] = ["merchant_id = ?"]
    params: list[Any] = [merchant_id]
    for column, value in (("customer", customer), ("order_id", order_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    branches, unordered = (
        _status_branches(status, now, bill_duration, grace_period) if status else ([], None)
    )
    if created_gte is not None or created_lte is not None:
        return created_page(
            tx, BILLS, where, params, branches, unordered, page, created_gte, created_lte
        )
    if unordered is not None:
        clauses, args = unordered
        listed = fetch_ids(tx, "bills", [*where, *clauses], [*params, *args], page)
        return fetch_union_page(tx, "bills", where, params, branches, page, listed=listed)
    if len(branches) > 1:
        return fetch_union_page(tx, "bills", where, params, branches, page)
    for clauses, args in branches:
        where += clauses
        params += args
    return fetch_page(tx, "bills", where, params, page)


def _due(tx: Tx, condition: str, params: Sequence[Any], limit: int) -> list[Row]:
    # In (created, id) order, the order of the indexes these conditions match
    # (bills_status_created, bills_overdue_due): the oldest due bills first, read off
    # the index without sorting every due one.
    return tx.fetchall(
        f"SELECT * FROM bills WHERE {condition} ORDER BY created, id LIMIT ?" + tx.skip_locked,
        [*params, limit],
    )


def others_timed(
    tx: Tx, merchant_id: str, until: int, bill_duration: int, grace_period: int
) -> list[Row]:
    """Other merchants' bills whose state ledger time changes before *until*: unpaid
    ones (on chain or awaiting authorization) past their life by then, paid ones past
    their interest-free period."""
    return tx.fetchall(
        "SELECT * FROM bills WHERE merchant_id <> ? AND"
        " ((status IN ('created', 'requires_authorization') AND created < ?)"
        " OR (status = 'paid' AND created < ?))",
        (merchant_id, until - bill_duration, until - grace_period),
    )


def due_for_expiry(tx: Tx, now: int, bill_duration: int, limit: int = 200) -> list[Row]:
    """Unpaid bills past *bill_duration* (seconds) that are not marked expired yet: on
    chain (``created``) first, then ones whose merchant never authorized them (at most
    *limit* in all)."""
    alive = now - bill_duration
    # One query per status, each read in index order: an IN over both would make
    # SQLite merge two ranges of bills_status_created and sort them.
    due = _due(tx, "status = 'created' AND created < ?", (alive,), limit)
    if len(due) < limit:
        due += _due(
            tx, "status = 'requires_authorization' AND created < ?", (alive,), limit - len(due)
        )
    return due


def due_for_overdue(tx: Tx, now: int, grace_period: int, limit: int = 200) -> list[Row]:
    """Paid bills past *grace_period* (seconds) that have not been announced overdue."""
    return _due(
        tx,
        "status = 'paid' AND overdue_notified = 0 AND created < ?",
        (now - grace_period,),
        limit,
    )
