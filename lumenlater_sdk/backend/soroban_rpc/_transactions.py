"""``simulateTransaction``, ``sendTransaction`` and ``getTransaction``.

The ledger's own work (simulating a call, admitting an envelope, applying it) is the
local chain's (``chain.local``: ``simulate``, ``admit``, ``apply``); this is the wire
around it, and the congestion tests may ask of the endpoint (:mod:`._congestion`).
"""

from __future__ import annotations

from typing import Any

from stellar_sdk import xdr

from ..chain import ContractError
from ..chain.local import (
    HostFailure,
    RpcLedger,
    admit,
    apply,
    b64,
    diagnostic,
    refused_result,
    simulate,
)
from ._calls import Call, decode_call, decode_envelope
from ._congestion import Held, congestion
from ._jsonrpc import INVALID_PARAMS, RpcError

__all__ = ["get_transaction", "send_transaction", "simulate_transaction"]


def _host_error(e: ContractError) -> str:
    if e.code:
        return f"HostError: Error(Contract, #{e.code})"
    if e.name == "Auth.InvalidAction":
        return "HostError: Error(Auth, InvalidAction)"
    if e.trapped:
        return "HostError: Error(WasmVm, InvalidAction)"
    return "HostError: Error(Value, UnexpectedType)"


def simulate_transaction(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """Run the call without writing: return value, auth entries, footprint, fee."""
    call = decode_call(decode_envelope(params.get("transaction")))
    mode = params.get("authMode")
    if mode not in (None, "enforce", "record", "record_allow_nonroot"):
        raise RpcError(INVALID_PARAMS, "authMode must be enforce, record or record_allow_nonroot")
    enforce = mode == "enforce" or (mode is None and bool(call.auth))
    try:
        sim = simulate(ledger, call, enforce=enforce)
    except HostFailure as e:
        return {"error": str(e), "latestLedger": ledger.latest()[0]}
    except ContractError as e:
        return {"error": _host_error(e), "events": [], "latestLedger": ledger.latest()[0]}
    return {
        "transactionData": sim.data.to_xdr(),
        "minResourceFee": str(sim.fee),
        "events": diagnostic(sim.events),
        "results": [{"auth": [b64(a) for a in sim.auth], "xdr": sim.value.to_xdr()}],
        "cost": {"cpuInsns": "1000000", "memBytes": "1000000"},
        "latestLedger": sim.latest,
    }


def _refuse(call: Call, code: xdr.TransactionResultCode, latest: int, close: int) -> dict[str, Any]:
    return {
        "status": "ERROR",
        "hash": call.envelope.hash_hex(),
        "errorResultXdr": refused_result(code).to_xdr(),
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
    }


def _busy(call: Call, latest: int, close: int) -> dict[str, Any]:
    return {
        "status": "TRY_AGAIN_LATER",
        "hash": call.envelope.hash_hex(),
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
    }


def send_transaction(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """Check the envelope as the network does, then apply it in a new ledger (or, when a
    test congested the endpoint, answer ``TRY_AGAIN_LATER`` or queue it: see
    :mod:`._congestion`)."""
    call = decode_call(decode_envelope(params.get("transaction")))
    tx_hash = call.envelope.hash_hex()
    latest, close = ledger.latest()
    node = congestion(ledger.gateway)
    if ledger.transaction_record(tx_hash) is not None or node.queued(tx_hash):
        return {
            "status": "DUPLICATE",
            "hash": tx_hash,
            "latestLedger": latest,
            "latestLedgerCloseTime": str(close),
        }
    if node.take_busy() or node.source_queued(call.source):
        return _busy(call, latest, close)
    refused = admit(ledger, call)
    if refused is not None:
        return _refuse(call, refused, latest, close)

    def apply_now() -> None:
        with ledger.transaction() as t:
            apply(ledger, t, call)

    def apply_later() -> bool:
        # A queued transaction is checked again when its ledger closes, as core does.
        if admit(ledger, call) is not None:
            return False
        apply_now()
        return True

    if not node.offer(Held(tx_hash, call.source, apply_later)):
        apply_now()
    latest, close = ledger.latest()
    return {
        "status": "PENDING",
        "hash": tx_hash,
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
    }


def get_transaction(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """A transaction applied on the ledger: SUCCESS, FAILED or NOT_FOUND."""
    tx_hash = params.get("hash")
    if not isinstance(tx_hash, str) or len(tx_hash) != 64:
        raise RpcError(INVALID_PARAMS, "hash must be a 64-character hex string")
    latest, close = ledger.latest()
    answer: dict[str, Any] = {
        "txHash": tx_hash,
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
        "oldestLedger": 1,
        "oldestLedgerCloseTime": str(ledger.ledger_time(1) or close),
    }
    stored = ledger.transaction_record(tx_hash.lower())
    if stored is None:
        return {"status": "NOT_FOUND", **answer}
    return {
        "status": stored.status,
        **answer,
        "applicationOrder": 1,
        "feeBump": False,
        "envelopeXdr": stored.envelope,
        "resultXdr": stored.result,
        "resultMetaXdr": stored.meta,
        "events": {"transactionEventsXdr": [], "contractEventsXdr": [stored.events]},
        "ledger": stored.ledger,
        "createdAt": str(stored.created_at),
    }
