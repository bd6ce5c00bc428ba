"""One ledger behind two gateways: what the parity tests see of a chain.

A :class:`Chain` needs only a :class:`ChainGateway` and its :class:`SandboxControls`,
so one test body runs over the in-process ``local`` gateway (a fresh ledger per test)
and over ``soroban`` (a SorobanGateway on the session's sandbox chain, through its
Soroban RPC endpoint). That chain is shared by the whole session and its clock only
moves forward, so nothing here assumes a fresh ledger: accounts are new per test,
times are taken from the chain (a record's timestamp, :meth:`Chain.time`) and balances
are compared before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain import (
    TRAPPED,
    USDC_UNIT,
    ChainGateway,
    ContractError,
    SandboxControls,
    TxRecord,
)
from lumenlater_sdk.backend.chain.local._math import late_fee

USDC = USDC_UNIT
DAY = 86_400

BORROWER_USDC = 10_000 * USDC
"""Spendable USDC of :meth:`Chain.borrower`, for repayments."""
BORROWER_LP = 1_000_000 * USDC
"""LP deposit of :meth:`Chain.borrower`: ample collateral."""


@dataclass
class Chain:
    """A gateway, its sandbox powers and one approved merchant, new for the test."""

    name: str
    gw: ChainGateway
    sandbox: SandboxControls
    merchant: Keypair
    _wallets: dict[str, Keypair] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        return self.name == "local"

    # --- accounts -------------------------------------------------------------------
    def borrower(self, *, usdc: int = BORROWER_USDC, lp_deposit: int = BORROWER_LP) -> Keypair:
        """A new wallet with *usdc* spendable and an LP deposit of *lp_deposit*."""
        kp = Keypair.random()
        self.sandbox.fund_wallet(kp, usdc=usdc, lp_deposit=lp_deposit)
        return kp

    def wallet(self, name: str) -> Keypair:
        """The sandbox's built-in wallet *name* (``approve``, ``decline``, ``limited``)."""
        if not self._wallets:
            self._wallets = self.sandbox.builtin_wallets()
        return self._wallets[name]

    # --- time -----------------------------------------------------------------------
    def time(self) -> int:
        """The chain's time now (a ledger closed now: the gateway's ``now()`` on a
        chain that closes ledgers only for transactions is the last one's time)."""
        return self.sandbox.advance_clock(0)

    def at(self, when: int) -> int:
        """Move the clock to *when* (not in the past); the next call runs at *when*
        or, as wall time passes on a real chain's sandbox, a second or so later."""
        now = self.time()
        assert when >= now, (when, now)
        return self.sandbox.advance_clock(when - now)

    # --- calls ----------------------------------------------------------------------
    def create(self, user: Keypair, amount: int, order_id: str = "o-1") -> TxRecord:
        return self.gw.invoke(
            "bnpl_core",
            "create_bill",
            [self.merchant.public_key, user.public_key, amount, order_id],
            signer=self.merchant,
        )

    def bill(self, user: Keypair, amount: int, order_id: str = "o-1") -> int:
        """Create a bill; return its id."""
        return int(self.create(user, amount, order_id).result)

    def pay(self, bill_id: int, user: Keypair) -> TxRecord:
        return self.gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)

    def allow(self, bill_id: int, user: Keypair) -> int:
        """The user's separate USDC ``approve`` of bnpl_core for what ``repay_bill`` pulls
        with ``transfer_from``: principal + late fee from created_at to now. Returns it."""
        bill = self.get_bill(bill_id)
        principal = int(bill["principal"])
        now = self.time()
        owed = principal + late_fee(principal, int(bill["created_at"]), now, self.gw.constants())
        core = self.gw.contract_id("bnpl_core")
        self.gw.invoke("usdc", "approve", [user.public_key, core, owed, 0], signer=user)
        return owed

    def repay(self, bill_id: int, user: Keypair) -> TxRecord:
        """Approve what is owed, then ``repay_bill`` (two calls, as on chain)."""
        self.allow(bill_id, user)
        return self.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)

    def liquidate(self, bill_id: int, liquidator: Keypair) -> TxRecord:
        return self.gw.invoke(
            "bnpl_core", "liquidate_bill", [bill_id, liquidator.public_key], signer=liquidator
        )

    # --- reads ----------------------------------------------------------------------
    def read(self, contract: str, function: str, *args: Any) -> Any:
        return self.gw.read(contract, function, list(args))

    def get_bill(self, bill_id: int) -> dict[str, Any]:
        return dict(self.read("bnpl_core", "get_bill", bill_id))

    def usdc(self, address: str) -> int:
        return int(self.read("usdc", "balance", address))

    def bill_status(self, bill_id: int) -> str:
        return str(self.get_bill(bill_id)["status"])

    def config(self) -> dict[str, str]:
        return dict(self.read("bnpl_core", "get_config"))

    def id(self, contract: str) -> str:
        return self.gw.contract_id(contract)

    @contextmanager
    def refused(
        self,
        *,
        name: str = TRAPPED,
        code: int = 0,
        contract: str | None = "bnpl_core",
        message: str = "",
    ) -> Iterator[pytest.ExceptionInfo[ContractError]]:
        """Expect the call to be refused as a real network says it: the error's
        (code, name, trapped), and the *contract* it names (``None``: not checked).
        *message* is the local engine's panic string, checked only on ``local``: on a
        real network a trap carries no reason."""
        with pytest.raises(ContractError) as info:
            yield info
        e = info.value
        assert (e.code, e.name, e.trapped) == (code, name, name == TRAPPED), e
        if contract is not None:
            assert e.contract == contract, e
        if message and self.local:
            assert e.message == message, e


__all__ = ["BORROWER_LP", "BORROWER_USDC", "DAY", "USDC", "Chain"]
