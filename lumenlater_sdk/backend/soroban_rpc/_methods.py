"""The method table, and the methods that only describe the node and its ledger."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._version import __version__
from ..chain.local import RpcLedger
from ._calls import PASSPHRASE
from ._entries import get_ledger_entries
from ._events import get_events
from ._jsonrpc import Method
from ._transactions import get_transaction, send_transaction, simulate_transaction
from ._xdr import PROTOCOL_VERSION, ledger_close_meta, ledger_hash, ledger_header

__all__ = ["methods"]


def methods(ledger: RpcLedger, friendbot_url: str) -> Mapping[str, Method]:
    """Every JSON-RPC method of the endpoint, by name."""

    def health(params: Mapping[str, Any]) -> dict[str, Any]:
        latest, _ = ledger.latest()
        return {
            "status": "healthy",
            "latestLedger": latest,
            "oldestLedger": 1,
            "ledgerRetentionWindow": max(latest, 1),
        }

    def network(params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "friendbotUrl": friendbot_url,
            "passphrase": PASSPHRASE,
            "protocolVersion": PROTOCOL_VERSION,
        }

    def version(params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "version": f"lumenlater-sandbox-{__version__}",
            "commitHash": "",
            "buildTimestamp": "",
            "captiveCoreVersion": "none (in-process contracts)",
            "protocolVersion": PROTOCOL_VERSION,
        }

    def latest_ledger(params: Mapping[str, Any]) -> dict[str, Any]:
        sequence, close = ledger.latest()
        return {
            "id": ledger_hash(sequence).hex(),
            "protocolVersion": PROTOCOL_VERSION,
            "sequence": sequence,
            "closeTime": str(close),
            "headerXdr": ledger_header(sequence, close).header.to_xdr(),
            "metadataXdr": ledger_close_meta(sequence, close).to_xdr(),
        }

    def fee_stats(params: Mapping[str, Any]) -> dict[str, Any]:
        latest, _ = ledger.latest()
        flat = {
            k: "100"
            for k in (
                "max",
                "min",
                "mode",
                "p10",
                "p20",
                "p30",
                "p40",
                "p50",
                "p60",
                "p70",
                "p80",
                "p90",
                "p95",
                "p99",
            )
        }
        dist = {**flat, "transactionCount": "0", "ledgerCount": 1}
        return {"sorobanInclusionFee": dist, "inclusionFee": dist, "latestLedger": latest}

    def wrap(fn: Any) -> Method:
        return lambda params: fn(ledger, dict(params))

    return {
        "getHealth": health,
        "getNetwork": network,
        "getVersionInfo": version,
        "getLatestLedger": latest_ledger,
        "getFeeStats": fee_stats,
        "getLedgerEntries": wrap(get_ledger_entries),
        "simulateTransaction": wrap(simulate_transaction),
        "sendTransaction": wrap(send_transaction),
        "getTransaction": wrap(get_transaction),
        "getEvents": wrap(get_events),
    }
