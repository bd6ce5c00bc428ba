"""``/v1/account``: the merchant behind the key, and a self-custody merchant's enrollment."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from ...types import Account
from ..http import CHAIN_ERRORS, Body, Call, EmbedOrigins, RouteSpec
from ..services import merchant_enrollment, merchants

__all__ = ["ROUTES", "AccountEnroll", "AccountUpdate"]

# A signed SorobanAuthorizationEntry of enroll_merchant is about 350 base64 characters.
SignedEntry = Annotated[str, StringConstraints(min_length=1, max_length=8_000)]


class AccountEnroll(Body):
    """``POST /v1/account/enroll``: ``{}`` for the entry to sign, then the signed entry."""

    signed_entry_xdr: SignedEntry | None = None


class AccountUpdate(Body):
    """``POST /v1/account``: what a merchant sets on its own account."""

    embed_origins: EmbedOrigins | None = None


def _account(call: Call) -> dict[str, Any]:
    return merchants.account(call.ctx, call.merchant_id)


def _update(call: Call) -> dict[str, Any]:
    b: AccountUpdate = call.body
    return merchants.update_account(call.ctx, call.merchant_id, embed_origins=b.embed_origins)


def _enroll(call: Call) -> dict[str, Any]:
    b: AccountEnroll = call.body
    return merchant_enrollment.enroll(call.ctx, call.merchant_id, b.signed_entry_xdr, call.request)


ROUTES = [
    RouteSpec(
        "GET",
        "/v1/account",
        _account,
        "retrieveAccount",
        "The merchant behind the API key.",
        "account",
        response=Account,
    ),
    RouteSpec(
        "POST",
        "/v1/account",
        _update,
        "updateAccount",
        "Update the account: embed_origins, the origins whose pages may embed the"
        " checkout (frame the hosted page, read a session with a publishable key).",
        "account",
        body=AccountUpdate,
        response=Account,
    ),
    RouteSpec(
        "POST",
        "/v1/account/enroll",
        _enroll,
        "enrollAccount",
        "Enroll a self-custody merchant on chain with its own signature: {} answers the"
        " enroll_merchant authorization entry to sign, {signed_entry_xdr} relays it.",
        "account",
        body=AccountEnroll,
        response=Account,
        errors=CHAIN_ERRORS,
    ),
]
