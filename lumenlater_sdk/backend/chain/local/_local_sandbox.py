"""The sandbox's own controls of the local ledger: its clock, its genesis, funding
wallets, approving merchants (``SandboxControls``, mixed into ``LocalGateway``)."""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from stellar_sdk import Keypair

from ...db import Row, Tx
from .._constants import ProtocolConstants
from .._gateway import ContractError, TxRecord
from .._sandbox import Genesis, SandboxControls, Sealer, builtin_wallet_funds
from ._genesis import (
    DEFAULT_POOL_LIQUIDITY,
    LP_METADATA,
    ROLES,
    USDC_MINT_LIMIT,
    load_accounts,
    save_account,
)
from ._ids import address_of
from ._ledger_hold import held

__all__ = ["ACCOUNT_START_BALANCE", "LocalSandboxControls"]

ACCOUNT_START_BALANCE = 10_000 * 10_000_000
"""Native balance (stroops) of an account the sandbox made: 10,000 XLM."""


class LocalSandboxControls(SandboxControls):
    """``SandboxControls`` on the local ledger, through the gateway's own calls: what a
    sandbox may do that a deployed network would not let it (move the clock) or lets
    anyone do (the USDC faucet), signed as the deployed contracts require."""

    # The gateway's, set in its __init__.
    _ids: dict[str, str]
    _sealer: Sealer
    _clock: Callable[[], float]
    _constants: ProtocolConstants
    _genesis: Genesis | None
    _genesis_lock: threading.Lock

    @abc.abstractmethod
    def _calls(self, tx: Tx | None) -> AbstractContextManager[Tx]: ...

    @abc.abstractmethod
    def _atomic(self, tx: Tx | None) -> AbstractContextManager[Tx]: ...

    @abc.abstractmethod
    def _ledger(self, t: Tx, *, lock: bool = False) -> Row: ...

    @abc.abstractmethod
    def _time(self, ledger: Row) -> int: ...

    @abc.abstractmethod
    def _execute(
        self, t: Tx, contract: str, function: str, args: Sequence[Any], signer: Keypair
    ) -> TxRecord: ...

    @abc.abstractmethod
    def read(
        self, contract: str, function: str, args: Sequence[Any] = (), *, tx: Tx | None = None
    ) -> Any: ...

    @abc.abstractmethod
    def create_account(
        self, t: Tx, account_id: str, balance: int, *, ledger: int | None = None
    ) -> int: ...

    def advance_clock(self, seconds: int, *, tx: Tx | None = None) -> int:
        """Move ledger time forward by *seconds* (persisted); return the new time."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise ValueError("seconds must be a non-negative int")
        with self._calls(tx) as t:
            target = self._time(self._ledger(t, lock=True)) + seconds
            held(t).change(clock_offset=target - int(self._clock()), last_time=target)
            return target

    def genesis(
        self, *, pool_liquidity: int = DEFAULT_POOL_LIQUIDITY, tx: Tx | None = None
    ) -> Genesis:
        """Deploy and fund the contracts once; later calls return the stored genesis.

        Creates the admin, treasury, insurance and liquidity-provider accounts,
        initialises the contracts, deposits *pool_liquidity* USDC into the pool and
        makes the sandbox wallets ``approve`` (ample collateral), ``decline`` (no
        LP) and ``limited`` (borrowing power exactly 100 USDC).
        """
        if self._genesis is not None:
            return self._genesis
        with self._genesis_lock, self._atomic(tx) as t:
            ledger = self._ledger(t, lock=True)
            stored = load_accounts(t, self._ids, self._sealer) if ledger["genesis"] else None
            if stored is None:
                stored = self._create_genesis(t, pool_liquidity)
                held(t).change(genesis=1)
        if tx is None:
            # Only once committed: a caller's transaction might still roll back.
            self._genesis = stored
        return stored

    def builtin_wallets(self, *, tx: Tx | None = None) -> dict[str, Keypair]:
        """The genesis wallets (made with the genesis)."""
        return dict(self.genesis(tx=tx).wallets)

    def liquidator(self, *, tx: Tx | None = None) -> Keypair:
        """The genesis liquidity provider (it holds the pool's LP tokens)."""
        return self.genesis(tx=tx).liquidity_provider

    def fund_wallet(
        self, keypair: Keypair, *, usdc: int = 0, lp_deposit: int = 0, tx: Tx | None = None
    ) -> list[TxRecord]:
        """Leave *usdc* spendable USDC and an LP deposit of *lp_deposit* with *keypair*.

        ``usdc + lp_deposit`` comes from the USDC faucet within its daily limit
        (see ``_mint``); the wallet deposits *lp_deposit* into lp_token. Needs
        :meth:`genesis` first.
        """
        for name, value in (("usdc", usdc), ("lp_deposit", lp_deposit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int")
        with self._calls(tx) as t:
            self._stored_genesis(t)
            return self._fund(t, keypair, usdc, lp_deposit)

    def enroll_and_approve_merchant(
        self, merchant: Keypair, merchant_info_id: str, tx: Tx | None = None
    ) -> list[TxRecord]:
        """Enroll *merchant* (signed by it) and approve it (signed by the admin).

        Steps already done are skipped, so calling it again is harmless.
        """
        with self._calls(tx) as t:
            admin = self._stored_genesis(t).admin
            address = merchant.public_key
            records: list[TxRecord] = []
            try:
                status = self.read("bnpl_core", "get_merchant", [address], tx=t)["status"]
            except ContractError as e:
                if not e.trapped:  # an unknown merchant traps, as deployed
                    raise
                records.append(
                    self._execute(
                        t, "bnpl_core", "enroll_merchant", [address, merchant_info_id], merchant
                    )
                )
                status = "Pending"
            if status != "Approved":
                records.append(
                    self._execute(
                        t,
                        "bnpl_core",
                        "update_merchant_status",
                        [admin.public_key, address, "Approved"],
                        admin,
                    )
                )
            return records

    def set_merchant_status(
        self, address: str, status: str, *, tx: Tx | None = None
    ) -> list[TxRecord]:
        """``update_merchant_status(admin, address, status)`` signed by the genesis admin,
        unless the merchant has *status* already (an unknown one: ``MerchantNotFound``)."""
        with self._calls(tx) as t:
            admin = self._stored_genesis(t).admin
            try:
                current = self.read("bnpl_core", "get_merchant", [address], tx=t)["status"]
            except ContractError as e:
                if not e.trapped:
                    raise
                current = None  # the contract's own update refuses it: MerchantNotFound
            if current == status:
                return []
            args = [admin.public_key, address, status]
            return [self._execute(t, "bnpl_core", "update_merchant_status", args, admin)]

    # --- internals --------------------------------------------------------------------
    def _stored_genesis(self, t: Tx) -> Genesis:
        # Once committed the genesis never changes: no reload (and unsealing of every
        # seed) for each wallet funding or merchant approval.
        if self._genesis is not None:
            return self._genesis
        stored = load_accounts(t, self._ids, self._sealer)
        if stored is None:
            raise RuntimeError("the local ledger has no genesis yet: call genesis() first")
        return stored

    def _fund(self, t: Tx, keypair: Keypair, usdc: int, lp_deposit: int) -> list[TxRecord]:
        address = address_of(keypair)
        # A funded wallet is a Stellar account too: it can sign its own transactions. It
        # exists as of the ledger before its funding, and is written after the calls, so
        # one refused leaves no account behind (no SAVEPOINT needed, see _calls).
        ledger = int(self._ledger(t, lock=True)["sequence"])
        records = self._mint(t, keypair, usdc + lp_deposit)
        if lp_deposit > 0:
            records.append(self._execute(t, "lp_token", "deposit", [address, lp_deposit], keypair))
        self.create_account(t, address, ACCOUNT_START_BALANCE, ledger=ledger)
        return records

    def _mint(self, t: Tx, keypair: Keypair, amount: int) -> list[TxRecord]:
        """*amount* USDC for *keypair*, only as the deployed faucet allows anyone.

        The USDC keeps upstream's mint limit (1,000,000 USDC per address per UTC day,
        which its admin cannot bypass either), so the sandbox asks nothing of it that
        testnet would refuse: *keypair* mints what is left of its own daily limit
        (signing its ``mint``), and the rest is minted by fresh one-off faucet accounts,
        each within its own limit, that transfer it on. The genesis pool's 10,000,000
        USDC thus arrives as the provider's own mint plus nine faucet transfers.
        """
        if amount <= 0:
            return []
        address = address_of(keypair)
        limit = int(self.read("usdc", "get_mint_limit", tx=t))
        own = min(amount, limit - int(self.read("usdc", "get_daily_minted", [address], tx=t)))
        records = []
        if own > 0:
            records.append(self._execute(t, "usdc", "mint", [address, own], keypair))
        rest = amount - max(own, 0)
        while rest > 0:
            part, faucet = min(rest, limit), Keypair.random()
            records.append(self._execute(t, "usdc", "mint", [faucet.public_key, part], faucet))
            records.append(
                self._execute(t, "usdc", "transfer", [faucet.public_key, address, part], faucet)
            )
            rest -= part
        return records

    def _create_genesis(self, t: Tx, pool_liquidity: int) -> Genesis:
        keys = {role: Keypair.random() for role in ROLES}
        for role, kp in keys.items():
            save_account(t, role, kp, self._sealer)
        admin = keys["admin"]
        ids = self._ids
        self._execute(
            t,
            "usdc",
            "initialize",
            [admin.public_key, "USD Coin", "USDC", 7, USDC_MINT_LIMIT],
            admin,
        )
        self._execute(
            t, "lp_token", "initialize", [admin.public_key, ids["usdc"], LP_METADATA], admin
        )
        self._execute(t, "lp_token", "set_bnpl_core", [ids["bnpl_core"]], admin)
        self._execute(
            t,
            "bnpl_core",
            "initialize",
            [
                ids["lp_token"],
                ids["usdc"],
                admin.public_key,
                keys["treasury"].public_key,
                keys["insurance"].public_key,
            ],
            admin,
        )
        if pool_liquidity > 0:
            self._fund(t, keys["liquidity_provider"], 0, pool_liquidity)
        wallets = {}
        for name, (usdc, lp_deposit) in builtin_wallet_funds(self._constants).items():
            wallets[name] = kp = Keypair.random()
            save_account(t, f"wallet:{name}", kp, self._sealer)
            if usdc or lp_deposit:
                self._fund(t, kp, usdc, lp_deposit)
        return Genesis(
            admin=admin,
            treasury=keys["treasury"],
            insurance=keys["insurance"],
            liquidity_provider=keys["liquidity_provider"],
            wallets=wallets,
            contract_ids=dict(ids),
        )
