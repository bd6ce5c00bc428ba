"""What every resource shares: its core, and small argument checks done before any I/O."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .._core import AsyncCore, SyncCore
from .._strkey import is_account_id

__all__ = ["AsyncAPIResource", "SyncAPIResource", "check_customer", "compact", "path_id"]


class SyncAPIResource:
    """Base of the blocking resources."""

    __slots__ = ("_core",)

    def __init__(self, core: SyncCore) -> None:
        self._core = core


class AsyncAPIResource:
    """Base of the asyncio resources."""

    __slots__ = ("_core",)

    def __init__(self, core: AsyncCore) -> None:
        self._core = core


def compact(**fields: Any) -> dict[str, Any]:
    """The given fields without the unset (``None``) ones: the server rejects nulls it did not ask
    for, and an omitted field takes the server's default."""
    return {k: v for k, v in fields.items() if v is not None}


def path_id(value: str, name: str = "id") -> str:
    """An object id made safe to put in a URL path (an id is never allowed to change the route)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return quote(value, safe="")


def check_customer(address: object, name: str = "customer") -> None:
    """Raise ``ValueError`` unless *address* is a valid Stellar account id (``G…``)."""
    if not isinstance(address, str) or not is_account_id(address):
        raise ValueError(f"{name} must be a Stellar account address (G...), not {address!r}")


def check_origins(origins: object, name: str = "embed_origins") -> list[str] | None:
    """*origins* as a list of strings (``None`` stays ``None``); a bare string is refused,
    as it would otherwise be sent as its characters. The API checks each origin."""
    if origins is None:
        return None
    if isinstance(origins, str | bytes) or not hasattr(origins, "__iter__"):
        raise TypeError(f"{name} must be a list of origins such as ['https://shop.example']")
    out = list(origins)
    for o in out:
        if not isinstance(o, str):
            raise TypeError(f"{name} must hold strings, not {type(o).__name__}")
    return out
