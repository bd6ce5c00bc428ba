"""The USDC test token as deployed (SOROBAN.md §4): a SEP-41 token whose ``mint`` is a
self-service faucet, limited per address per UTC day; not a Stellar Asset Contract."""

from __future__ import annotations

from typing import Any

from .._constants import SECONDS_PER_DAY
from ._errors import missing, panic
from ._host import Contract, Host, Signature

__all__ = ["UsdcToken"]


class UsdcToken(Contract):
    """USDC. Every balance change emits one ``transfer``, ``mint`` or ``burn`` event."""

    NAME = "usdc"
    FUNCTIONS = {
        "initialize": Signature(("address", "string", "string", "u32", "i128")),
        "mint": Signature(("address", "i128")),
        "burn": Signature(("address", "i128")),
        "burn_from": Signature(("address", "address", "i128")),
        "transfer": Signature(("address", "address", "i128")),
        "approve": Signature(("address", "address", "i128", "u32")),
        "transfer_from": Signature(("address", "address", "address", "i128")),
        "balance": Signature(("address",), view=True),
        "allowance": Signature(("address", "address"), view=True),
        "total_supply": Signature((), view=True),
        "decimals": Signature((), view=True),
        "name": Signature((), view=True),
        "symbol": Signature((), view=True),
        "get_mint_limit": Signature((), view=True),
        "get_daily_minted": Signature(("address",), view=True),
    }

    def initialize(
        self, host: Host, admin: str, name: str, symbol: str, decimals: int, mint_limit: int
    ) -> None:
        """Store the admin, the metadata and the daily mint limit (once; no auth)."""
        if host.get("admin") is not None:
            raise panic(self.NAME, "AlreadyInitialized")
        host.set("admin", admin)
        host.set("metadata", {"decimal": decimals, "name": name, "symbol": symbol})
        host.set("mint_limit", mint_limit)
        host.set("total_supply", 0)

    def mint(self, host: Host, to: str, amount: int) -> None:
        """The faucet: *to* mints for itself, at most the mint limit per UTC day."""
        host.require_auth(to)
        self._positive(amount)
        day = host.timestamp // SECONDS_PER_DAY
        minted = self.get_daily_minted(host, to)
        if minted + amount > self.get_mint_limit(host):
            raise panic(self.NAME, "DailyMintLimitExceeded")
        host.set(f"last_mint:{to}", day)
        host.set(f"daily_minted:{to}", minted + amount)
        host.set(f"balance:{to}", self.balance(host, to) + amount)
        host.set("total_supply", self.total_supply(host) + amount)
        host.emit(("mint", self._admin(host), to), amount)

    def burn(self, host: Host, from_: str, amount: int) -> None:
        """Destroy *amount* of *from_*'s balance."""
        host.require_auth(from_)
        self._positive(amount)
        self._burn(host, from_, amount)

    def burn_from(self, host: Host, spender: str, from_: str, amount: int) -> None:
        """Destroy *amount* of *from_*'s balance against *spender*'s allowance."""
        host.require_auth(spender)
        self._positive(amount)
        self._spend_allowance(host, from_, spender, amount)
        self._burn(host, from_, amount)

    def balance(self, host: Host, id: str) -> int:
        """The balance of *id* (0 if it never held any)."""
        return int(host.get(f"balance:{id}", 0))

    def transfer(self, host: Host, from_: str, to: str, amount: int) -> None:
        """Move *amount* (> 0) from *from_* (who must authorise) to *to*."""
        host.require_auth(from_)
        self._positive(amount)
        self._move(host, from_, to, amount)

    def approve(
        self, host: Host, from_: str, spender: str, amount: int, expiration_ledger: int
    ) -> None:
        """Let *spender* move up to *amount*; as deployed the expiration is never checked."""
        host.require_auth(from_)
        host.set(f"allowance:{from_}:{spender}", amount)
        host.emit(("approve", from_, spender), [amount, expiration_ledger])

    def allowance(self, host: Host, from_: str, spender: str) -> int:
        """What *spender* may still move from *from_*."""
        return int(host.get(f"allowance:{from_}:{spender}", 0))

    def transfer_from(self, host: Host, spender: str, from_: str, to: str, amount: int) -> None:
        """Move *amount* (> 0) from *from_* to *to* against *spender*'s allowance."""
        host.require_auth(spender)
        self._positive(amount)
        self._spend_allowance(host, from_, spender, amount)
        self._move(host, from_, to, amount)

    def total_supply(self, host: Host) -> int:
        """Minted minus burned."""
        return int(host.get("total_supply", 0))

    def decimals(self, host: Host) -> int:
        """The decimals given to ``initialize`` (7)."""
        return int(self._metadata(host)["decimal"])

    def name(self, host: Host) -> str:
        """The name given to ``initialize`` ("USD Coin")."""
        return str(self._metadata(host)["name"])

    def symbol(self, host: Host) -> str:
        """The symbol given to ``initialize`` ("USDC")."""
        return str(self._metadata(host)["symbol"])

    def get_mint_limit(self, host: Host) -> int:
        """What one address may mint per UTC day."""
        return int(host.get("mint_limit", 0))

    def get_daily_minted(self, host: Host, address: str) -> int:
        """What *address* minted on the current UTC day (0 if its last mint was earlier)."""
        if host.get(f"last_mint:{address}") != host.timestamp // SECONDS_PER_DAY:
            return 0
        return int(host.get(f"daily_minted:{address}", 0))

    # --- helpers ----------------------------------------------------------------------
    def _admin(self, host: Host) -> Any:
        admin = host.get("admin")
        if admin is None:
            raise missing(self.NAME, "Admin")
        return admin

    def _metadata(self, host: Host) -> dict[str, Any]:
        metadata = host.get("metadata")
        if metadata is None:
            raise missing(self.NAME, "Metadata")
        return dict(metadata)

    def _positive(self, amount: int) -> None:
        if amount <= 0:
            raise panic(self.NAME, "AmountMustBePositive")

    def _spend_allowance(self, host: Host, from_: str, spender: str, amount: int) -> None:
        current = self.allowance(host, from_, spender)
        if current < amount:
            raise panic(self.NAME, "InsufficientAllowance")
        host.set(f"allowance:{from_}:{spender}", current - amount)

    def _burn(self, host: Host, from_: str, amount: int) -> None:
        have = self.balance(host, from_)
        if have < amount:
            raise panic(self.NAME, "UsdcInsufficientBalance")
        host.set(f"balance:{from_}", have - amount)
        host.set("total_supply", self.total_supply(host) - amount)
        host.emit(("burn", from_), amount)

    def _move(self, host: Host, from_: str, to: str, amount: int) -> None:
        have = self.balance(host, from_)
        if have < amount:
            raise panic(self.NAME, "UsdcInsufficientBalance")
        host.set(f"balance:{from_}", have - amount)
        host.set(f"balance:{to}", self.balance(host, to) + amount)
        host.emit(("transfer", from_, to), amount)
