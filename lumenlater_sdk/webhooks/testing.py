"""Helpers for testing your own webhook handlers: realistic, correctly signed requests.

::

    from lumenlater_sdk.webhooks.testing import signed_request

    req = signed_request("bill.paid", secret="whsec_test")
    response = client.post("/webhooks", content=req.body, headers=req.headers)

Objects are plausible snapshots: fresh Stellar ``G…`` accounts and a ``C…``
contract id, amounts in stroops, timestamps consistent with the bill's life cycle.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._strkey import encode_account_id, encode_contract_id
from .._version import API_VERSION
from ..types.event import BaseEvent
from ._signature import SIGNATURE_HEADER, Secrets, sign

__all__ = [
    "SignedRequest",
    "make_event",
    "random_address",
    "random_contract_id",
    "sample_account",
    "sample_bill",
    "sample_checkout_session",
    "sample_payment_failure",
    "sample_webhook_endpoint",
    "signed_request",
]

_DAY = 86400
_CHAIN_TOPICS = {
    "bill.created": "bill_new",
    "bill.paid": "payment",
    "bill.repaid": "repayment",
    "bill.liquidated": "liquidate",
}


def random_address() -> str:
    """A fresh Stellar account address (``G…``)."""
    return encode_account_id(os.urandom(32))


def random_contract_id() -> str:
    """A random, well-formed Soroban contract id (``C…``)."""
    return encode_contract_id(os.urandom(32))


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _tx_hash() -> str:
    return secrets.token_hex(32)


def sample_bill(
    status: str = "created", *, now: int | None = None, **overrides: Any
) -> dict[str, Any]:
    """A bill snapshot (wire JSON) in ``status``, with the timestamps that status implies."""
    now = int(time.time()) if now is None else now
    created = now - 3600 if status in ("created", "paid", "cancelled") else now - 30 * _DAY
    amount = 999_900_000
    bill: dict[str, Any] = {
        "id": _id("bill_"),
        "object": "bill",
        "created": created,
        "livemode": False,
        "metadata": {"cart": "c-1042"},
        "customer": random_address(),
        "merchant": random_address(),
        "amount": amount,
        "currency": "usdc",
        "status": status,
        "order_id": f"order-{secrets.randbelow(100000):05d}",
        "description": "2 x LumenLater test item",
        "expires_at": created + _DAY,
        "paid_at": None,
        "grace_period_ends_at": None,
        "liquidatable_at": None,
        "late_fee": 0,
        "amount_due": 0,
        "repaid_at": None,
        "liquidated_at": None,
        "chain": {
            "contract_id": random_contract_id(),
            "bill_number": secrets.randbelow(10_000) + 1,
            "tx_hash": _tx_hash(),
            "ledger": 1_000_000 + secrets.randbelow(100_000),
        },
    }
    if status in ("paid", "repaid", "overdue", "liquidated"):
        paid_at = created + 60
        # As the API reports it: grace and late fee count from creation, like the
        # contract's repay_bill / liquidate_bill.
        late_days = max(0, (now - created - 14 * _DAY) // _DAY)
        late_fee = amount * 3_000_000 * late_days // (365 * 10_000_000)
        bill.update(
            paid_at=paid_at,
            grace_period_ends_at=created + 14 * _DAY,
            liquidatable_at=created + 28 * _DAY,
            late_fee=late_fee if status in ("overdue", "liquidated") else 0,
            amount_due=amount + late_fee if status in ("paid", "overdue") else 0,
        )
    if status == "repaid":
        bill["repaid_at"] = now
    if status == "liquidated":
        bill["liquidated_at"] = now
    bill.update(overrides)
    return bill


def sample_checkout_session(
    status: str = "complete", *, now: int | None = None, **overrides: Any
) -> dict[str, Any]:
    """A checkout session snapshot; ``complete`` sessions carry the customer and bill."""
    now = int(time.time()) if now is None else now
    session_id = _id("cs_")
    line_items: list[dict[str, Any]] = [
        {"name": "Stellar hoodie", "quantity": 1, "unit_amount": 450_000_000},
        {"name": "Sticker pack", "quantity": 3, "unit_amount": 50_000_000},
    ]
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "created": now - 600,
        "livemode": False,
        "metadata": {},
        "url": f"http://127.0.0.1:8787/pay/{session_id}",
        "client_secret": f"{session_id}_secret_{secrets.token_hex(12)}",
        "status": status,
        "payment_status": "paid" if status == "complete" else "unpaid",
        "amount": sum(i["quantity"] * i["unit_amount"] for i in line_items),
        "currency": "usdc",
        "line_items": line_items,
        "order_id": f"order-{secrets.randbelow(100000):05d}",
        "description": None,
        "customer": random_address() if status == "complete" else None,
        "bill": _id("bill_") if status == "complete" else None,
        "success_url": "https://shop.example/thanks?session={SESSION_ID}",
        "cancel_url": "https://shop.example/cart",
        "expires_at": now - 600 + 3600,
        "completed_at": now if status == "complete" else None,
    }
    session.update(overrides)
    return session


def sample_webhook_endpoint(*, now: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A webhook endpoint snapshot (without its secret, as events carry it)."""
    now = int(time.time()) if now is None else now
    endpoint: dict[str, Any] = {
        "id": _id("we_"),
        "object": "webhook_endpoint",
        "created": now - _DAY,
        "livemode": False,
        "metadata": {},
        "url": "https://shop.example/webhooks/lumenlater",
        "enabled_events": ["*"],
        "description": None,
        "status": "enabled",
        "disabled_reason": None,
    }
    endpoint.update(overrides)
    return endpoint


def sample_account(
    status: str = "approved", *, now: int | None = None, **overrides: Any
) -> dict[str, Any]:
    """A realistic merchant account (``merchant.*`` events carry one) in *status*."""
    now = int(time.time()) if now is None else now
    account: dict[str, Any] = {
        "object": "account",
        "id": random_address(),
        "business_name": "Sample Shop",
        "status": status,
        "custody": "self",
        "fee_rate_bps": 150,
        "settlement_currency": "usdc",
        "livemode": False,
        "created": now - 86_400,
        "authorization": None,
    }
    account.update(overrides)
    return account


def sample_payment_failure(*, now: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A realistic refused payment attempt (``payment.failed`` carries one)."""
    now = int(time.time()) if now is None else now
    failure: dict[str, Any] = {
        "id": _id("pf_"),
        "object": "payment_failure",
        "session": _id("cs_"),
        "bill": None,
        "customer": random_address(),
        "amount": 250_000_000,
        "currency": "usdc",
        "code": "insufficient_collateral",
        "message": "Insufficient collateral",
        "created": now,
        "livemode": False,
    }
    failure.update(overrides)
    return failure


def _sample_object(event_type: str, now: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if event_type.startswith("bill."):
        status = event_type.split(".", 1)[1]
        previous = {"created": None, "paid": "created", "repaid": "paid", "overdue": "paid"}
        before = previous.get(status, "paid" if status == "liquidated" else "created")
        return sample_bill(status, now=now), (None if before is None else {"status": before})
    if event_type == "checkout.session.authorization_required":
        session = sample_checkout_session("open", now=now)
        customer = random_address()
        session.update(
            customer=customer,
            bill=_id("bill_"),
            authorization={
                "object": "chain_authorization",
                "address": random_address(),
                "contract_id": random_contract_id(),
                "function": "create_bill",
                "entry_xdr": "AAAAAQ==",
                "nonce": str(secrets.randbelow(2**62)),
                "signature_expiration_ledger": 1_000,
                "network_passphrase": "Test SDF Network ; September 2015",
            },
        )
        return session, {"customer": None, "bill": None}
    if event_type.startswith("checkout.session."):
        status = "complete" if event_type.endswith("completed") else "expired"
        return sample_checkout_session(status, now=now), {"status": "open"}
    if event_type.startswith("webhook_endpoint."):
        return sample_webhook_endpoint(now=now), None
    if event_type == "payment.failed":
        return sample_payment_failure(now=now), None
    if event_type.startswith("merchant."):
        status = event_type.split(".", 1)[1]
        before = "approved" if status == "suspended" else "pending"
        return sample_account(status, now=now), {"status": before}
    return {"id": _id("obj_"), "object": event_type.rsplit(".", 1)[0]}, None


def make_event(
    event_type: str,
    *,
    data_object: Mapping[str, Any] | None = None,
    previous_attributes: Mapping[str, Any] | None = None,
    now: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """An event of ``event_type`` as wire JSON, with a realistic ``data.object``.

    Any event type works: known ones get the matching object (a bill for ``bill.*``,
    …); others a minimal placeholder. ``overrides`` replace top-level fields.
    """
    now = int(time.time()) if now is None else now
    sample, previous = _sample_object(event_type, now)
    obj = dict(data_object) if data_object is not None else sample
    chain = None
    topic = _CHAIN_TOPICS.get(event_type)
    if topic is not None and isinstance(obj.get("chain"), Mapping):
        chain = {
            "contract_id": obj["chain"]["contract_id"],
            "topic": topic,
            "ledger": obj["chain"].get("ledger") or 1,
            "tx_hash": _tx_hash(),
        }
    data: dict[str, Any] = {"object": obj}
    prev = previous_attributes if previous_attributes is not None else previous
    if prev is not None:
        data["previous_attributes"] = dict(prev)
    event: dict[str, Any] = {
        "id": _id("evt_"),
        "object": "event",
        "type": event_type,
        "created": now,
        "api_version": API_VERSION,
        "livemode": False,
        "data": data,
        "request": None if chain else {"id": _id("req_"), "idempotency_key": None},
        "chain": chain,
    }
    event.update(overrides)
    return event


@dataclass(frozen=True)
class SignedRequest:
    """A webhook delivery as LumenLater would send it: raw ``body`` and ``headers``."""

    body: bytes
    headers: dict[str, str]
    event: dict[str, Any] = field(repr=False)

    @property
    def event_id(self) -> str:
        """The event's id."""
        return str(self.event["id"])


def signed_request(
    event: str | Mapping[str, Any] | BaseEvent,
    secret: Secrets,
    *,
    timestamp: int | None = None,
    attempt: int = 1,
) -> SignedRequest:
    """A signed delivery of ``event``: an event type (a sample is made), a dict, or a model.

    With a list of secrets the signature header carries one ``v1`` per secret.
    """
    if isinstance(event, str):
        data = make_event(event)
    elif isinstance(event, BaseEvent):
        data = event.model_dump(mode="json")
    else:
        data = dict(event)
    body = json.dumps(data, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "LumenLater-Webhooks/1.0",
        "X-LumenLater-Event-Id": str(data.get("id", "")),
        "X-LumenLater-Event-Type": str(data.get("type", "")),
        "X-LumenLater-Delivery-Attempt": str(attempt),
        SIGNATURE_HEADER: sign(body, secret, timestamp),
    }
    return SignedRequest(body, headers, data)
