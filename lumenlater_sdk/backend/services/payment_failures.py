"""Refused payment attempts: each one a ``payment.failed`` event and a row analytics counts.

The hosted page's and the widget's payment steps run inside :func:`attempt`. A refusal
rolls the step's own transaction back (nothing of the payment is kept), so the failure
is recorded in a transaction of its own, after it, and the refusal then goes on to the
shopper unchanged. What is not a payment attempt is not recorded: a form that expired,
malformed input, a checkout that is closed or unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .._ids import new_id
from ..db import Row
from ..store import payment_failures as failure_store
from ..store import sessions as session_store
from . import events
from .context import ServiceContext
from .errors import ServiceError

__all__ = ["PAYMENT_FAILED", "attempt", "failure_object", "record_failure"]

PAYMENT_FAILED = "payment.failed"

# Refusals that say nothing about paying: the shopper never got to try (or was early:
# the merchant has not signed the bill yet, no wallet is connected yet).
_NOT_ATTEMPTS = frozenset(
    {
        "bill_requires_authorization",
        "wallet_not_connected",
        "invalid_token",
        "parameter_invalid",
        "parameter_missing",
        "resource_missing",
        "session_not_open",
        "connection_not_needed",
        "wallet_already_connected",
        "transaction_not_prepared",
    }
)


def failure_object(row: Row) -> dict[str, Any]:
    """A refused attempt as the API shows it (``data.object`` of ``payment.failed``)."""
    return {
        "id": row["id"],
        "object": "payment_failure",
        "session": row["session_id"],
        "bill": row["bill_id"],
        "customer": row["customer"],
        "amount": int(row["amount"]),
        "currency": "usdc",
        "code": row["code"],
        "message": row["message"],
        "created": int(row["created"]),
        "livemode": bool(row["livemode"]),
    }


@contextmanager
def attempt(
    ctx: ServiceContext, session_id: str, customer: Callable[[], str | None]
) -> Iterator[None]:
    """Run one payment step of session *session_id*; if it is refused, record the refusal
    (who tried: ``customer()``, the paying address if known) and re-raise it."""
    try:
        yield
    except ServiceError as exc:
        code = exc.code or exc.kind
        if code not in _NOT_ATTEMPTS:
            record_failure(ctx, session_id, customer(), code, exc.message)
        raise


def record_failure(
    ctx: ServiceContext, session_id: str, customer: str | None, code: str, message: str
) -> None:
    """Record that *customer* (an address, if known) was refused paying *session_id*
    with *code* and *message*: the row analytics count and ``payment.failed``."""
    with ctx.db.transaction() as tx:
        session = session_store.get_session_any(tx, session_id)
        if session is None:
            return
        now = ctx.chain.now(tx)
        row: Row = {
            "id": new_id("pf"),
            "merchant_id": session["merchant_id"],
            "session_id": session_id,
            "bill_id": session["bill_id"],
            "customer": customer,
            "amount": int(session["amount"]),
            "code": code,
            "message": message,
            "created": now,
            "livemode": int(session["livemode"]),
        }
        failure_store.insert(tx, row)
        events.emit(
            tx,
            merchant_id=session["merchant_id"],
            event_type=PAYMENT_FAILED,
            obj=failure_object(row),
            created=now,
            livemode=bool(session["livemode"]),
        )
