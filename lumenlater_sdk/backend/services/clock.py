"""Ledger time and everything it triggers: bill and session expiry, overdue bills."""

from __future__ import annotations

from typing import Any

from ..store import bills as bill_store
from . import events
from .checkout import expire_due
from .context import ServiceContext
from .errors import InvalidRequest
from .objects import bill_object

__all__ = ["advance", "clock", "run_time_triggers"]


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
            events.emit(
                tx,
                merchant_id=row["merchant_id"],
                event_type="bill.expired",
                obj=bill_object({**row, "status": "expired"}, now, c),
                created=now,
                livemode=bool(row["livemode"]),
                previous={"status": "created"},
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


def advance(ctx: ServiceContext, seconds: int) -> dict[str, Any]:
    """``POST /v1/test_helpers/clock/advance``: move ledger time, then run its triggers.

    Only a sandbox ledger's clock moves: on a real chain this is ``sandbox_only``.
    """
    if seconds <= 0 or seconds > 10 * 365 * 86_400:
        raise InvalidRequest(
            "seconds must be between 1 and 315360000.", code="parameter_invalid", param="seconds"
        )
    sandbox = ctx.require_sandbox("Advancing the ledger clock")
    with ctx.db.transaction() as tx:
        sandbox.advance_clock(seconds, tx=tx)
    while run_time_triggers(ctx):
        pass
    return clock(ctx)
