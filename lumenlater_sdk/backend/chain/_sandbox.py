"""Sandbox controls: the powers a sandbox ledger has and a real chain does not.

A real network has no admin key the backend may hold, no clock it can move and no
faucet that pays LP deposits, so these are not part of
:class:`~lumenlater_sdk.backend.chain.ChainGateway`. A gateway that offers them
(the ``local`` one) implements this interface as well; the backend hands it to the
services as ``ctx.sandbox``, which is ``None`` on a real chain.

It is an :class:`abc.ABC` rather than a :class:`typing.Protocol` on purpose: a
gateway *declares* that it is a sandbox by inheriting it, so a gateway that merely
has a method called ``advance_clock`` is never taken for one, and one that forgets a
power fails when it is built, not when a test helper is first called.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Protocol

from stellar_sdk import Keypair

from ..db import Tx
from ._constants import INDEX_SCALE, SCALE, USDC_UNIT, ProtocolConstants
from ._gateway import TxRecord

__all__ = [
    "APPROVE_COLLATERAL",
    "LIMITED_BORROWING",
    "WALLET_NAMES",
    "WALLET_USDC",
    "Genesis",
    "SandboxControls",
    "Sealer",
    "builtin_wallet_funds",
    "deposit_for_balance",
    "lp_for_borrowing",
]

APPROVE_COLLATERAL = 1_000_000 * USDC_UNIT
"""LP deposit of the ``approve`` wallet: ample collateral."""

LIMITED_BORROWING = 100 * USDC_UNIT
"""Borrowing power of the ``limited`` wallet, exactly."""

WALLET_USDC = 10_000 * USDC_UNIT
"""Spendable USDC given to the ``approve`` and ``limited`` wallets, for repayments."""

WALLET_NAMES = ("approve", "decline", "limited")
"""The built-in wallets every sandbox has."""


def lp_for_borrowing(target: int, c: ProtocolConstants) -> int:
    """The smallest LP balance whose borrowing power (* MAX_LTV, truncated) is *target*."""
    if c.max_ltv <= 0:
        raise ValueError("MAX_LTV is 0: no LP balance gives borrowing power")
    return -(-target * SCALE // c.max_ltv)


def deposit_for_balance(balance: int, index: int) -> int:
    """The USDC deposit that leaves an LP balance (``lp_token.balance``) of *balance*
    when the share index is *index* (at least :data:`INDEX_SCALE`, it only grows).

    It buys ``s``, the fewest shares worth *balance*, so the balance is *balance*
    unless no share count is worth exactly that (then the next value up)."""
    shares = -(-balance * INDEX_SCALE // index)
    return -(-shares * index // INDEX_SCALE)


def builtin_wallet_funds(c: ProtocolConstants) -> dict[str, tuple[int, int]]:
    """``{name: (spendable usdc, lp balance)}`` of the built-in wallets, on any sandbox
    (at a share index of 1.0 the LP balance is the deposit):
    ``approve`` has ample collateral, ``decline`` none, ``limited`` a borrowing power of
    exactly :data:`LIMITED_BORROWING`."""
    return {
        "approve": (WALLET_USDC, APPROVE_COLLATERAL),
        "decline": (0, 0),
        "limited": (WALLET_USDC, lp_for_borrowing(LIMITED_BORROWING, c)),
    }


class Sealer(Protocol):
    """Seals secrets at rest (the backend's ``SecretBox``): the seeds of a sandbox's
    accounts."""

    def seal(self, plaintext: str) -> str:
        """The sealed text of *plaintext*."""
        ...

    def open(self, sealed: str) -> str:
        """The plaintext of *sealed*; raises if it was tampered with."""
        ...


@dataclass(frozen=True)
class Genesis:
    """The genesis accounts (with their secret seeds) and the contract ids."""

    admin: Keypair
    treasury: Keypair
    insurance: Keypair
    liquidity_provider: Keypair
    wallets: dict[str, Keypair] = field(default_factory=dict)
    contract_ids: dict[str, str] = field(default_factory=dict)


class SandboxControls(abc.ABC):
    """What only a sandbox ledger can do: services reach it as ``ctx.sandbox``."""

    @abc.abstractmethod
    def builtin_wallets(self, *, tx: Tx | None = None) -> dict[str, Keypair]:
        """The built-in wallets (``approve``, ``decline``, ``limited``; see
        :func:`builtin_wallet_funds`), funded on first use."""

    @abc.abstractmethod
    def liquidator(self, *, tx: Tx | None = None) -> Keypair:
        """An account holding LP tokens that the sandbox liquidates bills as."""

    @abc.abstractmethod
    def advance_clock(self, seconds: int, *, tx: Tx | None = None) -> int:
        """Move ledger time forward by *seconds*; return the new time."""

    @abc.abstractmethod
    def fund_wallet(
        self, keypair: Keypair, *, usdc: int = 0, lp_deposit: int = 0, tx: Tx | None = None
    ) -> list[TxRecord]:
        """Give *keypair* *usdc* spendable USDC and an LP deposit of *lp_deposit*."""

    @abc.abstractmethod
    def enroll_and_approve_merchant(
        self, merchant: Keypair, merchant_info_id: str, tx: Tx | None = None
    ) -> list[TxRecord]:
        """Enroll *merchant* (signed by it) and approve it as the admin."""

    def approve_merchant(self, address: str, *, tx: Tx | None = None) -> list[TxRecord]:
        """Approve the enrolled merchant *address* as the protocol admin: a
        :meth:`set_merchant_status` to ``Approved``."""
        return self.set_merchant_status(address, "Approved", tx=tx)

    @abc.abstractmethod
    def set_merchant_status(
        self, address: str, status: str, *, tx: Tx | None = None
    ) -> list[TxRecord]:
        """``update_merchant_status(admin, merchant, status)`` as the protocol admin for the
        enrolled merchant *address* (*status* a ``MerchantStatus`` variant: ``Approved``,
        ``Suspended``, ``Rejected``, ...); nothing if it has that status already. A
        merchant that never enrolled is the contract's ``MerchantNotFound``
        (:class:`ContractError` code 111). The records are those of calls whose events
        the caller can ingest (a chain reached through RPC may return none: its events
        then arrive through ``events_after``)."""
