"""Chain gateways: the interface, the sandbox-only controls, and their implementations.

:class:`ChainGateway` is what every chain offers; :class:`SandboxControls` what only
a sandbox ledger adds; :class:`ProtocolConstants` the contract constants a gateway
reports through :meth:`ChainGateway.constants`, and :class:`ChainInfo` which chain it
is on (:meth:`ChainGateway.describe`).
"""

from ._constants import INDEX_SCALE, SCALE, SECONDS_PER_DAY, USDC_UNIT, ProtocolConstants
from ._gateway import (
    AUTH_FAILED,
    CONTRACTS,
    INVALID_INPUT,
    TRAPPED,
    ChainGateway,
    ChainInfo,
    ChainUnavailableError,
    ContractError,
    ContractEvent,
    TxRecord,
)
from ._sandbox import WALLET_NAMES, Genesis, SandboxControls, Sealer, builtin_wallet_funds

__all__ = [
    "AUTH_FAILED",
    "CONTRACTS",
    "INDEX_SCALE",
    "INVALID_INPUT",
    "SCALE",
    "SECONDS_PER_DAY",
    "TRAPPED",
    "USDC_UNIT",
    "WALLET_NAMES",
    "ChainGateway",
    "ChainInfo",
    "ChainUnavailableError",
    "ContractError",
    "ContractEvent",
    "Genesis",
    "ProtocolConstants",
    "SandboxControls",
    "Sealer",
    "TxRecord",
    "builtin_wallet_funds",
]
