"""The ``bills`` table: the merchant's view of on-chain bills.

Statuses that time derives (``expired``, ``overdue``) depend on the protocol's
deadlines, which the chain defines: callers pass them in seconds (``bill_duration``:
an unpaid bill expires after it; ``grace_period``: a paid one is overdue after it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..db import Row, Tx
from ..paging import Page, PageRequest
from . import rollups
from ._pagination import Branch, fetch_page, fetch_union_page
from ._rows import insert_row, update_row

__all__ = [
    "delete_authorization",
    "due_for_expiry",
    "due_for_overdue",
    "get_authorization",
    "get_bill",
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


def get_bill(tx: Tx, merchant_id: str, bill_id: str, *, lock: bool = False) -> Row | None:
    """One of the merchant's bills (another merchant's id finds nothing)."""
    return tx.fetchone(
        "SELECT * FROM bills WHERE id = ? AND merchant_id = ?" + (tx.for_update if lock else ""),
        (bill_id, merchant_id),
    )


def get_bill_by_number(tx: Tx, contract_id: str, bill_number: int) -> Row | None:
    """The bill the contract numbers *bill_number*."""
    return tx.fetchone(
        "SELECT * FROM bills WHERE contract_id = ? AND bill_number = ?" + tx.for_update,
        (contract_id, bill_number),
    )


def _status_branches(status: str, now: int, bill_duration: int, grace_period: int) -> list[Branch]:
    """Conditions for *status* as at *now*, ORed: time turns an unpaid bill whose life
    (*bill_duration*) ended into ``expired``, a paid one past *grace_period* into
    ``overdue``. ``created`` is compared with a bound computed here (``created <
    now - duration``, not ``created + duration < now``); each branch is one equality on
    ``status``, read along ``bills_merchant_status`` in ``id`` order. The unary ``+``
    (SQLite's documented way, also valid on PostgreSQL) keeps ``created`` a filter there:
    otherwise SQLite drives the scan by ``bills_status_created`` (the time sweeps'
    index) and sorts every match by ``id``. The filter passes over bills the time sweep
    has not moved on yet."""
    alive = now - bill_duration  # unpaid bills created before this have expired
    in_grace = now - grace_period  # paid bills created before this are overdue
    if status in ("created", "requires_authorization"):
        return [(["status = ?", "+created >= ?"], [status, alive])]
    if status == "expired":
        return [
            (["status = 'expired'"], []),
            (["status = 'created'", "+created < ?"], [alive]),
            (["status = 'requires_authorization'", "+created < ?"], [alive]),
        ]
    if status == "paid":
        return [(["status = 'paid'", "+created >= ?"], [in_grace])]
    if status == "overdue":
        return [(["status = 'paid'", "+created < ?"], [in_grace])]
    return [(["status = ?"], [status])]


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
    """The merchant's bills, newest first, filtered (derived statuses as at *now*)."""
    where: list[str] = ["merchant_id = ?"]
    params: list[Any] = [merchant_id]
    for column, value in (("customer", customer), ("order_id", order_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if created_gte is not None:
        where.append("created >= ?")
        params.append(created_gte)
    if created_lte is not None:
        where.append("created <= ?")
        params.append(created_lte)
    if not status:
        return fetch_page(tx, "bills", where, params, page)
    branches = _status_branches(status, now, bill_duration, grace_period)
    if len(branches) == 1:
        clauses, args = branches[0]
        return fetch_page(tx, "bills", [*where, *clauses], [*params, *args], page)
    return fetch_union_page(tx, "bills", where, params, branches, page)


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
