"""``GET /friendbot?addr=G…``: a funded account, as Stellar's local network image offers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from stellar_sdk import Keypair, StrKey

from ..chain.local import RpcLedger

__all__ = ["FRIENDBOT_USDC", "FRIENDBOT_XLM", "friendbot"]

FRIENDBOT_XLM = 10_000 * 10_000_000
"""Native balance of a friendbot account, in stroops (10,000 XLM)."""
FRIENDBOT_USDC = 10_000 * 10_000_000
"""Sandbox USDC minted to a friendbot account (10,000 USDC, 7 decimals)."""


def _fund(ledger: RpcLedger, address: str) -> tuple[int, str]:
    with ledger.transaction() as t:
        if ledger.account(address, tx=t) is not None:
            return 400, "account already exists"
        ledger.create_account(t, address, FRIENDBOT_XLM)
        # USDC's mint is the recipient's own faucet call (authorised by `to`); friendbot
        # makes it on the new account's behalf, as Stellar's friendbot funds accounts
        # without their signature.
        ledger.gateway.fund_wallet(Keypair.from_public_key(address), usdc=FRIENDBOT_USDC, tx=t)
    return 200, address


def friendbot(ledger: RpcLedger) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint."""

    async def serve(request: Request) -> Response:
        address = request.query_params.get("addr", "")
        if not StrKey.is_valid_ed25519_public_key(address):
            return JSONResponse({"detail": "addr must be a G… account id"}, status_code=400)
        status, text = await anyio.to_thread.run_sync(_fund, ledger, address)
        if status != 200:
            return JSONResponse({"detail": text}, status_code=status)
        return JSONResponse({"successful": True, "account": address})

    return serve
