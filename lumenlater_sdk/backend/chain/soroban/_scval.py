"""Primitive conversions between Python values and ScVals, strict in both directions.

Every error names *where* the value sits (``bnpl_core.create_bill argument 3
(amount)``, ``… result.principal``), so a refusal deep inside a struct still says
which contract, function and argument it came from. A wrong Python type is a
``TypeError``; a value of the right type that does not fit (out of range, not an
address, invalid UTF-8, a ScVal of another type) is a ``ValueError``.
"""

from __future__ import annotations

from typing import Any

from stellar_sdk import Address, StrKey, scval, xdr

from ._types import Primitive

__all__ = [
    "SCV_TYPES",
    "decode_primitive",
    "encode_primitive",
    "expect_type",
    "read_symbol",
    "show",
    "sort_key",
    "symbol",
]

SCV_TYPES = {
    "Address": xdr.SCValType.SCV_ADDRESS,
    "String": xdr.SCValType.SCV_STRING,
    "bool": xdr.SCValType.SCV_BOOL,
    "u32": xdr.SCValType.SCV_U32,
    "u64": xdr.SCValType.SCV_U64,
    "i128": xdr.SCValType.SCV_I128,
    "u128": xdr.SCValType.SCV_U128,
    "()": xdr.SCValType.SCV_VOID,
}
"""The ScVal type each primitive is encoded as."""

_RANGE_TEXT = {
    "u32": "0 to 2**32 - 1",
    "u64": "0 to 2**64 - 1",
    "i128": "-2**127 to 2**127 - 1",
    "u128": "0 to 2**128 - 1",
}

_INT_DECODERS = {
    "u32": scval.from_uint32,
    "u64": scval.from_uint64,
    "i128": scval.from_int128,
    "u128": scval.from_uint128,
}

_INT_ENCODERS = {
    "u32": scval.to_uint32,
    "u64": scval.to_uint64,
    "i128": scval.to_int128,
    "u128": scval.to_uint128,
}

# A muxed (M…) address is an Address on newer protocols, but no engine value is one
# and soroban-sdk 22 contracts cannot hold one in storage: refuse it on both sides.
_ADDRESS_KINDS = (
    xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT,
    xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT,
)


def show(value: Any) -> str:
    """A short description of a Python value for an error message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def expect_type(val: Any, scv: xdr.SCValType, what: str, where: str) -> xdr.SCVal:
    """*val* itself if it is a ScVal of type *scv*; *what* names the expected type."""
    if not isinstance(val, xdr.SCVal):
        raise TypeError(f"{where}: expected a stellar_sdk.xdr.SCVal, got {show(val)}")
    if val.type != scv:
        raise ValueError(f"{where}: expected {scv.name} ({what}), got {val.type.name}")
    return val


def symbol(name: str) -> xdr.SCVal:
    """``Symbol(name)``."""
    return scval.to_symbol(name)


def read_symbol(val: Any, where: str) -> str:
    """The text of a ``Symbol``; ``ValueError`` for any other ScVal."""
    return scval.from_symbol(expect_type(val, xdr.SCValType.SCV_SYMBOL, "Symbol", where))


def encode_primitive(t: Primitive, value: Any, where: str) -> xdr.SCVal:
    """*value* (Python) as the ScVal of primitive *t*."""
    kind = t.kind
    bounds = t.bounds
    if bounds is not None:
        # bool is an int in Python; a contract never takes True for an amount.
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where}: {kind} must be an int, got {show(value)}")
        low, high = bounds
        if value < 0 and low == 0:
            raise ValueError(f"{where}: {kind} is unsigned, got the negative {value}")
        if not low <= value <= high:
            raise ValueError(f"{where}: {value} is out of range for {kind} ({_RANGE_TEXT[kind]})")
        return _INT_ENCODERS[kind](value)
    if kind == "Address":
        if not isinstance(value, str):
            raise TypeError(f"{where}: Address must be a str (G… or C…), got {show(value)}")
        if not (StrKey.is_valid_ed25519_public_key(value) or StrKey.is_valid_contract(value)):
            raise ValueError(f"{where}: {value!r} is not a G… account or C… contract address")
        return scval.to_address(value)
    if kind == "String":
        if not isinstance(value, str):
            raise TypeError(f"{where}: String must be a str, got {show(value)}")
        try:
            return scval.to_string(value.encode("utf-8"))
        except UnicodeEncodeError as e:
            raise ValueError(f"{where}: String is not encodable as UTF-8 ({e.reason})") from None
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{where}: bool must be True or False, got {show(value)}")
        return scval.to_bool(value)
    if value is not None:
        raise TypeError(f"{where}: () must be None, got {show(value)}")
    return scval.to_void()


def decode_primitive(t: Primitive, val: Any, where: str) -> Any:
    """The Python value of *val*, which must be the ScVal of primitive *t*."""
    kind = t.kind
    val = expect_type(val, SCV_TYPES[kind], kind, where)
    if kind in _INT_DECODERS:
        return _INT_DECODERS[kind](val)
    if kind == "Address":
        assert val.address is not None
        if val.address.type not in _ADDRESS_KINDS:
            kind_name = val.address.type.name
            raise ValueError(
                f"{where}: expected a G… account or C… contract address, got {kind_name}"
            )
        return Address.from_xdr_sc_address(val.address).address
    if kind == "String":
        raw = scval.from_string(val)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{where}: String is not valid UTF-8 ({e.reason})") from None
    if kind == "bool":
        return scval.from_bool(val)
    return None


def sort_key(val: xdr.SCVal) -> tuple[Any, ...]:
    """A Python key that orders ScVals as the host does (``Ord`` on ``ScVal``).

    Map entries must be sorted by it. ``scval.to_map`` sorts too, but it needs
    hashable keys and a ``Vec`` ScVal is not (lp_token's allowance map is keyed by
    ``Vec[from, spender]``). Covers the key types the contracts use.
    """
    t = val.type
    x = xdr.SCValType
    for kind, scv in SCV_TYPES.items():
        if t == scv and kind in _INT_DECODERS:
            return (t.value, _INT_DECODERS[kind](val))
    if t == x.SCV_BOOL:
        return (t.value, bool(val.b))
    if t == x.SCV_STRING:
        return (t.value, scval.from_string(val))
    if t == x.SCV_SYMBOL:
        return (t.value, scval.from_symbol(val).encode())
    if t == x.SCV_ADDRESS:
        # The XDR starts with the address type, then the key: the host's order.
        assert val.address is not None
        return (t.value, val.address.to_xdr_bytes())
    if t == x.SCV_VEC:
        elements = val.vec.sc_vec if val.vec is not None else []
        return (t.value, tuple(sort_key(e) for e in elements))
    raise ValueError(f"no ordering for {t.name} map keys")
