"""A submitted or simulated envelope, decoded into one contract call (JSON-RPC errors)."""

from __future__ import annotations

from typing import Any

from stellar_sdk import TransactionEnvelope

from ..chain import Call, EnvelopeInvalid
from ..chain import decode_call as _decode_call
from ..chain import decode_envelope as _decode_envelope
from ._jsonrpc import INVALID_PARAMS, RpcError

__all__ = ["PASSPHRASE", "Call", "decode_call", "decode_envelope"]

PASSPHRASE = "Standalone Network ; February 2017"


def decode_envelope(text: Any) -> TransactionEnvelope:
    """The transaction of a base64 envelope; JSON-RPC invalid params if it is none."""
    try:
        return _decode_envelope(text, PASSPHRASE)
    except EnvelopeInvalid as exc:
        raise RpcError(INVALID_PARAMS, exc.message, exc.data) from None


def decode_call(envelope: TransactionEnvelope) -> Call:
    """The envelope's single contract call; JSON-RPC invalid params for anything else."""
    try:
        return _decode_call(envelope)
    except EnvelopeInvalid as exc:
        raise RpcError(INVALID_PARAMS, exc.message, exc.data) from None
