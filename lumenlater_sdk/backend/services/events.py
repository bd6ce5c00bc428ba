"""API events: stored with the change that caused them, queued for webhooks in the same tx.

Chain-driven events (``bill.created``, ``bill.paid``, ``bill.repaid``,
``bill.liquidated``, ``checkout.session.completed``, and ``merchant.approved``,
``merchant.suspended``, ``merchant.rejected`` from bnpl_core's ``m_status``) are derived
one for one from the contracts' own events, whether they arrive in the :class:`TxRecord` of a call
the backend relayed or later through the relay's ``events_after``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..._version import API_VERSION
from .._ids import new_id
from .._json_text import compact
from ..chain import SCALE, ContractEvent
from ..db import Row, Tx
from ..delivery import enqueue
from ..store import bills as bill_store
from ..store import events as event_store
from ..store import ledger as ledger_store
from ..store import merchants as merchant_store
from ..store import sessions as session_store
from .context import RequestInfo, ServiceContext
from .objects import MERCHANT_STATUS, account_object, bill_object, late_fee, session_object

__all__ = ["emit", "ingest", "sweep_chain_events", "swept_cursor"]

_CURSOR_KEY = "chain_event_cursor"

MERCHANT_EVENTS = {
    "Approved": "merchant.approved",
    "Suspended": "merchant.suspended",
    "Rejected": "merchant.rejected",
}
"""The ``m_status`` new statuses that are API events, and their types."""


def emit(
    tx: Tx,
    *,
    merchant_id: str,
    event_type: str,
    obj: dict[str, Any],
    created: int,
    livemode: bool = False,
    previous: dict[str, Any] | None = None,
    request: RequestInfo | None = None,
    chain: dict[str, Any] | None = None,
) -> str:
    """Store one event (the exact JSON the API will return) and queue its deliveries."""
    event_id = new_id("evt")
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    payload: dict[str, Any] = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created,
        "api_version": API_VERSION,
        "livemode": livemode,
        "data": data,
        "request": request.as_event_field() if request else None,
        "chain": chain,
    }
    event_store.insert_event(
        tx,
        event_id=event_id,
        merchant_id=merchant_id,
        event_type=event_type,
        created=created,
        livemode=livemode,
        payload=compact(payload),
        object_id=obj.get("id"),
    )
    enqueue(tx, event_id=event_id, merchant_id=merchant_id, event_type=event_type)
    return event_id


def _bill_number(ev: ContractEvent) -> int | None:
    if isinstance(ev.data, dict) and isinstance(ev.data.get("bill_id"), int):
        return int(ev.data["bill_id"])
    last = ev.topics[-1] if ev.topics else None
    return last if isinstance(last, int) and not isinstance(last, bool) else None


def _chain_field(ev: ContractEvent) -> dict[str, Any]:
    return {
        "contract_id": ev.contract_id,
        "topic": ev.name,
        "ledger": ev.ledger,
        "tx_hash": ev.tx_hash,
    }


def _apply(
    ctx: ServiceContext, tx: Tx, ev: ContractEvent, request: RequestInfo | None, known: Row | None
) -> None:
    """Turn one bnpl_core event into the state change and API event(s) it stands for."""
    if ev.contract == "bnpl_core" and ev.name == "m_status":
        _merchant_status(ctx, tx, ev, request)
        return
    if ev.contract != "bnpl_core" or ev.name not in (
        "bill_new",
        "payment",
        "repayment",
        "liquidate",
    ):
        return
    number = _bill_number(ev)
    if number is None:
        return
    if known and known["bill_number"] == number and known["contract_id"] == ev.contract_id:
        row: Row | None = known
    else:
        row = bill_store.get_bill_by_number(tx, ev.contract_id, number)
    if row is None:
        return  # a bill this backend did not issue
    now = ev.timestamp
    c = ctx.constants
    chain = _chain_field(ev)
    common = {
        "merchant_id": row["merchant_id"],
        "created": now,
        "livemode": bool(row["livemode"]),
        "request": request,
        "chain": chain,
    }
    if ev.name == "bill_new":
        emit(tx, event_type="bill.created", obj=bill_object(row, now, c), **common)
        return
    if ev.name == "payment":
        _paid(ctx, tx, row, ev, common)
        return
    if ev.name == "repayment":
        owed = int(row["amount"]) + late_fee(int(row["amount"]), int(row["created"]), now, c)
        changes = {"status": "repaid", "repaid_at": now, "repaid_amount": owed}
        event_type = "bill.repaid"
    else:
        changes = {"status": "liquidated", "liquidated_at": now}
        event_type = "bill.liquidated"
    before = bill_object(row, now, c)
    bill_store.update_bill(tx, row["id"], **changes)
    after = bill_object({**row, **changes}, now, c)
    previous = {"status": before["status"], "amount_due": before["amount_due"]}
    emit(tx, event_type=event_type, obj=after, previous=previous, **common)


def _merchant_status(
    ctx: ServiceContext, tx: Tx, ev: ContractEvent, request: RequestInfo | None
) -> None:
    """``m_status``: the admin changed a merchant's status. A merchant of this backend
    whose recorded status differs gets it, and ``merchant.approved`` / ``.suspended`` /
    ``.rejected`` says so (a merchant made approved at once hears nothing: no change)."""
    data = ev.data if isinstance(ev.data, dict) else {}
    merchant = data.get("merchant", ev.topics[1] if len(ev.topics) > 1 else None)
    variant = str(data.get("new_status"))
    status = MERCHANT_STATUS.get(variant)
    if not isinstance(merchant, str) or status is None:
        return
    row = merchant_store.get_merchant(tx, merchant, lock=True)
    if row is None or row["status"] == status:
        return  # not this backend's merchant, or nothing changed
    merchant_store.set_status(tx, merchant, status)
    event_type = MERCHANT_EVENTS.get(variant)
    if event_type is None:
        return
    emit(
        tx,
        merchant_id=merchant,
        event_type=event_type,
        obj=account_object(row, status, ctx.constants.fee_rate_bps),
        created=ev.timestamp,
        livemode=bool(row["livemode"]),
        previous={"status": row["status"]},
        request=request,
        chain=_chain_field(ev),
    )


def _paid(ctx: ServiceContext, tx: Tx, row: Row, ev: ContractEvent, common: dict[str, Any]) -> None:
    now = ev.timestamp
    c = ctx.constants
    changes = {"status": "paid", "paid_at": now, "tx_hash": ev.tx_hash, "ledger": ev.ledger}
    bill_store.update_bill(tx, row["id"], **changes)
    after = bill_object({**row, **changes}, now, c)
    amount = int(row["amount"])
    fee = amount * c.merchant_fee_rate // SCALE
    ledger_store.insert_line(
        tx,
        {
            "id": new_id("txn"),
            "merchant_id": row["merchant_id"],
            "type": "payment",
            "bill_id": row["id"],
            "amount": amount,
            "fee": fee,
            "net": amount - fee,
            "created": now,
            "tx_hash": ev.tx_hash,
        },
    )
    emit(
        tx,
        event_type="bill.paid",
        obj=after,
        previous={"status": "created", "paid_at": None},
        **common,
    )
    if row["session_id"]:
        session = session_store.get_session_any(tx, row["session_id"], lock=True)
        if session is not None and session["status"] == "open":
            s_changes = {
                "status": "complete",
                "payment_status": "paid",
                "completed_at": now,
                "customer": row["customer"],
                "bill_id": row["id"],
            }
            session_store.update_session(tx, session["id"], **s_changes)
            obj = session_object({**session, **s_changes}, ctx.config.base_url)
            emit(
                tx,
                event_type="checkout.session.completed",
                obj=obj,
                previous={"status": "open", "payment_status": "unpaid"},
                **common,
            )


def ingest(
    ctx: ServiceContext,
    tx: Tx,
    events: Iterable[ContractEvent],
    request: RequestInfo | None,
    *,
    known: Row | None = None,
    fresh: bool = False,
) -> None:
    """Apply contract events (each at most once, however often it is seen).

    *known* is a bill row the caller has just written (or read locked) in *tx*, so it
    need not be read back. *fresh* events were made in *tx* itself
    (``TxRecord.fresh``): none can have been applied yet, so they are marked seen in
    one statement that needs no answer from the database.
    """
    if fresh:
        events = list(events)
        event_store.mark_new_chain_events_seen(tx, [ev.cursor for ev in events])
    for ev in events:
        if not fresh and not event_store.mark_chain_event_seen(tx, ev.cursor):
            continue
        _apply(ctx, tx, ev, request, known)


def swept_cursor(tx: Tx) -> int:
    """The highest contract-event cursor :func:`sweep_chain_events` has gone past: the
    sweep never asks for an event at or below it again."""
    return int(event_store.get_state(tx, _CURSOR_KEY) or 0)


def sweep_chain_events(ctx: ServiceContext, *, batch: int = 500) -> int:
    """Catch up with contract events not seen inline (calls made outside this API)."""
    total = 0
    while True:
        with ctx.db.transaction() as tx:
            start = int(event_store.get_state(tx, _CURSOR_KEY, lock=True) or 0)
            # The API's own calls mark their events as they make them, so the sweep mostly
            # finds a run of marked events: it passes over them without reading them back
            # (decoding 500 events took 13 ms of a busy server's CPU, every tick).
            cursor = event_store.seen_run_end(tx, start, span=batch * 20)
            found = ctx.chain.events_after(cursor, limit=batch, tx=tx)
            if not found:
                if cursor > start:
                    event_store.set_state(tx, _CURSOR_KEY, str(cursor))
                return total + cursor - start
            # Nearly every event was applied inline by the call that made it: skip those
            # with one query instead of trying to mark each one seen again.
            seen = event_store.seen_chain_events(tx, found[0].cursor, found[-1].cursor)
            ingest(ctx, tx, [e for e in found if e.cursor not in seen], None)
            event_store.set_state(tx, _CURSOR_KEY, str(max(e.cursor for e in found)))
        total += cursor - start + len(found)
        if len(found) < batch:
            return total
