"""Merchants: creation (keypair, enrolment, first keys) and their account."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stellar_sdk import Keypair

from .._ids import new_id
from ..db import Tx
from ..store import merchants as merchant_store
from .api_keys import issue_key
from .context import ServiceContext
from .errors import InvalidRequest, NotFound
from .objects import MERCHANT_STATUS, account_object
from .validation import check_origins, invalid_field
from .wallets import provide_builtin_wallets

__all__ = [
    "MerchantCredentials",
    "account",
    "create_merchant",
    "create_test_merchant",
    "update_account",
]


@dataclass(frozen=True)
class MerchantCredentials:
    """A new merchant and its first keys (the database keeps their hashes; test keys
    also sealed, see :mod:`.api_keys`)."""

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
        secret, publishable = _insert_keys(ctx, tx, kp.public_key, livemode)
        provide_builtin_wallets(ctx, tx, kp.public_key)
    return MerchantCredentials(kp.public_key, business_name, secret, publishable)


def _insert_keys(ctx: ServiceContext, tx: Tx, merchant_id: str, livemode: bool) -> tuple[str, str]:
    now = int(ctx.config.clock())
    _row, secret = issue_key(ctx, tx, merchant_id, kind="secret", livemode=livemode, now=now)
    _row, publishable = issue_key(
        ctx, tx, merchant_id, kind="publishable", livemode=livemode, now=now
    )
    return secret, publishable


def create_test_merchant(
    ctx: ServiceContext, business_name: str, custody: str, stellar_address: str | None
) -> dict[str, Any]:
    """``POST /v1/test_helpers/merchants``: another sandbox merchant, with its keys shown
    this once.

    ``managed``: a fresh keypair the backend keeps, enrolled and approved at once, as
    :func:`create_merchant` does. ``self``: only recorded at *stellar_address* (status
    ``pending``, nothing on chain; the backend never sees its key): the merchant enrolls
    with its own signature (``POST /v1/account/enroll``) and the sandbox admin approves
    it (``POST /v1/test_helpers/merchants/{id}/approve``). On a chain reached through RPC
    its account is opened there (with no funds), as any Stellar account must exist
    before its signature can be checked.
    """
    if custody == "managed":
        if stellar_address is not None:
            raise InvalidRequest(
                "stellar_address is only for custody 'self': a managed merchant gets a new"
                " key that the backend keeps.",
                code="parameter_invalid",
                param="stellar_address",
            )
        creds = create_merchant(ctx, business_name, livemode=False)
    else:
        if stellar_address is None:
            raise InvalidRequest(
                "A self-custody merchant needs stellar_address: the G… address of the key"
                " it keeps (the backend never receives the key).",
                code="parameter_missing",
                param="stellar_address",
            )
        creds = _record_self_custody(ctx, business_name, stellar_address)
    with ctx.db.transaction(write=False) as tx:
        row = merchant_store.get_merchant(tx, creds.merchant_id)
    assert row is not None
    return {
        "object": "test_helpers.merchant",
        "id": creds.merchant_id,
        "business_name": business_name,
        "custody": row["custody"],
        "status": row["status"],
        "livemode": False,
        "created": int(row["created"]),
        "secret_key": creds.secret_key,
        "publishable_key": creds.publishable_key,
    }


def _record_self_custody(
    ctx: ServiceContext, business_name: str, address: str
) -> MerchantCredentials:
    sandbox = ctx.require_sandbox("Creating a sandbox merchant")
    with ctx.db.transaction() as tx:
        if merchant_store.get_merchant(tx, address) is not None:
            raise InvalidRequest(
                f"A merchant at {address} exists already.",
                code="merchant_exists",
                param="stellar_address",
            )
        # No funds, no signature: this only creates the account where the chain is
        # reached through RPC (the local ledger needs no account).
        sandbox.fund_wallet(Keypair.from_public_key(address), tx=tx)
        now = ctx.chain.now(tx)
        merchant_store.insert_merchant(
            tx,
            merchant_id=address,
            business_name=business_name,
            status="pending",
            seed_encrypted="",
            livemode=False,
            created=now,
            custody="self",
        )
        secret, publishable = _insert_keys(ctx, tx, address, False)
        provide_builtin_wallets(ctx, tx, address)
    return MerchantCredentials(address, business_name, secret, publishable)


def account(ctx: ServiceContext, merchant_id: str) -> dict[str, Any]:
    """The merchant's account, its status read from the contract, with the enrollment
    entry a self-custody merchant was handed and has not signed yet."""
    with ctx.db.transaction(write=False) as tx:
        row = merchant_store.get_merchant(tx, merchant_id)
        if row is None:
            raise NotFound("No such account")
        status = str(row["status"])
        try:
            info = ctx.chain.read("bnpl_core", "get_merchant", [merchant_id], tx=tx)
            status = MERCHANT_STATUS.get(str(info.get("status")), status)
        except Exception:  # the local mirror is good enough if the chain cannot answer
            pass
        pending = None
        if row["custody"] == "self":
            pending = merchant_store.get_authorization(tx, merchant_id)
    return account_object(row, status, ctx.constants.fee_rate_bps, pending)


def update_account(
    ctx: ServiceContext, merchant_id: str, *, embed_origins: list[str] | None = None
) -> dict[str, Any]:
    """``POST /v1/account``: change what a merchant may set on its account (today the
    ``embed_origins`` that may frame its hosted checkout; ``[]`` allows none)."""
    if embed_origins is not None:
        try:
            origins = check_origins(embed_origins, livemode=ctx.config.livemode)
        except ValueError as exc:
            raise invalid_field("embed_origins", exc) from None
        with ctx.db.transaction() as tx:
            if merchant_store.get_merchant(tx, merchant_id, lock=True) is None:
                raise NotFound("No such account")
            merchant_store.set_embed_origins(tx, merchant_id, json.dumps(origins))
    return account(ctx, merchant_id)
