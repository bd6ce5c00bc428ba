"""Where the local engine still differs from the deployed contracts' interface.

Values already match SOROBAN.md, so the codec encodes them straight. The engine
still has a few functions the deployed contracts do not, and ``initialize``
functions with other arguments; they are listed so the codec's refusal can say
why. Each entry goes once the engine matches.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ENGINE_ONLY_FUNCTIONS",
    "ENGINE_SIGNATURES",
]

ENGINE_ONLY_FUNCTIONS: Mapping[tuple[str, str], str] = {
    ("usdc", "admin"): (
        "the deployed USDC has no admin() getter; its admin is in instance storage (DataKey Admin)"
    ),
}
"""Functions the engine has and the deployed contracts do not (name → note)."""

ENGINE_SIGNATURES: Mapping[tuple[str, str], str] = {
    ("usdc", "initialize"): (
        "the local engine's usdc.initialize(admin) takes no name, symbol, decimals or mint_limit"
    ),
}
"""Functions whose engine arguments differ from the deployed ones (name → note)."""
