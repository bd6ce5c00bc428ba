"""Ledger time and everything it triggers: bill and session expiry, overdue bills.

A sandbox ledger has one clock, shared by every merchant on it, and the contracts
compute expiry, late fees and liquidation from it: one merchant's time cannot differ
from another's for anything on chain. So a merchant's clock advance
(:func:`advance`) keeps everyone else where they were as far as that can be true:

* other merchants' open checkout sessions (an API object, off chain) keep the time they
  had left: their ``expires_at`` moves on by the same seconds;
* a move that would change another merchant's bills on chain (expire an unpaid one,
  end a paid one's interest-free period, add a day of late fee, make it liquidatable)
  is refused with ``clock_affects_others``, naming the most that can be advanced now.

Live-mode objects always belong to another merchant than a test key's, so a test
clock never moves time for them either.
"""

from __future__ import annotations

from typing import Any

from ..chain import SECONDS_PER_DAY, ProtocolConstants
from ..db import Row, Tx
from ..store import bills as bill_store
from ..store import sessions as session_store
from . import events
from .checkout import expire_due
from .context import ServiceContext
from .errors import InvalidRequest
from .objects import bill_object

__all__ = ["advance", "check_advance", "clock", "run_time_triggers"]

_MAX_SECONDS = 10 * 365 * 86_400


def clock(ctx: ServiceContext) -> dict[str, Any]:
    """``GET /v1/test_helpers/clock``."""
    with ctx.db.transaction(write=False) as tx:
        return {"object": "test_helpers.clock", "now": ctx.chain.now(tx)}


def run_time_triggers(ctx: ServiceContext) -> int:
    """Emit the events time has caused since the last run; return how many objects changed.

    Safe to run from several processes at once: rows are claimed with
    ``SKIP LOCKED`` on PostgreSQL and each change is conditional on the old state.
    """
    events.sweep_chain_events(ctx)
    changed = 0
    c = ctx.constants
    with ctx.db.transaction() as tx:
        now = ctx.chain.now(tx)
        changed += expire_due(ctx, tx, now)
        for row in bill_store.due_for_expiry(tx, now, c.bill_duration):
            bill_store.update_bill(tx, row["id"], status="expired")
            if row["status"] == "requires_authorization":
                # Its merchant never authorized it; now it can never reach the chain.
                bill_store.delete_authorization(tx, row["id"])
            events.emit(
                tx,
                merchant_id=row["merchant_id"],
                event_type="bill.expired",
                obj=bill_object({**row, "status": "expired"}, now, c),
                created=now,
                livemode=bool(row["livemode"]),
                previous={"status": row["status"]},
            )
            changed += 1
        for row in bill_store.due_for_overdue(tx, now, c.grace_period):
            bill_store.update_bill(tx, row["id"], overdue_notified=1)
            events.emit(
                tx,
                merchant_id=row["merchant_id"],
                event_type="bill.overdue",
                obj=bill_object(row, now, c),
                created=now,
                livemode=bool(row["livemode"]),
                previous={"status": "paid"},
            )
            changed += 1
    return changed


def _phase(row: Row, t: int, c: ProtocolConstants) -> tuple[int, ...]:
    """What ledger time *t* means for a bill on chain: a step function of *t*, so a move
    changes the bill exactly when its phase differs at both ends."""
    created = int(row["created"])
    if row["status"] != "paid":  # unpaid: pay_bill_bnpl's BillExpired
        return (int(t > created + c.bill_duration),)
    late = t - created - c.grace_period  # late_fee: whole days past the grace period
    return (
        int(late > 0),
        late // SECONDS_PER_DAY if late > 0 else -1,
        int(t >= created + c.liquidation_after),
    )


def _room(rows: list[Row], now: int, seconds: int, c: ProtocolConstants) -> int:
    """The most seconds (at most *seconds*) ledger time may move without changing any
    of *rows*: the phases are monotonic, so a bisection finds each bill's next step."""
    room = seconds
    for row in rows:
        start = _phase(row, now, c)
        if _phase(row, now + room, c) == start:
            continue
        low, high = 0, room  # phase(now + low) == start != phase(now + high)
        while high - low > 1:
            mid = (low + high) // 2
            if _phase(row, now + mid, c) == start:
                low = mid
            else:
                high = mid
        room = low
    return room


def _refuse_if_others_change(
    ctx: ServiceContext, tx: Tx, now: int, seconds: int, merchant_id: str
) -> None:
    c = ctx.constants
    until = now + seconds
    grace = min(c.grace_period, c.liquidation_after)
    others = bill_store.others_timed(tx, merchant_id, until, c.bill_duration, grace)
    room = _room(others, now, seconds, c)
    if room < seconds:
        raise InvalidRequest(
            f"Advancing the sandbox ledger by {seconds} s would change another"
            " merchant's bills on chain (expire them, or make them overdue, later or"
            " liquidatable): the ledger's clock is shared by every merchant on it."
            f" At most {room} s can be advanced now.",
            code="clock_affects_others",
            param="seconds",
        )


def check_advance(ctx: ServiceContext, seconds: int, merchant_id: str) -> None:
    """Refuse now (``clock_affects_others``) a later :func:`advance` of *seconds* for
    *merchant_id* that would change another merchant's bills: for a helper that makes
    objects before it moves the clock, so a refusal leaves nothing half done."""
    with ctx.db.transaction(write=False) as tx:
        _refuse_if_others_change(ctx, tx, ctx.chain.now(tx), seconds, merchant_id)


def advance(ctx: ServiceContext, seconds: int, merchant_id: str) -> dict[str, Any]:
    """``POST /v1/test_helpers/clock/advance``: move ledger time for *merchant_id*, then
    run its triggers.

    Only a sandbox ledger's clock moves: on a real chain this is ``sandbox_only``. The
    move keeps other merchants' open sessions' remaining time, and is refused
    (``clock_affects_others``) if it would change another merchant's bill on chain.
    """
    if seconds <= 0 or seconds > _MAX_SECONDS:
        raise InvalidRequest(
            "seconds must be between 1 and 315360000.", code="parameter_invalid", param="seconds"
        )
    sandbox = ctx.require_sandbox("Advancing the ledger clock")
    with ctx.db.transaction() as tx:
        # A move of 0 takes the ledger's lock: no bill is made or paid meanwhile at the
        # time this checks.
        _refuse_if_others_change(ctx, tx, sandbox.advance_clock(0, tx=tx), seconds, merchant_id)
        session_store.postpone_others(tx, merchant_id, seconds)
        sandbox.advance_clock(seconds, tx=tx)
    while run_time_triggers(ctx):
        pass
    return clock(ctx)
