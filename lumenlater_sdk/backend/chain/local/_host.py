"""The in-process Soroban host: argument checking, auth, storage scoping, sub-calls, events.

A contract is a class whose public methods take the :class:`Host` first and the
typed arguments after; its ``FUNCTIONS`` table says which methods are callable
from outside, with which argument types, and which are read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..._strkeys import is_account_or_contract
from .._constants import ProtocolConstants
from ._errors import invalid_input, unauthorized
from ._storage import Storage

__all__ = [
    "BILL_STATUSES",
    "MERCHANT_STATUSES",
    "Contract",
    "Host",
    "PendingEvent",
    "Signature",
]

MERCHANT_STATUSES = ("None", "Pending", "Approved", "Rejected", "Suspended", "Cancelled")
BILL_STATUSES = ("None", "Created", "Expired", "Paid", "Repaid", "Overdue", "Liquidated")

_I128 = 1 << 127
_U64 = 1 << 64
_U32 = 1 << 32


@dataclass(frozen=True)
class Signature:
    """A callable function: its parameter types and whether it only reads."""

    params: tuple[str, ...]
    view: bool = False


@dataclass(frozen=True)
class PendingEvent:
    """An event emitted during the current invocation (persisted only if it succeeds)."""

    contract: str
    topics: tuple[Any, ...]
    data: Any


class Contract:
    """Base of the three contracts."""

    NAME: ClassVar[str]
    FUNCTIONS: ClassVar[Mapping[str, Signature]]


def _is_address(value: str) -> bool:
    return is_account_or_contract(value)


def _check_arg(contract: str, function: str, i: int, kind: str, value: Any) -> Any:
    # Typed arguments pass (every call checks each): the message is made on refusal only.
    if kind == "address" and type(value) is str and _is_address(value):
        return value
    if kind == "string" and type(value) is str:
        return value
    if kind == "u64" and type(value) is int and 0 <= value < _U64:
        return value
    where = f"{function} argument {i + 1}"
    if kind == "address":
        if not isinstance(value, str) or not _is_address(value):
            raise invalid_input(contract, f"{where} must be a G… or C… address, got {value!r}")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise invalid_input(contract, f"{where} must be a string")
        return value
    if kind == "merchant_status":
        if isinstance(value, str):
            for name in MERCHANT_STATUSES:
                if value.lower() == name.lower():
                    return name
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and 0 <= value < len(MERCHANT_STATUSES)
        ):
            return MERCHANT_STATUSES[value]
        raise invalid_input(contract, f"{where} must be a MerchantStatus, got {value!r}")
    if kind == "token_metadata":
        # TokenMetadata {decimal: u32, name: String, symbol: String}
        if (
            not isinstance(value, Mapping)
            or set(value) != {"decimal", "name", "symbol"}
            or not isinstance(value["name"], str)
            or not isinstance(value["symbol"], str)
        ):
            raise invalid_input(
                contract, f"{where} must be a TokenMetadata {{decimal, name, symbol}}"
            )
        decimal = _check_arg(contract, function, i, "u32", value["decimal"])
        return {"decimal": decimal, "name": value["name"], "symbol": value["symbol"]}
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_input(contract, f"{where} must be an integer ({kind}), got {value!r}")
    low, high = {"i128": (-_I128, _I128), "u64": (0, _U64), "u32": (0, _U32)}[kind]
    if not low <= value < high:
        raise invalid_input(contract, f"{where} is out of range for {kind}")
    return value


class Host:
    """Runs one top-level invocation (and its sub-calls) against :class:`Storage`.

    ``signer`` is the account that authorised the transaction (``None`` for a
    read); a contract additionally authorises what it calls directly, as
    ``require_auth`` on a contract address does on chain.
    """

    def __init__(
        self,
        storage: Storage,
        contracts: Mapping[str, Contract],
        ids: Mapping[str, str],
        constants: ProtocolConstants,
        timestamp: int,
        signer: str | None,
    ) -> None:
        self.storage = storage
        self.constants = constants
        self.timestamp = timestamp
        self.signer = signer
        self.events: list[PendingEvent] = []
        self._contracts = contracts
        self._ids = ids
        self._stack: list[str] = []

    # --- the running contract's view -------------------------------------------------
    @property
    def contract(self) -> str:
        """Logical name of the contract executing now."""
        return self._stack[-1]

    @property
    def address(self) -> str:
        """``C…`` id of the contract executing now (``env.current_contract_address()``)."""
        return self._ids[self._stack[-1]]

    def address_of(self, contract: str) -> str:
        """``C…`` id of another contract."""
        return self._ids[contract]

    def get(self, key: str, default: Any = None) -> Any:
        """Read the running contract's storage."""
        return self.storage.get(self._stack[-1], key, default)

    def set(self, key: str, value: Any) -> None:
        """Write the running contract's storage."""
        self.storage.set(self._stack[-1], key, value)

    def require_auth(self, address: str) -> None:
        """Refuse unless *address* signed the transaction or is the direct calling contract."""
        if self.signer is not None and address == self.signer:
            return
        if len(self._stack) >= 2 and address == self._ids[self._stack[-2]]:
            return
        raise unauthorized(self.contract, address)

    def emit(self, topics: tuple[Any, ...], data: Any) -> None:
        """Publish an event from the running contract."""
        self.events.append(PendingEvent(self.contract, topics, data))

    # --- calls -----------------------------------------------------------------------
    def call(self, contract: str, function: str, *args: Any) -> Any:
        """A contract calling another contract (arguments already typed)."""
        self._stack.append(contract)
        try:
            return getattr(self._contracts[contract], function)(self, *args)
        finally:
            self._stack.pop()

    def typed_args(
        self, contract: str, function: str, args: Sequence[Any], *, view: bool
    ) -> list[Any]:
        """Check a top-level call: the function exists and the arguments fit its signature.

        Returns the arguments in canonical form. With ``view=True`` only read-only
        functions are allowed (a read never writes).
        """
        impl = self._contracts.get(contract)
        if impl is None:
            raise ValueError(f"unknown contract {contract!r}")
        sig = impl.FUNCTIONS.get(function)
        if sig is None:
            raise invalid_input(contract, f"{contract} has no function {function!r}")
        if view and not sig.view:
            raise ValueError(f"{contract}.{function} changes state: use invoke(), not read()")
        if isinstance(args, (str, bytes)) or len(args) != len(sig.params):
            raise invalid_input(
                contract, f"{function} takes {len(sig.params)} arguments, got {len(args)}"
            )
        return [
            _check_arg(contract, function, i, kind, value)
            for i, (kind, value) in enumerate(zip(sig.params, args, strict=True))
        ]
