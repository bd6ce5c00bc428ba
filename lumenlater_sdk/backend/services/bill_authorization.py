"""``POST /v1/bills/{id}/authorize``: a self-custody merchant's own signature puts its
bill on chain.

The backend never holds such a merchant's key. Creating a bill records it as
``requires_authorization`` with the unsigned Soroban authorization entry of its
``create_bill`` (``bills.issue_bill``); the merchant signs that entry (the SDK does
it) and sends it here. The entry is checked against the bill before anything is
sent: the same address, exactly this ``create_bill(merchant, customer, amount,
order_id)``, the nonce and expiration that were handed out, a valid signature; the
chain then checks it again (nonce unused, expiration not passed) as it applies the
call. ``bill.created`` is emitted only now, from the contract's ``bill_new``.
"""

from __future__ import annotations

from typing import Any

from ..chain.soroban import AuthorizationError
from ..db import Row, Tx
from ..store import bills as bill_store
from . import events
from .bills import create_bill_args, shown_bill
from .context import RequestInfo, ServiceContext
from .errors import Conflict, InvalidRequest, NotFound
from .objects import derived_bill_status
from .preconditions import check_create_bill

__all__ = ["PARAM", "authorize_bill", "check_signed"]

PARAM = "signed_entry_xdr"


def authorize_bill(
    ctx: ServiceContext,
    merchant_id: str,
    bill_id: str,
    signed_entry_xdr: str,
    request: RequestInfo,
) -> dict[str, Any]:
    """Relay the bill's ``create_bill`` with the merchant's signed entry; the bill as it
    is then (``created``, numbered on chain)."""
    with ctx.db.transaction() as tx:
        bill = bill_store.get_bill(tx, merchant_id, bill_id, lock=True)
        if bill is None:
            raise NotFound(f"No such bill: '{bill_id}'", param="id")
        status = derived_bill_status(bill, ctx.chain.now(tx), ctx.constants)
        pending = bill_store.get_authorization(tx, bill_id)
        if status != "requires_authorization" or pending is None:
            raise Conflict(
                f"This bill does not wait for an authorization; it is {status}.",
                code="bill_not_awaiting_authorization",
            )
        args = create_bill_args(merchant_id, bill["customer"], bill["amount"], bill["order_id"])
        check_signed(
            ctx,
            tx,
            "create_bill",
            args,
            signed_entry_xdr,
            pending,
            subject="bill",
            renew="create a new bill",
        )
        check_create_bill(ctx, tx, merchant_id, int(bill["amount"]))
        record = ctx.chain.invoke_authorized(
            "bnpl_core",
            "create_bill",
            args,
            entry_xdr=signed_entry_xdr,
            tx=tx,
            # However often this is retried, one create_bill per bill.
            operation=f"{merchant_id}:{bill_id}:create_bill",
        )
        changes = {
            "status": "created",
            "bill_number": int(record.result),
            "created": int(record.timestamp),
            "tx_hash": record.hash,
            "ledger": record.ledger,
        }
        bill_store.update_bill(tx, bill_id, **changes)
        bill_store.delete_authorization(tx, bill_id)
        row = {**bill, **changes}
        events.ingest(ctx, tx, record.events, request, known=row)
        return shown_bill(ctx, tx, row, int(record.timestamp))


def check_signed(
    ctx: ServiceContext,
    tx: Tx,
    function: str,
    args: list[Any],
    signed: str,
    pending: Row,
    *,
    subject: str,
    renew: str,
) -> None:
    """The signed entry is the one handed out (*pending*) for ``bnpl_core.function(*args)``,
    signed; else a 400 that says why, naming the *subject* it was for and what to ask
    anew (*renew*, a phrase) once it expired. Shared by bills and merchant enrollment."""
    try:
        address, nonce, expiration = ctx.chain.check_authorization(
            "bnpl_core", function, args, entry_xdr=signed
        )
    except AuthorizationError as exc:
        raise InvalidRequest(
            f"The signed entry does not authorize this {subject}: {exc}",
            code="authorization_invalid",
            param=PARAM,
        ) from None
    issued = (pending["address"], int(pending["nonce"]), int(pending["expiration_ledger"]))
    if (address, nonce, expiration) != issued:
        raise InvalidRequest(
            f"The signed entry is not the one this {subject} waits on (address, nonce or"
            f" expiration ledger differ): sign the {subject}'s authorization.entry_xdr.",
            code="authorization_invalid",
            param=PARAM,
        )
    if expiration < ctx.chain.latest_ledger(tx) + 1:
        raise InvalidRequest(
            f"The authorization expired at ledger {expiration}; {renew}.",
            code="authorization_expired",
            param=PARAM,
        )
