"""Onboarding on chain: a self-custody merchant enrolls with its own signature; the
sandbox admin approves it.

``POST /v1/account/enroll`` with ``{}`` hands the merchant the unsigned Soroban entry of
``bnpl_core.enroll_merchant(merchant, merchant_info_id)`` (kept in
``merchant_authorizations``, shown as the account's ``authorization`` with its
``merchant_info_id``); with ``{"signed_entry_xdr": …}`` the entry, checked as a bill's is
(``bill_authorization.check_signed``: the same address, exactly this call, the nonce and
expiration handed out, a valid signature), is relayed. The merchant is then enrolled
(status ``pending``) until the protocol admin approves it: in the sandbox,
``POST /v1/test_helpers/merchants/{id}/approve`` (and ``/suspend``, ``/reject``). The
status change reaches the merchant as ``merchant.approved`` (``.suspended``,
``.rejected``), derived from the contract's ``m_status`` event (``services/events.py``),
never from the request.
"""

from __future__ import annotations

from typing import Any

from .._ids import new_id
from ..db import Row, Tx
from ..store import merchants as merchant_store
from . import events
from .bill_authorization import check_signed
from .context import RequestInfo, ServiceContext
from .errors import Conflict, NotFound
from .merchants import account
from .objects import account_object, authorization_row

__all__ = ["ADMIN_DECISIONS", "decide_merchant", "enroll"]

ENROLL = "enroll_merchant"


def _enrolled(ctx: ServiceContext, tx: Tx, merchant_id: str) -> bool:
    """Whether bnpl_core has a record of *merchant_id* (any status)."""
    return ctx.chain.read_optional("bnpl_core", "get_merchant", [merchant_id], tx=tx) is not None


def enroll(
    ctx: ServiceContext, merchant_id: str, signed_entry_xdr: str | None, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/account/enroll``: without *signed_entry_xdr* the entry to sign (a new
    one each time, for the same ``merchant_info_id``); with it, the enrollment relayed.
    The account object either way (status ``pending``)."""
    with ctx.db.transaction() as tx:
        row = merchant_store.get_merchant(tx, merchant_id, lock=True)
        if row is None:
            raise NotFound("No such account")
        if row["custody"] != "self":
            raise Conflict(
                "This account is managed: the backend enrolled it with the key it keeps."
                " Only a self-custody merchant enrolls with its own signature.",
                code="custody_managed",
            )
        if _enrolled(ctx, tx, merchant_id):
            raise Conflict(
                "This merchant is enrolled already; the protocol admin decides its status.",
                code="merchant_already_enrolled",
            )
        fee = ctx.constants.fee_rate_bps
        if signed_entry_xdr is None:
            return account_object(row, "pending", fee, _issue(ctx, tx, merchant_id))
        pending = merchant_store.get_authorization(tx, merchant_id)
        if pending is None:
            raise Conflict(
                "No enrollment entry was handed out: POST /v1/account/enroll with {} first,"
                " then sign its authorization.entry_xdr.",
                code="enrollment_not_requested",
            )
        args = [merchant_id, pending["merchant_info_id"]]
        check_signed(
            ctx,
            tx,
            ENROLL,
            args,
            signed_entry_xdr,
            pending,
            subject="enrollment",
            renew="ask for a new entry with POST /v1/account/enroll and {}",
        )
        record = ctx.chain.invoke_authorized(
            "bnpl_core",
            ENROLL,
            args,
            entry_xdr=signed_entry_xdr,
            tx=tx,
            # However often this is retried, one enrollment per merchant.
            operation=f"{merchant_id}:{ENROLL}",
        )
        merchant_store.delete_authorization(tx, merchant_id)
        events.ingest(ctx, tx, record.events, request)  # m_enroll: no API event
        return account_object(row, "pending", fee)


def _issue(ctx: ServiceContext, tx: Tx, merchant_id: str) -> Row:
    """A fresh unsigned ``enroll_merchant`` entry for *merchant_id*, kept until signed."""
    earlier = merchant_store.get_authorization(tx, merchant_id)
    info_id = earlier["merchant_info_id"] if earlier is not None else new_id("mi")
    request = ctx.chain.request_authorization(
        "bnpl_core", ENROLL, [merchant_id, info_id], address=merchant_id, tx=tx
    )
    row: Row = {
        "merchant_id": merchant_id,
        **authorization_row(request),
        "merchant_info_id": info_id,
    }
    merchant_store.put_authorization(tx, row)
    return row


ADMIN_DECISIONS = {"approve": "Approved", "suspend": "Suspended", "reject": "Rejected"}
"""The sandbox admin's decisions (``POST /v1/test_helpers/merchants/{id}/<decision>``) and
the ``MerchantStatus`` each sets."""


def decide_merchant(
    ctx: ServiceContext, merchant_id: str, decision: str, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/test_helpers/merchants/{id}/approve`` (``/suspend``, ``/reject``): the
    sandbox admin sets an enrolled merchant's status; its account as it is then.

    ``merchant.approved`` / ``.suspended`` / ``.rejected`` come from the ``m_status``
    event: inline where the sandbox returns the call's record (the local ledger), else
    through the event feed, swept here once the change is on chain."""
    status = ADMIN_DECISIONS[decision]
    sandbox = ctx.require_sandbox(f"Deciding a merchant's status ({decision}) as the admin")
    with ctx.db.transaction() as tx:
        row = merchant_store.get_merchant(tx, merchant_id)
        if row is None or row["livemode"]:  # test helpers see test-mode merchants only
            raise NotFound(f"No such merchant: '{merchant_id}'", param="id")
        if not _enrolled(ctx, tx, merchant_id):
            raise Conflict(
                "This merchant has not enrolled on chain yet: it enrolls with its own"
                " signature (POST /v1/account/enroll) before the admin can decide on it.",
                code="merchant_not_enrolled",
            )
        records = sandbox.set_merchant_status(merchant_id, status, tx=tx)
        events.ingest(ctx, tx, [e for r in records for e in r.events], request)
    if not records:
        events.sweep_chain_events(ctx)
    return account(ctx, merchant_id)
