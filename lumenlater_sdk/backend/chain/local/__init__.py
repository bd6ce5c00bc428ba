"""The ``local`` chain gateway: bnpl_core, lp_token and USDC run in-process.

The contracts of PROTOCOL.md are reproduced function for function (arguments,
auth, integer formulas, error codes and messages, events) on a deterministic
ledger kept in the backend's own database, so a sandbox behaves as testnet would.
Stellar transactions (accounts, sequence numbers, fees, auth entries) are simulated,
checked and applied on it by ``_envelopes``: the sandbox's Soroban RPC endpoint and
:meth:`LocalGateway.submit_transaction` alike.
"""

from .._constants import INDEX_SCALE, SCALE, SECONDS_PER_DAY, USDC_UNIT, ProtocolConstants
from .._sandbox import APPROVE_COLLATERAL, LIMITED_BORROWING, WALLET_USDC, Genesis, Sealer
from ._auth_host import AuthHost, AuthNode
from ._envelope_auth import AuthFailure
from ._envelope_xdr import (
    b64,
    contract_event,
    diagnostic,
    failed_result,
    refused_result,
    success_meta,
    success_result,
)
from ._envelopes import (
    BASE_FEE,
    Applied,
    HostFailure,
    Simulation,
    admit,
    apply,
    engine_call,
    entry_address,
    footprint_key,
    min_resource_fee,
    simulate,
)
from ._genesis import DEFAULT_POOL_LIQUIDITY
from ._local_gateway import ACCOUNT_START_BALANCE, TX_TIMEOUT, LocalGateway
from ._rpc_ledger import Account, LedgerEvent, RpcLedger, StoredTransaction

__all__ = [
    "ACCOUNT_START_BALANCE",
    "APPROVE_COLLATERAL",
    "BASE_FEE",
    "DEFAULT_POOL_LIQUIDITY",
    "INDEX_SCALE",
    "LIMITED_BORROWING",
    "SCALE",
    "SECONDS_PER_DAY",
    "TX_TIMEOUT",
    "USDC_UNIT",
    "WALLET_USDC",
    "Account",
    "Applied",
    "AuthFailure",
    "AuthHost",
    "AuthNode",
    "Genesis",
    "HostFailure",
    "LedgerEvent",
    "LocalGateway",
    "ProtocolConstants",
    "RpcLedger",
    "Sealer",
    "Simulation",
    "StoredTransaction",
    "admit",
    "apply",
    "b64",
    "contract_event",
    "diagnostic",
    "engine_call",
    "entry_address",
    "failed_result",
    "footprint_key",
    "min_resource_fee",
    "refused_result",
    "simulate",
    "success_meta",
    "success_result",
]
