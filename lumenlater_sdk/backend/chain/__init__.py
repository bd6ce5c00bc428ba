"""Chain gateways: the interface and its implementations."""

from ._gateway import (
    CONTRACTS,
    ChainGateway,
    ChainUnavailableError,
    ContractError,
    ContractEvent,
    TxRecord,
)

__all__ = [
    "CONTRACTS",
    "ChainGateway",
    "ChainUnavailableError",
    "ContractError",
    "ContractEvent",
    "TxRecord",
]
