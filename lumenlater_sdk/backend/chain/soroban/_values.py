"""Any value of a described type to a ScVal and back (structs, enums, vecs, tuples, maps).

Decoding accepts only the canonical encoding the host itself produces: a struct's
map has exactly its fields as Symbol keys in field-name order, a map's keys are
strictly ascending in Soroban value order, a unit variant is a one-element
``Vec[Symbol]``. Anything else is a ``ValueError``, since a lenient decoder would
let two different ScVals stand for one engine value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

from stellar_sdk import scval, xdr

from ._scval import (
    decode_primitive,
    encode_primitive,
    expect_type,
    read_symbol,
    show,
    sort_key,
    symbol,
)
from ._types import Enum, Map, Option, Primitive, SorobanType, Struct, Tuple, describe

__all__ = ["decode_value", "encode_value"]

_VEC = xdr.SCValType.SCV_VEC
_MAP = xdr.SCValType.SCV_MAP


def encode_value(t: SorobanType, value: Any, where: str) -> xdr.SCVal:
    """*value*, in the engine's Python shape for *t*, as a ScVal."""
    if isinstance(t, Primitive):
        return encode_primitive(t, value, where)
    if isinstance(t, Option):
        return scval.to_void() if value is None else encode_value(t.inner, value, where)
    if isinstance(t, Enum):
        if not isinstance(value, str):
            raise TypeError(f"{where}: {t.name} must be a variant name (str), got {show(value)}")
        if value not in t.variants:
            raise ValueError(
                f"{where}: {value!r} is not a {t.name} variant (one of {', '.join(t.variants)})"
            )
        return scval.to_vec([symbol(value)])
    if isinstance(t, Struct):
        fields = _struct_fields(t, value, where)
        entries = [
            xdr.SCMapEntry(symbol(name), encode_value(ft, fields[name], f"{where}.{name}"))
            for name, ft in t.fields
        ]
        return xdr.SCVal(_MAP, map=xdr.SCMap(entries))
    if isinstance(t, Map):
        return _encode_map(t, value, where)
    items = _sequence(t, value, where)
    if isinstance(t, Tuple):
        if len(items) != len(t.items):
            raise ValueError(
                f"{where}: {describe(t)} has {len(t.items)} elements, got {len(items)}"
            )
        types: Sequence[SorobanType] = t.items
    else:
        types = [t.item] * len(items)
    return scval.to_vec(
        [
            encode_value(it, v, f"{where}[{i}]")
            for i, (it, v) in enumerate(zip(types, items, strict=True))
        ]
    )


def decode_value(t: SorobanType, val: Any, where: str) -> Any:
    """The engine's Python value for the ScVal *val* of type *t*."""
    if isinstance(t, Primitive):
        return decode_primitive(t, val, where)
    if isinstance(t, Option):
        if isinstance(val, xdr.SCVal) and val.type == xdr.SCValType.SCV_VOID:
            return None
        return decode_value(t.inner, val, where)
    if isinstance(t, Enum):
        elements = _vec(val, t.name, where)
        if len(elements) != 1:
            raise ValueError(
                f"{where}: a {t.name} variant is Vec[Symbol(name)], got a Vec of {len(elements)}"
            )
        name = read_symbol(elements[0], f"{where}[0]")
        if name not in t.variants:
            raise ValueError(
                f"{where}: {name!r} is not a {t.name} variant (one of {', '.join(t.variants)})"
            )
        return name
    if isinstance(t, Struct):
        entries = _map_entries(val, t.name, where)
        names = [read_symbol(e.key, f"{where} key {i}") for i, e in enumerate(entries)]
        _check_field_names(t, names, where)
        return {
            name: decode_value(ft, e.val, f"{where}.{name}")
            for (name, ft), e in zip(t.fields, entries, strict=True)
        }
    if isinstance(t, Map):
        return _decode_map(t, val, where)
    elements = _vec(val, describe(t), where)
    if isinstance(t, Tuple):
        if len(elements) != len(t.items):
            raise ValueError(
                f"{where}: {describe(t)} has {len(t.items)} elements, got {len(elements)}"
            )
        decoded = [
            decode_value(it, v, f"{where}[{i}]")
            for i, (it, v) in enumerate(zip(t.items, elements, strict=True))
        ]
        return decoded if t.as_list else tuple(decoded)
    return [decode_value(t.item, v, f"{where}[{i}]") for i, v in enumerate(elements)]


# --- helpers ---------------------------------------------------------------------------
def _sequence(t: SorobanType, value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{where}: {describe(t)} must be a list or tuple, got {show(value)}")
    return value


def _struct_fields(t: Struct, value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{where}: {t.name} must be a dict of its fields, got {show(value)}")
    missing = [n for n in t.field_names if n not in value]
    extra = sorted(str(k) for k in value if k not in t.field_names)
    if missing or extra:
        raise ValueError(
            f"{where}: {t.name} fields do not match"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)}" if extra else "")
        )
    return value


def _check_field_names(t: Struct, names: list[str], where: str) -> None:
    expected = list(t.field_names)
    if names == expected:
        return
    missing = [n for n in expected if n not in names]
    extra = [n for n in names if n not in expected]
    if missing or extra:
        problem = (f"; missing {', '.join(missing)}" if missing else "") + (
            f"; unknown {', '.join(extra)}" if extra else ""
        )
    elif len(set(names)) != len(names):
        problem = "; a field is repeated"
    else:
        order = ", ".join(names)
        problem = f"; keys must be sorted by field name ({', '.join(expected)}), got {order}"
    raise ValueError(f"{where}: {t.name} map does not match the struct{problem}")


def _vec(val: Any, what: str, where: str) -> list[xdr.SCVal]:
    val = expect_type(val, _VEC, what, where)
    return list(val.vec.sc_vec) if val.vec is not None else []


def _map_entries(val: Any, what: str, where: str) -> list[xdr.SCMapEntry]:
    val = expect_type(val, _MAP, what, where)
    return list(val.map.sc_map) if val.map is not None else []


def _encode_map(t: Map, value: Any, where: str) -> xdr.SCVal:
    if not isinstance(value, Mapping):
        raise TypeError(f"{where}: {describe(t)} must be a dict, got {show(value)}")
    entries = [
        xdr.SCMapEntry(
            encode_value(t.key, k, f"{where} key {k!r}"),
            encode_value(t.value, v, f"{where}[{k!r}]"),
        )
        for k, v in value.items()
    ]
    entries.sort(key=lambda e: sort_key(e.key))
    keys = [sort_key(e.key) for e in entries]
    if any(a == b for a, b in pairwise(keys)):
        raise ValueError(f"{where}: two keys of the dict encode to the same ScVal")
    return xdr.SCVal(_MAP, map=xdr.SCMap(entries))


def _decode_map(t: Map, val: Any, where: str) -> dict[Any, Any]:
    entries = _map_entries(val, describe(t), where)
    keys = [sort_key(e.key) for e in entries]
    for a, b in pairwise(keys):
        if a == b:
            raise ValueError(f"{where}: {describe(t)} repeats a key")
        if a > b:
            raise ValueError(
                f"{where}: {describe(t)} keys are not in ascending Soroban value order"
            )
    decoded: dict[Any, Any] = {}
    for i, e in enumerate(entries):
        key = decode_value(t.key, e.key, f"{where} key {i}")
        decoded[key] = decode_value(t.value, e.val, f"{where}[{key!r}]")
    return decoded
