"""``GET /v1/account``."""

from __future__ import annotations

from typing import Any

from ...types import Account
from ..http import Call, RouteSpec
from ..services import merchants

__all__ = ["ROUTES"]


def _account(call: Call) -> dict[str, Any]:
    return merchants.account(call.ctx, call.merchant_id)


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
]
