"""Where the local engine's Python values differ from the deployed contracts' encoding.

The codec speaks the engine's shapes on the Python side. Most already match
SOROBAN.md; the few that do not are mapped here, one entry per difference, so
that each entry can be deleted once the engine is changed to match the deployed
contract. Differences that cannot be mapped without inventing or dropping data
(a function the deployed contract does not have, an ``initialize`` with other
arguments) are listed so the codec's refusal can say why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._scval import show

__all__ = [
    "ENGINE_ONLY_FUNCTIONS",
    "ENGINE_SIGNATURES",
    "RESULT_SHAPES",
    "ResultShape",
]

ENGINE_ONLY_FUNCTIONS: Mapping[tuple[str, str], str] = {
    ("lp_token", "shares"): "the engine's lp_token.shares is the deployed raw_shares (-> u128)",
    ("lp_token", "total_shares"): (
        "the engine's lp_token.total_shares is the deployed total_raw_shares (-> u128)"
    ),
    ("usdc", "admin"): (
        "the deployed USDC has no admin() getter; its admin is in instance storage (DataKey Admin)"
    ),
}
"""Functions the engine has and the deployed contracts do not (name → note)."""

ENGINE_SIGNATURES: Mapping[tuple[str, str], str] = {
    ("lp_token", "initialize"): (
        "the local engine's lp_token.initialize(admin, underlying_asset) takes no metadata"
    ),
    ("usdc", "initialize"): (
        "the local engine's usdc.initialize(admin) takes no name, symbol, decimals or mint_limit"
    ),
}
"""Functions whose engine arguments differ from the deployed ones (name → note)."""

_Adapter = Callable[[Any, Sequence[Any] | None, str], Any]


@dataclass(frozen=True)
class ResultShape:
    """Maps one function's result: engine value → wire value, and back.

    Both take the value, the call's engine-shaped arguments (``None`` when the
    caller does not have them) and the ``where`` text for error messages.
    """

    to_wire: _Adapter
    from_wire: _Adapter


def _merchant_to_wire(value: Any, args: Sequence[Any] | None, where: str) -> Any:
    # The engine adds the queried address to MerchantData; the struct has no such field.
    if not isinstance(value, Mapping):
        raise TypeError(f"{where}: MerchantData must be a dict of its fields, got {show(value)}")
    if "merchant" not in value:
        raise ValueError(f"{where}: the engine's get_merchant result lacks merchant")
    if args is not None and value["merchant"] != args[0]:
        raise ValueError(f"{where}: merchant {value['merchant']!r} is not the queried {args[0]!r}")
    return {k: v for k, v in value.items() if k != "merchant"}


def _merchant_from_wire(value: Any, args: Sequence[Any] | None, where: str) -> Any:
    if args is None:
        return value
    return {"merchant": args[0], **value}


RESULT_SHAPES: Mapping[tuple[str, str], ResultShape] = {
    ("bnpl_core", "get_merchant"): ResultShape(_merchant_to_wire, _merchant_from_wire),
}
"""Results whose engine shape is not the deployed one."""
