"""``GET /v1/chain``."""

from __future__ import annotations

from typing import Any

from ...types import Chain
from ..http import Call, RouteSpec
from ..services import chain

__all__ = ["ROUTES"]


def _chain(call: Call) -> dict[str, Any]:
    return chain.describe(call.ctx)


ROUTES = [
    RouteSpec(
        "GET",
        "/v1/chain",
        _chain,
        "retrieveChain",
        "The chain behind the API: gateway, network, contract ids, latest ledger.",
        "chain",
        response=Chain,
        errors=(400, 401, 403, 429, 503),
    ),
]
