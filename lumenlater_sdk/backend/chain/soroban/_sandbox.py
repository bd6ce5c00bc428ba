"""Sandbox powers over a development chain that the backend reaches only through RPC.

A backend whose chain is ``soroban`` has no admin key, no clock and no faucet of its
own. When the RPC endpoint is the sandbox's (``lumenlater sandbox --soroban-rpc``),
it offers those powers as its ``lumenlater_*`` methods, and :func:`rpc_sandbox`
makes them this backend's :class:`~..SandboxControls`, so the test helpers (wallets,
the clock, merchants) work over a real RPC round trip. What a wallet or merchant
signs, it signs here, through the gateway, as on any network: the chain only mints,
moves its clock and approves as its admin.

The built-in wallets and the liquidator are this backend's own accounts, funded once
and kept (seeds sealed) in ``soroban_sandbox_accounts``.
"""

from __future__ import annotations

import threading
from typing import Any

from stellar_sdk import Keypair

from ...db import Database, Tx
from .._constants import INDEX_SCALE, USDC_UNIT
from .._gateway import ContractError, TxRecord
from .._sandbox import SandboxControls, Sealer, builtin_wallet_funds, deposit_for_balance
from ._gateway import SorobanGateway
from ._journal import Journal
from ._rpc import Rpc

__all__ = ["REQUIRED_METHODS", "RpcSandbox", "rpc_sandbox"]

REQUIRED_METHODS = frozenset(
    {"lumenlater_advanceClock", "lumenlater_fund", "lumenlater_setMerchantStatus"}
)
"""The extension methods an endpoint must list in ``lumenlater_sandbox``."""

LIQUIDATOR_LP = 1_000 * USDC_UNIT
"""The liquidator's LP deposit: liquidate_bill needs the liquidator to hold LP tokens."""


def rpc_sandbox(gateway: SorobanGateway, db: Database, sealer: Sealer) -> RpcSandbox | None:
    """The sandbox powers of *gateway*'s RPC endpoint, or ``None`` on a real network
    (an endpoint without ``lumenlater_sandbox``)."""
    rpc = Rpc(gateway.describe().rpc_url or "")
    found = rpc.extension("lumenlater_sandbox", {})
    if found is None or not set(found.get("methods") or ()) >= REQUIRED_METHODS:
        return None
    return RpcSandbox(gateway, rpc, db, sealer)


class RpcSandbox(SandboxControls):
    """:class:`SandboxControls` through a development chain's ``lumenlater_*`` methods.

    Unlike the local ledger's powers these are not transactional with the caller's
    database transaction (*tx* is not used): each is real transactions on the chain.
    """

    def __init__(self, gateway: SorobanGateway, rpc: Rpc, db: Database, sealer: Sealer) -> None:
        self._gateway, self._rpc, self._sealer = gateway, rpc, sealer
        self._journal = Journal(db)
        self._lock = threading.Lock()
        self._accounts: dict[str, Keypair] = {}

    def builtin_wallets(self, *, tx: Tx | None = None) -> dict[str, Keypair]:
        """``approve``, ``decline`` and ``limited``, with the LP balances they have on the
        local ledger (the deposit for it is worked out from the pool's share index)."""
        funds = builtin_wallet_funds(self._gateway.constants())
        return {name: self._account(name, *funds[name]) for name in funds}

    def liquidator(self, *, tx: Tx | None = None) -> Keypair:
        """An account of this backend with an LP balance of :data:`LIQUIDATOR_LP`."""
        return self._account("liquidator", 0, LIQUIDATOR_LP)

    def advance_clock(self, seconds: int, *, tx: Tx | None = None) -> int:
        """``lumenlater_advanceClock``: the chain closes a ledger *seconds* later."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise ValueError("seconds must be a non-negative int")
        moved = self._call("lumenlater_advanceClock", {"seconds": seconds})
        self._gateway.refresh()
        return int(moved["closeTime"])

    def fund_wallet(
        self, keypair: Keypair, *, usdc: int = 0, lp_deposit: int = 0, tx: Tx | None = None
    ) -> list[TxRecord]:
        """``lumenlater_fund`` mints ``usdc + lp_deposit`` (making the account if need
        be); the wallet itself then deposits *lp_deposit* into lp_token."""
        for name, value in (("usdc", usdc), ("lp_deposit", lp_deposit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int")
        self._call("lumenlater_fund", {"address": keypair.public_key, "usdc": usdc + lp_deposit})
        if not lp_deposit:
            return []
        deposit = [keypair.public_key, lp_deposit]
        return [self._gateway.invoke("lp_token", "deposit", deposit, signer=keypair)]

    def enroll_and_approve_merchant(
        self, merchant: Keypair, merchant_info_id: str, tx: Tx | None = None
    ) -> list[TxRecord]:
        """The merchant enrolls itself (a transaction it signs here); the chain's admin
        approves it (``lumenlater_approveMerchant``). Steps already done are skipped."""
        address = merchant.public_key
        self._call("lumenlater_fund", {"address": address, "usdc": 0})
        records: list[TxRecord] = []
        try:
            self._gateway.read("bnpl_core", "get_merchant", [address])
        except ContractError as exc:
            if not exc.trapped:  # an unknown merchant traps, as deployed
                raise
            records.append(
                self._gateway.invoke(
                    "bnpl_core", "enroll_merchant", [address, merchant_info_id], signer=merchant
                )
            )
        self._call("lumenlater_approveMerchant", {"merchant": address})
        return records

    def set_merchant_status(
        self, address: str, status: str, *, tx: Tx | None = None
    ) -> list[TxRecord]:
        """``lumenlater_setMerchantStatus``: the chain's admin sets the enrolled merchant's
        status (a real transaction there, whose ``m_status`` event comes back through
        ``events_after``: nothing is returned). A merchant that never enrolled is
        ``MerchantNotFound``, as the contract reports it."""
        try:
            self._gateway.read("bnpl_core", "get_merchant", [address])
        except ContractError as exc:
            if not exc.trapped:
                raise
            raise ContractError(
                "bnpl_core", 111, "MerchantNotFound", f"merchant {address} is not enrolled"
            ) from None
        self._call("lumenlater_setMerchantStatus", {"merchant": address, "status": status})
        return []

    # --- internals ------------------------------------------------------------------------
    def _call(self, method: str, params: dict[str, object]) -> dict[str, Any]:
        result = self._rpc.extension(method, params)
        if result is None:  # it listed the method in lumenlater_sandbox
            raise RuntimeError(f"the sandbox chain no longer offers {method}")
        return result

    def _account(self, name: str, usdc: int, lp_balance: int) -> Keypair:
        with self._lock:
            if name in self._accounts:
                return self._accounts[name]
            kp = self._stored(name)
            if kp is None:
                made = Keypair.random()
                if lp_balance:
                    lp_balance = deposit_for_balance(lp_balance, self._share_index())
                self.fund_wallet(made, usdc=usdc, lp_deposit=lp_balance)
                # Another process may have made it meanwhile: the first one stored wins
                # (the other's funded account is left unused, a sandbox's small loss).
                self._journal.add_sandbox_account(
                    name, made.public_key, self._sealer.seal(made.secret)
                )
                kp = self._stored(name)
                assert kp is not None
            self._accounts[name] = kp
            return kp

    def _share_index(self) -> int:
        """The index a deposit buys at: ``exchange_rate()`` as lp_token's ``update_index``
        raises it first (to the pool's assets per share, when fees made them grow)."""
        read = self._gateway.read
        index = int(read("lp_token", "exchange_rate"))
        supply = int(read("lp_token", "total_raw_shares"))
        assets = int(read("lp_token", "total_underlying")) + int(read("lp_token", "total_borrowed"))
        if supply and assets > supply * index // INDEX_SCALE:
            index = assets * INDEX_SCALE // supply
        return index

    def _stored(self, name: str) -> Keypair | None:
        found = self._journal.sandbox_account(name)
        return None if found is None else Keypair.from_secret(self._sealer.open(found[1]))
