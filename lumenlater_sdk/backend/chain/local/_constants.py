"""The protocol constants, for the local contracts: defined once in :mod:`..` (both
gateways need them) and re-exported here for the engine's modules."""

from __future__ import annotations

from .._constants import INDEX_SCALE, SCALE, SECONDS_PER_DAY, USDC_UNIT, ProtocolConstants

__all__ = [
    "INDEX_SCALE",
    "SCALE",
    "SECONDS_PER_DAY",
    "USDC_UNIT",
    "ProtocolConstants",
]
