"""Chain gateways: the interface, the sandbox-only controls, and their implementations.

:class:`ChainGateway` is what every chain offers; :class:`SandboxControls` what only
a sandbox ledger adds; :class:`ProtocolConstants` the contract constants a gateway
reports through :meth:`ChainGateway.constants`, and :class:`ChainInfo` which chain it
is on (:meth:`ChainGateway.describe`); :class:`PreparedTransaction` a transaction
for its source account to sign in its own wallet (:meth:`ChainGateway.prepare_transaction`).
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
from ._sandbox import (
    WALLET_NAMES,
    Genesis,
    SandboxControls,
    Sealer,
    builtin_wallet_funds,
    deposit_for_balance,
)
from ._transactions import (
    ENVELOPE_DUPLICATE,
    ENVELOPE_MALFORMED,
    ENVELOPE_NOT_PREPARED,
    Call,
    EnvelopeInvalid,
    EnvelopeRefusedError,
    PreparedTransaction,
    assemble,
    check_signed,
    decode_call,
    decode_envelope,
    prepared,
    signature_problem,
)

__all__ = [
    "AUTH_FAILED",
    "CONTRACTS",
    "ENVELOPE_DUPLICATE",
    "ENVELOPE_MALFORMED",
    "ENVELOPE_NOT_PREPARED",
    "INDEX_SCALE",
    "INVALID_INPUT",
    "SCALE",
    "SECONDS_PER_DAY",
    "TRAPPED",
    "USDC_UNIT",
    "WALLET_NAMES",
    "Call",
    "ChainGateway",
    "ChainInfo",
    "ChainUnavailableError",
    "ContractError",
    "ContractEvent",
    "EnvelopeInvalid",
    "EnvelopeRefusedError",
    "Genesis",
    "PreparedTransaction",
    "ProtocolConstants",
    "SandboxControls",
    "Sealer",
    "TxRecord",
    "assemble",
    "builtin_wallet_funds",
    "check_signed",
    "decode_call",
    "decode_envelope",
    "deposit_for_balance",
    "prepared",
    "signature_problem",
]
