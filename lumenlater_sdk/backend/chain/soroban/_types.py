"""Descriptors of the contracts' value types, as ``#[contracttype]`` encodes them.

A descriptor says two things at once: the ScVal a value becomes (SOROBAN.md §2)
and the Python shape the local engine uses for it (``str`` for an address or a
unit enum variant, ``int`` for every integer, ``dict`` for a struct or a map,
``list`` for a ``Vec``, ``tuple`` for a tuple, ``None`` for ``()`` and a ``None``
option).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "ADDRESS",
    "BOOL",
    "I128",
    "STRING",
    "U32",
    "U64",
    "U128",
    "VOID",
    "Enum",
    "Map",
    "Option",
    "Primitive",
    "SorobanType",
    "Struct",
    "Tuple",
    "Vec",
    "describe",
]

_INT_RANGES = {
    "u32": (0, (1 << 32) - 1),
    "u64": (0, (1 << 64) - 1),
    "i128": (-(1 << 127), (1 << 127) - 1),
    "u128": (0, (1 << 128) - 1),
}


@dataclass(frozen=True)
class Primitive:
    """A built-in Soroban type: ``Address``, ``String``, ``bool``, an integer, or ``()``."""

    kind: str

    def __post_init__(self) -> None:
        if self.kind not in ("Address", "String", "bool", "()", *_INT_RANGES):
            raise ValueError(f"unknown primitive {self.kind!r}")

    @property
    def bounds(self) -> tuple[int, int] | None:
        """Inclusive ``(low, high)`` of an integer type, ``None`` for the others."""
        return _INT_RANGES.get(self.kind)


ADDRESS = Primitive("Address")
STRING = Primitive("String")
BOOL = Primitive("bool")
U32 = Primitive("u32")
U64 = Primitive("u64")
I128 = Primitive("i128")
U128 = Primitive("u128")
VOID = Primitive("()")


@dataclass(frozen=True)
class Vec:
    """``Vec<T>``: a Python ``list``."""

    item: SorobanType


@dataclass(frozen=True)
class Tuple:
    """``(A, B, …)``, encoded as a ``Vec``.

    The engine returns a ``tuple`` from its functions but builds one event payload
    (USDC ``approve``) as a ``list``; ``as_list`` keeps that shape on decoding.
    """

    items: tuple[SorobanType, ...]
    as_list: bool = False


@dataclass(frozen=True)
class Map:
    """``Map<K, V>``: a Python ``dict``; encoded entries are sorted by key."""

    key: SorobanType
    value: SorobanType


@dataclass(frozen=True)
class Option:
    """``Option<T>``: ``None`` or the bare value."""

    inner: SorobanType


@dataclass(frozen=True)
class Struct:
    """A struct with named fields: a ``dict`` with exactly these keys.

    ``fields`` may be given in any order; they are kept in encoded order (by the
    bytes of the field name), which is the order the map entries must have.
    """

    name: str
    fields: tuple[tuple[str, SorobanType], ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.fields, key=lambda f: f[0].encode()))
        if len({name for name, _ in ordered}) != len(ordered):
            raise ValueError(f"struct {self.name} repeats a field name")
        object.__setattr__(self, "fields", ordered)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The field names in encoded order."""
        return tuple(name for name, _ in self.fields)


@dataclass(frozen=True)
class Enum:
    """An enum whose variants carry no data: the variant's name as a ``str``."""

    name: str
    variants: tuple[str, ...]


SorobanType: TypeAlias = Primitive | Vec | Tuple | Map | Option | Struct | Enum
"""Any descriptor."""


def describe(t: SorobanType) -> str:
    """The Rust spelling of *t* (``u64``, ``Vec<u64>``, ``(i128, i128)``, ``Bill``…)."""
    if isinstance(t, Primitive):
        return t.kind
    if isinstance(t, Vec):
        return f"Vec<{describe(t.item)}>"
    if isinstance(t, Tuple):
        return "(" + ", ".join(describe(i) for i in t.items) + ")"
    if isinstance(t, Map):
        return f"Map<{describe(t.key)}, {describe(t.value)}>"
    if isinstance(t, Option):
        return f"Option<{describe(t.inner)}>"
    return t.name
