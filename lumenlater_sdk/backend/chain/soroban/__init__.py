"""The Soroban wire codec: the local engine's Python values ⇄ the deployed contracts' ScVals.

One codec for both directions of the ``soroban`` work: the gateway that talks to
a real Soroban RPC encodes arguments and decodes results and events; the
sandbox's JSON-RPC endpoint over the embedded contracts decodes arguments and
encodes results, events and storage. Reference: SOROBAN.md §2 (ScVal rules), §4
(functions), §5 (types), §6 (events), §7 (storage).
"""

from ._authorization import (
    AUTHORIZATION_LEDGERS,
    AuthorizationError,
    AuthorizationRequest,
    check_signed_entry,
    contract_invocation,
    decode_entry,
    request_authorization,
    signature_payload,
    verify_signature,
)
from ._codec import (
    decode_args,
    decode_event,
    decode_result,
    encode_args,
    encode_event,
    encode_result,
    function_schema,
)
from ._errors import decode_contract_error, encode_contract_error, encode_trap
from ._failures import ChainOutcomeUnknownError
from ._gateway import SorobanGateway
from ._rpc import Rpc
from ._sandbox import RpcSandbox, rpc_sandbox
from ._schema import EVENTS, FUNCTIONS
from ._storage_keys import (
    data_key,
    decode_data_key,
    decode_data_value,
    encode_data_value,
    instance_ledger_key,
    ledger_key,
)

__all__ = [
    "AUTHORIZATION_LEDGERS",
    "EVENTS",
    "FUNCTIONS",
    "AuthorizationError",
    "AuthorizationRequest",
    "ChainOutcomeUnknownError",
    "Rpc",
    "RpcSandbox",
    "SorobanGateway",
    "check_signed_entry",
    "contract_invocation",
    "data_key",
    "decode_args",
    "decode_contract_error",
    "decode_data_key",
    "decode_data_value",
    "decode_entry",
    "decode_event",
    "decode_result",
    "encode_args",
    "encode_contract_error",
    "encode_data_value",
    "encode_event",
    "encode_result",
    "encode_trap",
    "function_schema",
    "instance_ledger_key",
    "ledger_key",
    "request_authorization",
    "rpc_sandbox",
    "signature_payload",
    "verify_signature",
]
