"""Helpers shared by the engine tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from stellar_sdk import Keypair

from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.chain import (
    AUTH_FAILED,
    INVALID_INPUT,
    TRAPPED,
    ContractError,
    TxRecord,
)
from lumenlater_sdk.backend.chain.local import USDC_UNIT, Genesis, LocalGateway
from lumenlater_sdk.backend.chain.local._math import late_fee

SEALER = SecretBox(bytes(range(32)))
"""Seals the engine tests' genesis seeds (one key, so a second gateway opens them)."""

T0 = 1_800_000_000
"""The fake wall clock: ledger time only moves through advance_clock."""

DAY = 86_400
USDC = USDC_UNIT


TYPED = {11: "not_admin", 110: "merchant_already_enrolled", 111: "merchant_not_found"}
"""The only typed errors the contracts return (SOROBAN.md §3)."""

TRAP_MESSAGES = {
    "Already initialized": "already_initialized",
    "Merchant not approved": "merchant_not_approved",
    "Invalid amount": "invalid_amount",
    "Bill not payable": "bill_not_payable",
    "Bill expired": "bill_expired",
    "Insufficient collateral": "insufficient_collateral",
    "Bill not paid": "bill_not_paid",
    "Not LP token holder": "not_lp_token_holder",
    "Grace period not expired": "grace_period_not_expired",
    "Liquidation not possible": "liquidation_not_possible",
    "insufficient available balance": "insufficient_balance",
    "insufficient balance": "insufficient_balance",
    "insufficient balance for liquidation": "insufficient_balance",
    "allowance exceeded": "insufficient_balance",
    "Bill not found": "missing_record",
    "Merchant not found": "missing_record",
    "Config not found": "missing_record",
    "Metadata not found": "missing_record",
    "Amount must be positive": "invalid_amount",
    "Daily mint limit exceeded": "mint_limit",
    "Insufficient allowance": "insufficient_balance",
    "Insufficient balance": "insufficient_balance",
}
"""The engine's internal panic strings, by the reason a test names them with."""


def reason_of(e: ContractError) -> str:
    """What an engine refusal was, for the engine's own tests: a typed error by its code,
    a trap by its (internal) panic string. Nothing outside the engine may do this."""
    if e.code:
        return TYPED[e.code]
    if e.name == AUTH_FAILED:
        return "unauthorized"
    if e.name == INVALID_INPUT:
        return "invalid_input"
    assert e.name == TRAPPED, e
    return TRAP_MESSAGES[e.message]


@contextmanager
def refused(
    reason: str, message: str | None = None, *, contract: str | None = None
) -> Iterator[pytest.ExceptionInfo[ContractError]]:
    """Expect a ContractError that :func:`reason_of` names *reason* (and contract
    *message*, and the *contract* that refused)."""
    with pytest.raises(ContractError) as info:
        yield info
    assert reason_of(info.value) == reason, info.value
    if message is not None:
        assert info.value.message == message
    if contract is not None:
        assert info.value.contract == contract, info.value


class FakeClock:
    """A wall clock the test controls."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    """A ledger after genesis with one approved merchant."""

    gw: LocalGateway
    g: Genesis
    merchant: Keypair

    @property
    def approve(self) -> Keypair:
        return self.g.wallets["approve"]

    def bill(self, user: Keypair, amount: int, order_id: str = "o-1") -> int:
        """Create a bill; return its id."""
        rec = self.gw.invoke(
            "bnpl_core",
            "create_bill",
            [self.merchant.public_key, user.public_key, amount, order_id],
            signer=self.merchant,
        )
        return int(rec.result)

    def pay(self, bill_id: int, user: Keypair) -> None:
        self.gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)

    def allow(self, bill_id: int, user: Keypair) -> int:
        """The user's earlier, separate USDC ``approve`` of bnpl_core for principal + late
        fee (from created_at, now), which ``repay_bill`` spends with ``transfer_from``."""
        bill = self.gw.read("bnpl_core", "get_bill", [bill_id])
        principal = int(bill["principal"])
        owed = principal + late_fee(
            principal, int(bill["created_at"]), self.gw.now(), self.gw.constants()
        )
        core = self.gw.contract_id("bnpl_core")
        self.gw.invoke("usdc", "approve", [user.public_key, core, owed, 0], signer=user)
        return owed

    def repay(self, bill_id: int, user: Keypair) -> TxRecord:
        """Approve what is owed, then ``repay_bill`` (two calls, as on chain)."""
        self.allow(bill_id, user)
        return self.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)

    def usdc(self, address: str) -> int:
        return int(self.gw.read("usdc", "balance", [address]))

    def lp(self, address: str) -> int:
        return int(self.gw.read("lp_token", "balance", [address]))

    def bill_status(self, bill_id: int) -> str:
        return str(self.gw.read("bnpl_core", "get_bill", [bill_id])["status"])
