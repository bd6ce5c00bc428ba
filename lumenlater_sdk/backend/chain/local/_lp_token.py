"""lp_token: pool shares with a rising index; they are also the borrowers' collateral.

Balances are kept as shares; ``balance`` is their USDC value at the current
index. Whatever is locked as collateral (bnpl_core's required collateral for the
holder) can be neither withdrawn nor transferred.
"""

from __future__ import annotations

from typing import Any

from .._constants import INDEX_SCALE
from ._errors import missing, panic
from ._host import Contract, Host, Signature
from ._math import amount_for_shares, shares_for_amount, tdiv

__all__ = ["LpToken"]


class LpToken(Contract):
    """The liquidity pool's share token (SEP-41 subset plus the pool functions)."""

    NAME = "lp_token"
    FUNCTIONS = {
        "initialize": Signature(("address", "address", "token_metadata")),
        "set_bnpl_core": Signature(("address",)),
        "update_index": Signature(()),
        "deposit": Signature(("address", "i128")),
        "withdraw": Signature(("address", "i128")),
        "mint": Signature(("address", "i128")),
        "approve": Signature(("address", "address", "i128", "u32")),
        "transfer": Signature(("address", "address", "i128")),
        "transfer_from": Signature(("address", "address", "address", "i128")),
        "burn": Signature(("address", "i128")),
        "burn_from": Signature(("address", "address", "i128")),
        "borrow": Signature(("address", "i128")),
        "repay": Signature(("address", "i128")),
        "repay_with_burn": Signature(("address", "i128", "i128")),
        "balance": Signature(("address",), view=True),
        "raw_shares": Signature(("address",), view=True),
        "allowance": Signature(("address", "address"), view=True),
        "available_balance": Signature(("address",), view=True),
        "get_locked_balance": Signature(("address",), view=True),
        "get_balance_info": Signature(("address",), view=True),
        "total_supply": Signature((), view=True),
        "total_raw_shares": Signature((), view=True),
        "total_borrowed": Signature((), view=True),
        "total_underlying": Signature((), view=True),
        "exchange_rate": Signature((), view=True),
        "utilization_ratio": Signature((), view=True),
        "underlying_asset": Signature((), view=True),
        "get_bnpl_core": Signature((), view=True),
        "metadata": Signature((), view=True),
        "decimals": Signature((), view=True),
        "name": Signature((), view=True),
        "symbol": Signature((), view=True),
    }

    # --- setup ------------------------------------------------------------------------
    def initialize(
        self, host: Host, admin: str, underlying_asset: str, metadata: dict[str, Any]
    ) -> None:
        """Set the admin, the underlying token and the metadata; index 1.0, no shares.

        As deployed there is no already-initialised guard: a second call (signed by the
        admin it names) resets index, supply, balances, allowances and borrowed.
        """
        host.require_auth(admin)
        host.set("admin", admin)
        host.set("asset", underlying_asset)
        host.set("metadata", dict(metadata))
        host.set("index", INDEX_SCALE)
        host.set("supply", 0)
        host.set("borrowed", 0)
        for prefix in ("shares:", "allowance:"):
            for key in host.storage.scan(self.NAME, prefix):
                host.set(key, 0)

    def set_bnpl_core(self, host: Host, bnpl_core: str) -> None:
        """Name the one contract allowed to borrow (admin only)."""
        host.require_auth(self._admin(host))
        host.set("bnpl_core", bnpl_core)

    # --- reads ------------------------------------------------------------------------
    def balance(self, host: Host, id: str) -> int:
        """USDC value of *id*'s shares at the current index."""
        return amount_for_shares(self.raw_shares(host, id), self._index(host))

    def raw_shares(self, host: Host, id: str) -> int:
        """Raw shares of *id* (u128)."""
        return int(host.get(f"shares:{id}", 0))

    def allowance(self, host: Host, from_: str, spender: str) -> int:
        """What *spender* may still move or burn of *from_*'s LP (USDC units)."""
        return int(host.get(f"allowance:{from_}:{spender}", 0))

    def get_locked_balance(self, host: Host, user: str) -> int:
        """Collateral bnpl_core requires of *user* (0 before bnpl_core is set)."""
        core = host.get("bnpl_core")
        if core is None:
            return 0
        return int(host.call("bnpl_core", "get_user_required_collateral", user))

    def available_balance(self, host: Host, user: str) -> int:
        """Balance minus locked collateral, never negative."""
        return max(self.balance(host, user) - self.get_locked_balance(host, user), 0)

    def get_balance_info(self, host: Host, user: str) -> tuple[int, int, int]:
        """(total, locked, available)."""
        total = self.balance(host, user)
        locked = self.get_locked_balance(host, user)
        return (total, locked, max(total - locked, 0))

    def total_supply(self, host: Host) -> int:
        """USDC value of all shares."""
        return amount_for_shares(self.total_raw_shares(host), self._index(host))

    def total_raw_shares(self, host: Host) -> int:
        """All shares in existence (u128)."""
        return int(host.get("supply", 0))

    def total_borrowed(self, host: Host) -> int:
        """Principal bnpl_core has borrowed and not yet returned."""
        return int(host.get("borrowed", 0))

    def total_underlying(self, host: Host) -> int:
        """USDC held by the pool."""
        return int(host.call("usdc", "balance", host.address))

    def exchange_rate(self, host: Host) -> int:
        """The share index (1e9 = 1.0)."""
        return self._index(host)

    def utilization_ratio(self, host: Host) -> int:
        """Borrowed / (pool USDC + borrowed), in basis points."""
        borrowed = self.total_borrowed(host)
        total = self.total_underlying(host) + borrowed
        return 0 if total == 0 else tdiv(borrowed * 10_000, total)

    def underlying_asset(self, host: Host) -> Any:
        """The USDC contract id."""
        return host.get("asset")

    def get_bnpl_core(self, host: Host) -> Any:
        """The bnpl_core contract id, or ``None``."""
        return host.get("bnpl_core")

    def metadata(self, host: Host) -> dict[str, Any]:
        """The ``TokenMetadata`` given to ``initialize``; traps before it."""
        metadata = host.get("metadata")
        if metadata is None:
            raise missing(self.NAME, "Metadata")
        return dict(metadata)

    def decimals(self, host: Host) -> int:
        """7, as deployed (USDC's decimals: balances are in USDC units)."""
        return 7

    def name(self, host: Host) -> str:
        """The metadata's name (upstream: "BNPL LP Token")."""
        return str(self.metadata(host)["name"])

    def symbol(self, host: Host) -> str:
        """The metadata's symbol (upstream: "BNPLP")."""
        return str(self.metadata(host)["symbol"])

    # --- pool -------------------------------------------------------------------------
    def update_index(self, host: Host) -> None:
        """Raise the index when the pool holds more than its shares are worth (fee yield)."""
        supply = self.total_raw_shares(host)
        if supply == 0:
            return
        total_assets = self.total_underlying(host) + self.total_borrowed(host)
        if total_assets <= 0:
            return
        if total_assets > amount_for_shares(supply, self._index(host)):
            host.set("index", tdiv(total_assets * INDEX_SCALE, supply))

    def deposit(self, host: Host, from_: str, amount: int) -> int:
        """Take *amount* USDC from *from_* and mint shares for it."""
        host.require_auth(from_)
        if amount <= 0:
            raise panic(self.NAME, "InvalidAmount")
        # The index first, so the deposit does not count as yield and buys at the fair rate.
        self.update_index(host)
        host.call("usdc", "transfer", from_, host.address, amount)
        minted = shares_for_amount(amount, self._index(host))
        self._add_shares(host, from_, minted)
        host.set("supply", self.total_raw_shares(host) + minted)
        host.emit(("deposit", from_), {"user": from_, "amount": amount, "shares_minted": minted})
        return amount

    def withdraw(self, host: Host, from_: str, amount: int) -> int:
        """Burn the shares worth *amount* (at most the available balance) and pay out
        exactly *amount* USDC, as deployed."""
        host.require_auth(from_)
        if amount <= 0:
            raise panic(self.NAME, "InvalidAmount")
        if amount > self.available_balance(host, from_):
            raise panic(self.NAME, "InsufficientAvailableBalance")
        burned = shares_for_amount(amount, self._index(host))
        if burned > self.raw_shares(host, from_):
            raise panic(self.NAME, "InsufficientBalance")
        self._add_shares(host, from_, -burned)
        host.set("supply", self.total_raw_shares(host) - burned)
        host.call("usdc", "transfer", host.address, from_, amount)
        host.emit(("withdraw", from_), {"user": from_, "amount": amount, "shares_burned": burned})
        return amount

    def mint(self, host: Host, to: str, amount: int) -> None:
        """Mint shares worth *amount* at the index for *to* (stored admin; no USDC moves)."""
        host.require_auth(self._admin(host))
        if amount < 0:
            raise panic(self.NAME, "InvalidAmount")
        minted = shares_for_amount(amount, self._index(host))
        self._add_shares(host, to, minted)
        host.set("supply", self.total_raw_shares(host) + minted)  # as deployed: no event

    def approve(
        self, host: Host, from_: str, spender: str, amount: int, expiration_ledger: int
    ) -> None:
        """Let *spender* move or burn up to *amount* of *from_*'s LP (expiration ignored)."""
        host.require_auth(from_)
        if amount < 0:
            raise panic(self.NAME, "InvalidAmount")
        host.set(f"allowance:{from_}:{spender}", amount)  # as deployed: no event

    def transfer(self, host: Host, from_: str, to: str, amount: int) -> None:
        """Move LP worth *amount* (at most the available balance)."""
        host.require_auth(from_)
        self._transfer(host, from_, to, amount)

    def transfer_from(self, host: Host, spender: str, from_: str, to: str, amount: int) -> None:
        """Move *from_*'s LP worth *amount* against *spender*'s allowance."""
        host.require_auth(spender)
        self._spend_allowance(host, from_, spender, amount)
        self._transfer(host, from_, to, amount)

    def burn(self, host: Host, from_: str, amount: int) -> None:
        """Burn *from_*'s shares worth *amount* (at most the available balance)."""
        host.require_auth(from_)
        self._check_available(host, from_, amount)
        self._burn(host, from_, amount)

    def burn_from(self, host: Host, spender: str, from_: str, amount: int) -> None:
        """Burn *from_*'s shares worth *amount* against *spender*'s allowance."""
        host.require_auth(spender)
        self._check_available(host, from_, amount)
        self._spend_allowance(host, from_, spender, amount)
        self._burn(host, from_, amount)

    def borrow(self, host: Host, to: str, amount: int) -> None:
        """Lend pool USDC to *to* (bnpl_core only, no interest)."""
        host.require_auth(self._core(host))
        host.set("borrowed", self.total_borrowed(host) + amount)
        host.call("usdc", "transfer", host.address, to, amount)
        host.emit(("borrow", to), {"borrower": to, "amount": amount})

    def repay(self, host: Host, from_: str, amount: int) -> None:
        """Take back up to what is borrowed from *from_* (bnpl_core only)."""
        host.require_auth(self._core(host))
        borrowed = self.total_borrowed(host)
        repaid = min(amount, borrowed)
        host.set("borrowed", borrowed - repaid)
        host.call("usdc", "transfer_from", host.address, from_, host.address, repaid)
        host.emit(("repay", from_), {"repayer": from_, "amount": repaid})

    def repay_with_burn(self, host: Host, from_: str, amount: int, fee: int) -> None:
        """Liquidation: burn *from_*'s shares worth amount + fee, write off *amount* of
        the debt, and send *fee* USDC to bnpl_core (bnpl_core only)."""
        core = self._core(host)
        host.require_auth(core)
        total = amount + fee
        burned = shares_for_amount(total, self._index(host))
        if burned > self.raw_shares(host, from_):
            raise panic(self.NAME, "InsufficientCollateralForLiquidation")
        self._add_shares(host, from_, -burned)
        host.set("supply", self.total_raw_shares(host) - burned)
        host.set("borrowed", max(self.total_borrowed(host) - amount, 0))
        if fee > 0:
            host.call("usdc", "transfer", host.address, core, fee)
        host.emit(("liq_burn", from_), {"user": from_, "amount_burned": total, "fee": fee})

    # --- helpers ----------------------------------------------------------------------
    def _index(self, host: Host) -> int:
        return int(host.get("index", INDEX_SCALE))

    def _admin(self, host: Host) -> str:
        admin = host.get("admin")
        if admin is None:
            raise missing(self.NAME, "Admin")
        return str(admin)

    def _core(self, host: Host) -> str:
        core = host.get("bnpl_core")
        if core is None:
            raise missing(self.NAME, "bnpl_core address")
        return str(core)

    def _check_available(self, host: Host, from_: str, amount: int) -> None:
        if amount < 0:
            raise panic(self.NAME, "InvalidAmount")
        if amount > self.available_balance(host, from_):
            raise panic(self.NAME, "InsufficientAvailableBalance")

    def _spend_allowance(self, host: Host, from_: str, spender: str, amount: int) -> None:
        current = self.allowance(host, from_, spender)
        if current < amount:
            raise panic(self.NAME, "AllowanceExceeded")
        host.set(f"allowance:{from_}:{spender}", current - amount)

    def _transfer(self, host: Host, from_: str, to: str, amount: int) -> None:
        self._check_available(host, from_, amount)
        moved = shares_for_amount(amount, self._index(host))
        if moved > self.raw_shares(host, from_):
            raise panic(self.NAME, "InsufficientBalance")
        self._add_shares(host, from_, -moved)
        self._add_shares(host, to, moved)  # as deployed: lp_token emits no transfer event

    def _burn(self, host: Host, from_: str, amount: int) -> None:
        burned = shares_for_amount(amount, self._index(host))
        if burned > self.raw_shares(host, from_):
            raise panic(self.NAME, "InsufficientBalance")
        self._add_shares(host, from_, -burned)
        host.set("supply", self.total_raw_shares(host) - burned)  # as deployed: no event

    def _add_shares(self, host: Host, user: str, delta: int) -> None:
        host.set(f"shares:{user}", self.raw_shares(host, user) + delta)
