"""API representations of stored rows (the JSON the routes return and events carry).

A bill's deadlines and late fee follow the chain's protocol constants, passed in
(``ctx.constants``): nothing here keeps its own copy of them.
"""

from __future__ import annotations

import json
from typing import Any

from ..chain import SCALE, SECONDS_PER_DAY, ProtocolConstants
from ..chain.soroban import AuthorizationRequest
from ..db import Row

__all__ = [
    "MERCHANT_STATUS",
    "account_object",
    "authorization_object",
    "bill_object",
    "delivery_object",
    "derived_bill_status",
    "endpoint_object",
    "late_fee",
    "line_object",
    "session_object",
    "wallet_object",
]


def late_fee(principal: int, start: int, now: int, c: ProtocolConstants) -> int:
    """The contract's late fee: ``late_interest_apr`` a year per whole day after the
    grace period (30 % after 14 days with the deployed constants)."""
    if now <= start + c.grace_period:
        return 0
    days = (now - start - c.grace_period) // SECONDS_PER_DAY
    return principal * c.late_interest_apr * days // (365 * SCALE)


def derived_bill_status(row: Row, now: int, c: ProtocolConstants) -> str:
    """Stored status, with time applied: unpaid past the bill duration → expired, paid
    past the grace period → overdue."""
    status = str(row["status"])
    if status in ("created", "requires_authorization") and now > row["created"] + c.bill_duration:
        return "expired"
    if status == "paid" and now > row["created"] + c.grace_period:
        return "overdue"
    return status


def bill_object(
    row: Row, now: int, c: ProtocolConstants, authorization: Row | None = None
) -> dict[str, Any]:
    """A bill as the API shows it at ledger time *now*, under the constants *c*, with the
    entry it waits on (*authorization*) while its status is ``requires_authorization``.

    The grace period and liquidation date count from ``created_at``, as the
    contract's ``repay_bill`` and ``liquidate_bill`` do, so ``amount_due`` is what
    a repayment at *now* would take.
    """
    status = derived_bill_status(row, now, c)
    created = int(row["created"])
    amount = int(row["amount"])
    owing = status in ("paid", "overdue")
    fee = late_fee(amount, created, now, c) if owing else 0
    if status == "repaid" and row["repaid_amount"] is not None:
        fee = int(row["repaid_amount"]) - amount
    elif status == "liquidated" and row["liquidated_at"] is not None:
        # What the liquidation charged: the contract's fee at that moment.
        fee = late_fee(amount, created, int(row["liquidated_at"]), c)
    paid = row["paid_at"] is not None
    return {
        "id": row["id"],
        "object": "bill",
        "created": created,
        "livemode": bool(row["livemode"]),
        "metadata": json.loads(row["metadata"]),
        "customer": row["customer"],
        "merchant": row["merchant_id"],
        "amount": amount,
        "currency": row["currency"],
        "status": status,
        "order_id": row["order_id"],
        "description": row["description"],
        "expires_at": created + c.bill_duration,
        "paid_at": row["paid_at"],
        "grace_period_ends_at": created + c.grace_period if paid else None,
        "liquidatable_at": created + c.liquidation_after if paid else None,
        "late_fee": fee,
        "amount_due": amount + fee
        if owing
        else (amount if status in ("created", "requires_authorization") else 0),
        "repaid_at": row["repaid_at"],
        "liquidated_at": row["liquidated_at"],
        "chain": None
        if row["bill_number"] is None
        else {
            "contract_id": row["contract_id"],
            "bill_number": int(row["bill_number"]),
            "tx_hash": row["tx_hash"],
            "ledger": row["ledger"],
        },
        "authorization": authorization_object(authorization)
        if authorization is not None and status == "requires_authorization"
        else None,
    }


def authorization_row(request: AuthorizationRequest) -> Row:
    """The stored columns of an unsigned entry handed out (a bill's or an enrollment's)."""
    return {
        "address": request.address,
        "contract_id": request.contract_id,
        "function": request.function,
        "entry_xdr": request.entry_xdr,
        "nonce": str(request.nonce),
        "expiration_ledger": request.signature_expiration_ledger,
        "network_passphrase": request.network_passphrase,
    }


def authorization_object(row: Row) -> dict[str, Any]:
    """The entry a bill (or a self-custody merchant's enrollment) waits on, as the API
    shows it (the nonce, an int64, as a decimal string, which JavaScript reads without
    loss). An ``enroll_merchant`` entry also names its ``merchant_info_id``, the call's
    second argument, so the signer can check the entry exactly; a bill's has no such
    field."""
    obj: dict[str, Any] = {
        "object": "chain_authorization",
        "address": row["address"],
        "contract_id": row["contract_id"],
        "function": row["function"],
        "entry_xdr": row["entry_xdr"],
        "nonce": str(row["nonce"]),
        "signature_expiration_ledger": int(row["expiration_ledger"]),
        "network_passphrase": row["network_passphrase"],
    }
    if row.get("merchant_info_id") is not None:
        obj["merchant_info_id"] = row["merchant_info_id"]
    return obj


MERCHANT_STATUS = {
    "None": "pending",
    "Pending": "pending",
    "Approved": "approved",
    "Rejected": "rejected",
    "Suspended": "suspended",
    "Cancelled": "cancelled",
}
"""bnpl_core's ``MerchantStatus`` variants as the API's account ``status``."""


def account_object(
    row: Row, status: str, fee_rate_bps: int, authorization: Row | None = None
) -> dict[str, Any]:
    """A merchant account in *status* (as the chain reports it), with the enrollment
    entry a self-custody merchant was handed and has not signed yet."""
    return {
        "object": "account",
        "id": row["id"],
        "business_name": row["business_name"],
        "status": status,
        "custody": row["custody"],
        "fee_rate_bps": fee_rate_bps,
        "settlement_currency": "usdc",
        "livemode": bool(row["livemode"]),
        "created": int(row["created"]),
        "authorization": None if authorization is None else authorization_object(authorization),
        "embed_origins": json.loads(row["embed_origins"] or "[]"),
    }


def session_object(row: Row, base_url: str, authorization: Row | None = None) -> dict[str, Any]:
    """A checkout session as the API shows it, with the entry its bill waits on
    (*authorization*: a self-custody merchant's ``create_bill``, not signed yet) while the
    session is open."""
    return {
        "id": row["id"],
        "object": "checkout.session",
        "created": int(row["created"]),
        "livemode": bool(row["livemode"]),
        "metadata": json.loads(row["metadata"]),
        "url": f"{base_url}/pay/{row['id']}",
        "client_secret": row["client_secret"],
        "status": row["status"],
        "payment_status": row["payment_status"],
        "amount": int(row["amount"]),
        "currency": row["currency"],
        "line_items": json.loads(row["line_items"]),
        "order_id": row["order_id"],
        "description": row["description"],
        "customer": row["customer"],
        "bill": row["bill_id"],
        "success_url": row["success_url"],
        "cancel_url": row["cancel_url"],
        "expires_at": int(row["expires_at"]),
        "completed_at": row["completed_at"],
        "embed_origins": None if row["embed_origins"] is None else json.loads(row["embed_origins"]),
        "authorization": authorization_object(authorization)
        if authorization is not None and row["status"] == "open"
        else None,
    }


def line_object(row: Row) -> dict[str, Any]:
    """A merchant ledger line."""
    return {
        "id": row["id"],
        "object": "analytics.transaction",
        "type": row["type"],
        "bill": row["bill_id"],
        "amount": int(row["amount"]),
        "fee": int(row["fee"]),
        "net": int(row["net"]),
        "created": int(row["created"]),
        "tx_hash": row["tx_hash"],
    }


def wallet_object(row: Row, power: dict[str, Any]) -> dict[str, Any]:
    """A sandbox wallet with its live borrowing power."""
    return {
        "id": row["id"],
        "object": "test_helpers.wallet",
        "name": row["name"],
        "address": row["address"],
        "lp_balance": int(power.get("lp_balance", 0)),
        "available_borrowing": int(power.get("available_borrowing", 0)),
        "external": bool(row["external"]),
        "created": int(row["created"]),
        "livemode": False,
    }


def endpoint_object(row: Row, secret: str | None = None) -> dict[str, Any]:
    """A webhook endpoint; *secret* only on create and rotate."""
    obj: dict[str, Any] = {
        "id": row["id"],
        "object": "webhook_endpoint",
        "created": int(row["created"]),
        "livemode": bool(row["livemode"]),
        "metadata": json.loads(row["metadata"]),
        "url": row["url"],
        "enabled_events": json.loads(row["enabled_events"]),
        "description": row["description"],
        "status": row["status"],
        "disabled_reason": row["disabled_reason"],
    }
    if secret is not None:
        obj["secret"] = secret
    return obj


def delivery_object(row: Row) -> dict[str, Any]:
    """One attempt of a webhook endpoint's delivery log."""
    return {
        "id": row["id"],
        "object": "webhook_delivery",
        "event": row["event_id"],
        "endpoint": row["endpoint_id"],
        "attempt": int(row["attempt"]),
        "status_code": row["status_code"],
        "error": row["error"],
        "duration_ms": int(row["duration_ms"]),
        "next_attempt_at": row["next_attempt_at"],
        "created": int(row["created"]),
        "request_signature": row["request_signature"],
        "response_headers": None
        if row["response_headers"] is None
        else json.loads(row["response_headers"]),
        "response_body": row["response_body"],
    }
