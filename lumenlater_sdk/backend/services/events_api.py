"""Reading events, and the sandbox's ``events/trigger`` helper."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..paging import PageRequest
from ..store import events as event_store
from . import bills, checkout, checkout_page, clock, events, payment_failures, wallets
from .context import RequestInfo, ServiceContext
from .errors import InvalidRequest, NotFound, ServiceError
from .preconditions import check_collateral
from .webhook_endpoints import ping_target

__all__ = ["TRIGGERABLE", "list_events", "made_by", "retrieve_event", "trigger"]

TRIGGERABLE = (
    "bill.created",
    "bill.paid",
    "bill.repaid",
    "bill.overdue",
    "bill.liquidated",
    "bill.expired",
    "bill.cancelled",
    "checkout.session.completed",
    "checkout.session.expired",
    "payment.failed",
    "webhook_endpoint.ping",
)


def retrieve_event(ctx: ServiceContext, merchant_id: str, event_id: str) -> bytes:
    """The stored event JSON, byte for byte."""
    with ctx.db.transaction(write=False) as tx:
        row = event_store.get_event(tx, merchant_id, event_id)
    if row is None:
        raise NotFound(f"No such event: '{event_id}'", param="id")
    return str(row["payload"]).encode()


def list_events(
    ctx: ServiceContext,
    merchant_id: str,
    page: PageRequest,
    *,
    event_type: str | None,
    object_id: str | None = None,
    created_gte: int | None = None,
    created_lte: int | None = None,
) -> tuple[list[bytes], bool]:
    """Stored event JSON documents, newest first."""
    with ctx.db.transaction(write=False) as tx:
        result = event_store.list_events(
            tx,
            merchant_id,
            page,
            event_type=event_type,
            object_id=object_id,
            created_gte=created_gte,
            created_lte=created_lte,
        )
    return [str(r["payload"]).encode() for r in result.rows], result.has_more


def _ping(ctx: ServiceContext, merchant_id: str, request: RequestInfo) -> str:
    """Emit ``webhook_endpoint.ping`` about the newest enabled endpoint; its id."""
    with ctx.db.transaction() as tx:
        endpoint = ping_target(tx, merchant_id)
        events.emit(
            tx,
            merchant_id=merchant_id,
            event_type="webhook_endpoint.ping",
            obj=endpoint,
            created=ctx.chain.now(tx),
            livemode=endpoint["livemode"],
            request=request,
        )
    return str(endpoint["id"])


_PAID_BY_APPROVE = frozenset(
    {"bill.paid", "bill.repaid", "bill.overdue", "bill.liquidated", "checkout.session.completed"}
)


def made_by(event_type: str) -> str | None:
    """The object a trigger of *event_type* creates (and *overrides* may shape)."""
    if event_type == "webhook_endpoint.ping":
        return None
    if event_type == "payment.failed" or event_type.startswith("checkout."):
        return "checkout_session"
    return "bill"


def trigger(
    ctx: ServiceContext,
    merchant_id: str,
    event_type: str,
    request: RequestInfo,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Create whatever objects cause *event_type*; return the newest such event.

    Time-driven types advance the sandbox ledger clock, as waiting would, by the
    chain's own deadlines. Every type but ``webhook_endpoint.ping`` pays with the
    built-in sandbox wallets or moves the clock: ``sandbox_only`` on a real chain.
    *overrides* maps the object made (``bill`` or ``checkout_session``) to fields it is
    created with instead of the defaults (``amount``, ``order_id``, ``description``,
    ``metadata``); one for an object this type does not make is refused.
    """
    if event_type not in TRIGGERABLE:
        raise InvalidRequest(
            f"Cannot trigger '{event_type}'.", code="parameter_invalid", param="type"
        )
    made = made_by(event_type)
    for name in overrides or {}:
        if name != made:
            makes = f"makes a {made}" if made else "makes no object"
            raise InvalidRequest(
                f"'{event_type}' {makes}; it cannot take overrides for {name}.",
                code="parameter_invalid",
                param=f"overrides[{name}]",
            )
    shape: dict[str, Any] = dict((overrides or {}).get(made or "", {}))
    amount = int(shape.pop("amount", 10_000_000))
    if event_type != "webhook_endpoint.ping":
        ctx.require_sandbox(f"Triggering {event_type}")
    c = ctx.constants
    moves = {
        "bill.expired": c.bill_duration + 1,
        "bill.overdue": c.grace_period + 1,
        "bill.liquidated": c.liquidation_after,
    }
    if event_type in moves:  # refused before anything is made, not half way
        clock.check_advance(ctx, moves[event_type], merchant_id)
    if event_type in _PAID_BY_APPROVE:
        # An amount the approve wallet cannot borrow is refused up front, so no bill or
        # session is left behind by a trigger that fails half way.
        approver = wallets.retrieve_wallet(ctx, merchant_id, "approve")
        with ctx.db.transaction(write=False) as tx:
            check_collateral(ctx, tx, approver["address"], amount)
    object_id: str | None
    if event_type == "webhook_endpoint.ping":
        object_id = _ping(ctx, merchant_id, request)
    elif event_type == "payment.failed":
        # The decline wallet tries a new session and is refused for want of collateral,
        # decided as the hosted page decides it. The refusal is caught inside the read,
        # so a keyed trigger's own unit of work is not failed by it.
        new = checkout.NewSession(
            success_url="https://example.com/success",
            cancel_url="https://example.com/cancel",
            amount=amount,
            **shape,
        )
        session = checkout.create_session(ctx, merchant_id, new, request)
        decline = wallets.retrieve_wallet(ctx, merchant_id, "decline")
        refused: ServiceError | None = None
        with ctx.db.transaction(write=False) as tx:
            try:
                check_collateral(ctx, tx, decline["address"], new.amount or 0)
            except ServiceError as exc:
                refused = exc
        if refused is not None:
            payment_failures.record_failure(
                ctx, session["id"], decline["address"], refused.code or "", refused.message
            )
        object_id = None  # the newest failure: this one
    elif event_type.startswith("checkout."):
        new = checkout.NewSession(
            success_url="https://example.com/success",
            cancel_url="https://example.com/cancel",
            amount=amount,
            **shape,
        )
        session = checkout.create_session(ctx, merchant_id, new, request)
        if event_type == "checkout.session.completed":
            checkout_page.pay_session(
                ctx, session["id"], "approve", checkout_page.form_token(ctx, session["id"])
            )
        else:
            checkout.expire_session(ctx, merchant_id, session["id"], request)
        object_id = session["id"]
    else:
        approve = wallets.retrieve_wallet(ctx, merchant_id, "approve")
        bill = bills.create_bill(
            ctx,
            merchant_id,
            bills.NewBill(customer=approve["address"], amount=amount, **shape),
            request,
        )
        object_id = bill["id"]
        if event_type == "bill.cancelled":
            bills.cancel_bill(ctx, merchant_id, object_id, request)
        elif event_type == "bill.expired":
            clock.advance(ctx, moves[event_type], merchant_id)
        elif event_type != "bill.created":
            wallets.act_on_bill(ctx, merchant_id, object_id, "pay", "approve", request)
            if event_type == "bill.repaid":
                wallets.act_on_bill(ctx, merchant_id, object_id, "repay", None, request)
            elif event_type == "bill.overdue":
                clock.advance(ctx, moves[event_type], merchant_id)
            elif event_type == "bill.liquidated":
                clock.advance(ctx, moves[event_type], merchant_id)
                wallets.act_on_bill(ctx, merchant_id, object_id, "liquidate", None, request)
    docs, _ = list_events(
        ctx, merchant_id, PageRequest(limit=1), event_type=event_type, object_id=object_id
    )
    if not docs:  # pragma: no cover - every branch above emits its event
        raise NotFound("The event was not produced.")
    result: dict[str, Any] = json.loads(docs[0])
    return result
