"""Merchants: creation (keypair, enrolment, keys) and API-key authentication."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from stellar_sdk import Keypair

from .._crypto import hash_key
from .._ids import new_id, new_secret
from ..store import merchants as merchant_store
from .context import Principal, ServiceContext
from .errors import NotFound

__all__ = ["MerchantCredentials", "account", "authenticate", "create_merchant"]


@dataclass(frozen=True)
class MerchantCredentials:
    """A new merchant and its keys. The keys exist only here: the database keeps hashes."""

    merchant_id: str
    business_name: str
    secret_key: str
    publishable_key: str

    def __repr__(self) -> str:  # never print keys by accident
        return f"MerchantCredentials(merchant_id={self.merchant_id!r})"


def create_merchant(
    ctx: ServiceContext,
    business_name: str,
    *,
    livemode: bool,
    self_custody_key: Keypair | None = None,
) -> MerchantCredentials:
    """Make a merchant: a fresh Stellar keypair, enrolled and approved on chain, with keys.

    Approving is the protocol admin's act, so only a sandbox ledger (whose admin the
    backend holds) can do it here: on a real chain this is ``sandbox_only``.

    With *self_custody_key* the merchant is ``self`` custody: that key signs its
    enrollment here and is then forgotten; only its address is stored (tests use this;
    a real self-custody merchant enrolls through the SDK with its own signature).
    """
    sandbox = ctx.require_sandbox("Enrolling and approving a merchant as the admin")
    kp = self_custody_key or Keypair.random()
    custody = "managed" if self_custody_key is None else "self"
    mode = "live" if livemode else "test"
    secret = new_secret(f"sk_{mode}")
    publishable = new_secret(f"pk_{mode}")
    with ctx.db.transaction() as tx:
        sandbox.enroll_and_approve_merchant(kp, new_id("mi"), tx=tx)
        now = ctx.chain.now(tx)
        merchant_store.insert_merchant(
            tx,
            merchant_id=kp.public_key,
            business_name=business_name,
            status="approved",
            seed_encrypted=ctx.box.seal(kp.secret) if custody == "managed" else "",
            livemode=livemode,
            created=now,
            custody=custody,
        )
        for kind, key in (("secret", secret), ("publishable", publishable)):
            merchant_store.insert_key(
                tx,
                key_id=new_id("key"),
                merchant_id=kp.public_key,
                kind=kind,
                livemode=livemode,
                key_hash=hash_key(key),
                hint=key[:8] + "…" + key[-4:],
                created=now,
            )
    return MerchantCredentials(kp.public_key, business_name, secret, publishable)


def authenticate(ctx: ServiceContext, api_key: str) -> Principal | None:
    """The principal behind *api_key*, or ``None`` if it is not a key of this backend."""
    if not api_key.startswith(("sk_", "pk_")) or len(api_key) > 200:
        return None
    digest = hash_key(api_key)
    with ctx.db.transaction(write=False) as tx:
        row = merchant_store.find_key(tx, digest)
    # The lookup is by hash; compare again in constant time so a collation quirk
    # or truncation in the index can never admit a different key.
    if row is None or not hmac.compare_digest(str(row["key_hash"]), digest):
        return None
    return Principal(
        merchant_id=row["merchant_id"], kind=row["kind"], livemode=bool(row["livemode"])
    )


_STATUS = {
    "None": "pending",
    "Pending": "pending",
    "Approved": "approved",
    "Rejected": "rejected",
    "Suspended": "suspended",
    "Cancelled": "cancelled",
}


def account(ctx: ServiceContext, merchant_id: str) -> dict[str, Any]:
    """The merchant's account, its status read from the contract."""
    with ctx.db.transaction(write=False) as tx:
        row = merchant_store.get_merchant(tx, merchant_id)
        if row is None:
            raise NotFound("No such account")
        status = str(row["status"])
        try:
            info = ctx.chain.read("bnpl_core", "get_merchant", [merchant_id], tx=tx)
            status = _STATUS.get(str(info.get("status")), status)
        except Exception:  # the local mirror is good enough if the chain cannot answer
            pass
    return {
        "object": "account",
        "id": merchant_id,
        "business_name": row["business_name"],
        "status": status,
        "custody": row["custody"],
        "fee_rate_bps": ctx.constants.fee_rate_bps,
        "settlement_currency": "usdc",
        "livemode": bool(row["livemode"]),
        "created": int(row["created"]),
    }
