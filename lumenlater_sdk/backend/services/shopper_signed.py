"""Transactions a shopper signs in their own wallet, for the hosted page's flows (paying
in ``checkout_page``, repaying in ``loan_page``): the backend prepares one, keeps it per
session, and submits only that one once signed.

What the wallet sends back must be the kept transaction (same hash) signed by its source;
the chain's refusals arrive as service errors with the codes of
:data:`~.relay.ENVELOPE_REFUSALS`. Every effect is taken from the contract events of the
transaction's record, never from what the page reports.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields

from ..chain import PreparedTransaction
from ..db import Tx
from ..store import wallets as wallet_store
from . import events
from .context import ServiceContext
from .errors import Conflict, InvalidRequest

__all__ = ["keep", "require_signed_xdr", "submit_kept"]


def require_signed_xdr(signed_xdr: object) -> str:
    """*signed_xdr* if it is a non-empty string, else ``parameter_missing``."""
    if not isinstance(signed_xdr, str) or not signed_xdr:
        raise InvalidRequest(
            "Missing required param: signed_xdr.", code="parameter_missing", param="signed_xdr"
        )
    return signed_xdr


def keep(tx: Tx, session_id: str, bill_id: str, prepared: PreparedTransaction, now: int) -> None:
    """Keep *prepared* as session *session_id*'s transaction to sign (replacing any)."""
    wallet_store.put_prepared(
        tx,
        {
            "session_id": session_id,
            "bill_id": bill_id,
            **{f.name: getattr(prepared, f.name) for f in fields(PreparedTransaction)},
            "created": now,
        },
    )


def submit_kept(
    ctx: ServiceContext,
    tx: Tx,
    session_id: str,
    signed_xdr: str,
    *,
    functions: Collection[str],
    flow: str,
) -> PreparedTransaction:
    """Submit *signed_xdr* as the session's kept transaction, which must call one of
    *functions*; apply its contract events and forget it. *flow* names the flow in the
    operation that makes a retry find the transaction its first attempt sent."""
    stored = wallet_store.get_prepared(tx, session_id)
    if stored is None or stored["function"] not in functions:
        raise Conflict(
            "Nothing was prepared for this on this page; start again.",
            code="transaction_not_prepared",
        )
    expected = PreparedTransaction(**{f.name: stored[f.name] for f in fields(PreparedTransaction)})
    record = ctx.chain.submit_transaction(
        signed_xdr, expected=expected, tx=tx, operation=f"{flow}:{session_id}:{expected.hash}"
    )
    events.ingest(ctx, tx, record.events, None)
    wallet_store.delete_prepared(tx, session_id)
    return expected
