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

from stellar_sdk import Keypair

from ..db import Tx
from ._gateway import TxRecord

__all__ = ["Genesis", "SandboxControls"]


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
    def genesis(self, *, tx: Tx | None = None) -> Genesis:
        """The admin, treasury, insurance and liquidity-provider accounts and the
        built-in wallets (``approve``, ``decline``, ``limited``), made on first use."""

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
