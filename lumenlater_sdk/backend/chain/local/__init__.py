"""The ``local`` chain gateway: bnpl_core, lp_token and USDC run in-process.

The contracts of PROTOCOL.md are reproduced function for function (arguments,
auth, integer formulas, error codes and messages, events) on a deterministic
ledger kept in the backend's own database, so a sandbox behaves as testnet would.
"""

from .._constants import INDEX_SCALE, SCALE, SECONDS_PER_DAY, USDC_UNIT, ProtocolConstants
from .._sandbox import APPROVE_COLLATERAL, LIMITED_BORROWING, WALLET_USDC, Genesis, Sealer
from ._auth_host import AuthHost, AuthNode
from ._genesis import DEFAULT_POOL_LIQUIDITY
from ._local_gateway import LocalGateway
from ._rpc_ledger import Account, LedgerEvent, RpcLedger, StoredTransaction

__all__ = [
    "APPROVE_COLLATERAL",
    "DEFAULT_POOL_LIQUIDITY",
    "INDEX_SCALE",
    "LIMITED_BORROWING",
    "SCALE",
    "SECONDS_PER_DAY",
    "USDC_UNIT",
    "WALLET_USDC",
    "Account",
    "AuthHost",
    "AuthNode",
    "Genesis",
    "LedgerEvent",
    "LocalGateway",
    "ProtocolConstants",
    "RpcLedger",
    "Sealer",
    "StoredTransaction",
]
