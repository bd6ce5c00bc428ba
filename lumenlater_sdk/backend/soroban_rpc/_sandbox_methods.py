"""The sandbox's own JSON-RPC methods: the powers of a development chain, named as such.

A real Soroban RPC server has no method that moves ledger time, mints at will or
approves a merchant as the admin; a development chain needs them, the way Ethereum's
development nodes add ``anvil_*`` methods beside the standard ones. These live under
the ``lumenlater_`` prefix so no client can take them for Stellar methods, and only
on the sandbox's endpoint. A backend whose chain is ``soroban`` finds them with
``lumenlater_sandbox`` and then offers the test helpers (wallets, the clock,
merchants) over a chain it reaches only through RPC.

None of them signs for an account it does not hold: funding creates the account and
mints to it (as friendbot does), and approving, suspending or rejecting a merchant
(``lumenlater_approveMerchant``, ``lumenlater_setMerchantStatus``) needs the merchant's
own, already submitted ``enroll_merchant``; the admin's change is a real transaction on
the ledger, with its events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stellar_sdk import Keypair, StrKey

from ..chain import ContractError
from ..chain.local import RpcLedger
from ._friendbot import FRIENDBOT_XLM
from ._jsonrpc import INVALID_PARAMS, Method, RpcError

__all__ = ["SANDBOX_METHODS", "sandbox_methods"]

SANDBOX_METHODS = (
    "lumenlater_sandbox",
    "lumenlater_advanceClock",
    "lumenlater_fund",
    "lumenlater_approveMerchant",
    "lumenlater_setMerchantStatus",
)
"""The extension methods, in the order ``lumenlater_sandbox`` lists them."""

# The statuses the admin sets; Pending is the enrollment's own, None is never stored.
_ADMIN_STATUSES = ("Approved", "Suspended", "Rejected", "Cancelled")

_MAX_ADVANCE = 10 * 365 * 86_400  # ten years: a bigger step is a typo, not a test


def _address(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not StrKey.is_valid_ed25519_public_key(value):
        raise RpcError(INVALID_PARAMS, f"{name} must be a G… account id")
    return value


def _count(params: Mapping[str, Any], name: str, *, limit: int | None = None) -> int:
    value = params.get(name, 0)
    # Money is integers: a float or a string amount is refused, not rounded.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RpcError(INVALID_PARAMS, f"{name} must be a non-negative integer")
    if limit is not None and value > limit:
        raise RpcError(INVALID_PARAMS, f"{name} must be at most {limit}")
    return value


def sandbox_methods(ledger: RpcLedger) -> Mapping[str, Method]:
    """The ``lumenlater_*`` methods over *ledger*'s local gateway."""
    gateway = ledger.gateway

    def describe(params: Mapping[str, Any]) -> dict[str, Any]:
        sequence, close = ledger.latest()
        return {
            "methods": list(SANDBOX_METHODS),
            "contracts": dict(gateway.describe().contracts),
            "latestLedger": sequence,
            "closeTime": close,
        }

    def advance_clock(params: Mapping[str, Any]) -> dict[str, Any]:
        seconds = _count(params, "seconds", limit=_MAX_ADVANCE)
        with ledger.transaction() as t:
            gateway.advance_clock(seconds, tx=t)
            # Close a ledger at the new time, so getLatestLedger (a client's clock) shows it.
            sequence, close = ledger.close_ledger(t)
        return {"latestLedger": sequence, "closeTime": close}

    def fund(params: Mapping[str, Any]) -> dict[str, Any]:
        address = _address(params, "address")
        usdc = _count(params, "usdc")
        with ledger.transaction() as t:
            created = ledger.account(address, tx=t) is None
            if created:
                ledger.create_account(t, address, FRIENDBOT_XLM)
            if usdc:
                # The sandbox faucet's mint is authorised by its recipient; this one is
                # made on the account's behalf, as friendbot's is, and may pass the
                # faucet's daily limit (a test wallet may need more than a day's worth).
                gateway.fund_wallet(Keypair.from_public_key(address), usdc=usdc, tx=t)
        return {"account": address, "created": created, "usdc": usdc}

    def set_status(address: str, status: str) -> dict[str, Any]:
        try:
            gateway.read("bnpl_core", "get_merchant", [address])
        except ContractError:
            raise RpcError(
                INVALID_PARAMS, "the merchant is not enrolled: submit its enroll_merchant first"
            ) from None
        # A real transaction signed by the admin, with its m_status event.
        gateway.set_merchant_status(address, status)
        return {"merchant": address, "status": status}

    def approve_merchant(params: Mapping[str, Any]) -> dict[str, Any]:
        return set_status(_address(params, "merchant"), "Approved")

    def set_merchant_status(params: Mapping[str, Any]) -> dict[str, Any]:
        address = _address(params, "merchant")
        status = params.get("status")
        if status not in _ADMIN_STATUSES:
            raise RpcError(INVALID_PARAMS, f"status must be one of {', '.join(_ADMIN_STATUSES)}")
        return set_status(address, str(status))

    return {
        "lumenlater_sandbox": describe,
        "lumenlater_advanceClock": advance_clock,
        "lumenlater_fund": fund,
        "lumenlater_approveMerchant": approve_merchant,
        "lumenlater_setMerchantStatus": set_merchant_status,
    }
