"""``/v1/account``: the merchant behind the key, and a self-custody merchant's enrollment."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from ...types import Account
from ..http import CHAIN_ERRORS, Body, Call, RouteSpec
from ..services import merchant_enrollment, merchants

__all__ = ["ROUTES", "AccountEnroll"]

# A signed SorobanAuthorizationEntry of enroll_merchant is about 350 base64 characters.
SignedEntry = Annotated[str, StringConstraints(min_length=1, max_length=8_000)]


class AccountEnroll(Body):
    """``POST /v1/account/enroll``: ``{}`` for the entry to sign, then the signed entry."""

    signed_entry_xdr: SignedEntry | None = None


def _account(call: Call) -> dict[str, Any]:
    return merchants.account(call.ctx, call.merchant_id)


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
