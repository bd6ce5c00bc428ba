"""The USDC token: a SEP-41 token with an admin who mints (like a Stellar Asset Contract)."""

from __future__ import annotations

from typing import Any

from ._errors import missing, panic
from ._host import Contract, Host, Signature

__all__ = ["UsdcToken"]


class UsdcToken(Contract):
    """USDC, 7 decimals. Every balance change emits one ``transfer`` or ``mint`` event."""

    NAME = "usdc"
    FUNCTIONS = {
        "initialize": Signature(("address",)),
        "mint": Signature(("address", "i128")),
        "transfer": Signature(("address", "address", "i128")),
        "approve": Signature(("address", "address", "i128", "u32")),
        "transfer_from": Signature(("address", "address", "address", "i128")),
        "balance": Signature(("address",), view=True),
        "allowance": Signature(("address", "address"), view=True),
        "admin": Signature((), view=True),
        "decimals": Signature((), view=True),
        "name": Signature((), view=True),
        "symbol": Signature((), view=True),
    }

    def initialize(self, host: Host, admin: str) -> None:
        """Set the minting admin (once)."""
        if host.get("admin") is not None:
            raise panic(self.NAME, "AlreadyInitialized")
        host.set("admin", admin)

    def admin(self, host: Host) -> Any:
        """The minting admin."""
        return host.get("admin")

    def mint(self, host: Host, to: str, amount: int) -> None:
        """Create *amount* for *to* (admin only)."""
        admin = host.get("admin")
        if admin is None:
            raise missing(self.NAME, "Admin")
        host.require_auth(admin)
        if amount < 0:
            raise panic(self.NAME, "InvalidAmount")
        host.set(f"balance:{to}", self.balance(host, to) + amount)
        host.emit(("mint", admin, to), amount)

    def balance(self, host: Host, id: str) -> int:
        """The balance of *id* (0 if it never held any)."""
        return int(host.get(f"balance:{id}", 0))

    def transfer(self, host: Host, from_: str, to: str, amount: int) -> None:
        """Move *amount* from *from_* (who must authorise) to *to*."""
        host.require_auth(from_)
        self._move(host, from_, to, amount)

    def approve(
        self, host: Host, from_: str, spender: str, amount: int, expiration_ledger: int
    ) -> None:
        """Let *spender* move up to *amount* of *from_*'s balance."""
        host.require_auth(from_)
        if amount < 0:
            raise panic(self.NAME, "InvalidAmount")
        host.set(f"allowance:{from_}:{spender}", amount)
        host.emit(("approve", from_, spender), [amount, expiration_ledger])

    def allowance(self, host: Host, from_: str, spender: str) -> int:
        """What *spender* may still move from *from_*."""
        return int(host.get(f"allowance:{from_}:{spender}", 0))

    def transfer_from(self, host: Host, spender: str, from_: str, to: str, amount: int) -> None:
        """Move *amount* from *from_* to *to* against *spender*'s allowance."""
        host.require_auth(spender)
        current = self.allowance(host, from_, spender)
        if amount < 0:
            raise panic(self.NAME, "InvalidAmount")
        if current < amount:
            raise panic(self.NAME, "AllowanceExceeded")
        host.set(f"allowance:{from_}:{spender}", current - amount)
        self._move(host, from_, to, amount)

    def decimals(self, host: Host) -> int:
        """7, as Stellar's USDC."""
        return 7

    def name(self, host: Host) -> str:
        """The token's name."""
        return "USD Coin"

    def symbol(self, host: Host) -> str:
        """The token's symbol."""
        return "USDC"

    def _move(self, host: Host, from_: str, to: str, amount: int) -> None:
        if amount < 0:
            raise panic(self.NAME, "InvalidAmount")
        have = self.balance(host, from_)
        if have < amount:
            raise panic(self.NAME, "InsufficientBalance")
        host.set(f"balance:{from_}", have - amount)
        host.set(f"balance:{to}", self.balance(host, to) + amount)
        host.emit(("transfer", from_, to), amount)
