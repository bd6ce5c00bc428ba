"""The contracts' storage (SOROBAN.md §7): data keys, their values, and ledger keys.

bnpl_core and USDC key their storage with a ``DataKey`` enum (``Vec[Symbol(variant),
data…]``); lp_token uses bare Symbols. "Instance" values live inside the contract's
instance entry, so the ledger entry to fetch for them is the instance's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stellar_sdk import Address, StrKey, xdr

from ._contract_types import BILL, CONFIG, MERCHANT_DATA, TOKEN_METADATA
from ._schema import Param
from ._scval import read_symbol, show, symbol
from ._types import ADDRESS, I128, U64, U128, Map, SorobanType, Tuple, Vec
from ._values import decode_value, encode_value

__all__ = [
    "SLOTS",
    "Slot",
    "data_key",
    "decode_data_key",
    "decode_data_value",
    "encode_data_value",
    "instance_ledger_key",
    "ledger_key",
]


@dataclass(frozen=True)
class Slot:
    """One kind of storage entry: its key's name and data, its value, where it lives."""

    name: str
    params: tuple[Param, ...]
    value: SorobanType
    instance: bool
    bare_symbol: bool = False


def _slots(*slots: Slot) -> dict[str, Slot]:
    return {s.name: s for s in slots}


def _inst(name: str, value: SorobanType, *params: tuple[str, SorobanType]) -> Slot:
    return Slot(name, tuple(Param(n, t) for n, t in params), value, instance=True)


def _sym(name: str, value: SorobanType) -> Slot:
    return Slot(name, (), value, instance=True, bare_symbol=True)


def _persistent(name: str, value: SorobanType, *params: tuple[str, SorobanType]) -> Slot:
    return Slot(name, tuple(Param(n, t) for n, t in params), value, instance=False)


SLOTS: Mapping[str, Mapping[str, Slot]] = {
    "bnpl_core": _slots(
        _inst("Config", CONFIG),
        _persistent("BillCounter", U64),
        _persistent("Bill", BILL, ("bill_id", U64)),
        _persistent("UserBills", Vec(U64), ("user", ADDRESS)),
        _persistent("MerchantData", MERCHANT_DATA, ("merchant", ADDRESS)),
    ),
    "lp_token": _slots(
        _sym("admin", ADDRESS),
        _sym("asset", ADDRESS),
        _sym("bnpl_core", ADDRESS),
        _sym("metadata", TOKEN_METADATA),
        _sym("index", U128),
        _sym("supply", U128),
        _sym("borrowed", U128),
        _sym("balances", Map(ADDRESS, U128)),
        _sym("allowance", Map(Tuple((ADDRESS, ADDRESS)), U128)),
    ),
    "usdc": _slots(
        _inst("Admin", ADDRESS),
        _inst("Metadata", TOKEN_METADATA),
        _inst("TotalSupply", I128),
        _inst("MintLimit", I128),
        _inst("Balance", I128, ("address", ADDRESS)),
        _inst("Allowance", I128, ("from", ADDRESS), ("spender", ADDRESS)),
        _inst("LastMint", U64, ("address", ADDRESS)),
        _inst("DailyMinted", I128, ("address", ADDRESS)),
    ),
}
"""Per contract, per key name (DataKey variant or Symbol): the storage slot."""


def _slot(contract: str, name: str) -> Slot:
    slots = SLOTS.get(contract)
    if slots is None:
        raise ValueError(f"unknown contract {contract!r} (expected one of {', '.join(SLOTS)})")
    if not isinstance(name, str):
        raise TypeError(f"{contract} storage key: the name must be a str, got {show(name)}")
    found = slots.get(name)
    if found is None:
        raise ValueError(f"{contract} has no storage key {name!r} (one of {', '.join(slots)})")
    return found


def data_key(contract: str, name: str, *args: Any) -> xdr.SCVal:
    """The ScVal key of a storage entry: ``data_key("bnpl_core", "Bill", 1)``."""
    slot = _slot(contract, name)
    if len(args) != len(slot.params):
        raise ValueError(
            f"{contract} storage key {name} takes {len(slot.params)} values, got {len(args)}"
        )
    if slot.bare_symbol:
        return symbol(name)
    parts = [
        encode_value(p.type, v, f"{contract} storage key {name} value {i + 1} ({p.name})")
        for i, (p, v) in enumerate(zip(slot.params, args, strict=True))
    ]
    return xdr.SCVal(xdr.SCValType.SCV_VEC, vec=xdr.SCVec([symbol(name), *parts]))


def decode_data_key(contract: str, key: Any) -> tuple[str, tuple[Any, ...]]:
    """``(name, values)`` of a storage key ScVal; ``ValueError`` for a key the contract has not."""
    where = f"{contract} storage key"
    if isinstance(key, xdr.SCVal) and key.type == xdr.SCValType.SCV_SYMBOL:
        name = read_symbol(key, where)
        slot = _slot(contract, name)
        if not slot.bare_symbol:
            raise ValueError(f"{where}: {name} is a DataKey variant, Vec[Symbol({name!r}), …]")
        return name, ()
    if not isinstance(key, xdr.SCVal) or key.type != xdr.SCValType.SCV_VEC:
        got = key.type.name if isinstance(key, xdr.SCVal) else show(key)
        raise ValueError(f"{where}: expected SCV_VEC (DataKey) or SCV_SYMBOL, got {got}")
    parts = list(key.vec.sc_vec) if key.vec is not None else []
    if not parts:
        raise ValueError(f"{where}: an empty Vec is not a DataKey")
    name = read_symbol(parts[0], f"{where} variant")
    slot = _slot(contract, name)
    if slot.bare_symbol:
        raise ValueError(f"{where}: {name} is a bare Symbol key, not a DataKey variant")
    if len(parts) - 1 != len(slot.params):
        raise ValueError(f"{where}: {name} carries {len(slot.params)} values, got {len(parts) - 1}")
    values = tuple(
        decode_value(p.type, v, f"{where} {name} value {i + 1} ({p.name})")
        for i, (p, v) in enumerate(zip(slot.params, parts[1:], strict=True))
    )
    return name, values


def encode_data_value(contract: str, name: str, value: Any) -> xdr.SCVal:
    """The ScVal stored under *name* (``Bill`` → the Bill struct, ``balances`` → a map…)."""
    slot = _slot(contract, name)
    return encode_value(slot.value, value, f"{contract} storage {name} value")


def decode_data_value(contract: str, name: str, val: Any) -> Any:
    """The Python value of a stored ScVal (inverse of :func:`encode_data_value`)."""
    slot = _slot(contract, name)
    return decode_value(slot.value, val, f"{contract} storage {name} value")


def _contract_address(contract_id: str) -> xdr.SCAddress:
    if not isinstance(contract_id, str) or not StrKey.is_valid_contract(contract_id):
        raise ValueError(f"{contract_id!r} is not a C… contract id")
    return Address(contract_id).to_xdr_sc_address()


def instance_ledger_key(contract_id: str) -> xdr.LedgerKey:
    """The ledger key of a contract's instance entry (key ``SCV_LEDGER_KEY_CONTRACT_INSTANCE``)."""
    return xdr.LedgerKey(
        xdr.LedgerEntryType.CONTRACT_DATA,
        contract_data=xdr.LedgerKeyContractData(
            _contract_address(contract_id),
            xdr.SCVal(xdr.SCValType.SCV_LEDGER_KEY_CONTRACT_INSTANCE),
            xdr.ContractDataDurability.PERSISTENT,
        ),
    )


def ledger_key(contract_id: str, contract: str, name: str, *args: Any) -> xdr.LedgerKey:
    """The ledger key of the entry holding a storage slot of the contract at *contract_id*.

    A persistent slot has an entry of its own; an instance slot lives in the
    contract's instance entry, whose key this returns.
    """
    key = data_key(contract, name, *args)
    if _slot(contract, name).instance:
        return instance_ledger_key(contract_id)
    return xdr.LedgerKey(
        xdr.LedgerEntryType.CONTRACT_DATA,
        contract_data=xdr.LedgerKeyContractData(
            _contract_address(contract_id), key, xdr.ContractDataDurability.PERSISTENT
        ),
    )
