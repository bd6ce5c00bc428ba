"""The chain behind the API: which gateway, network and contracts, and how far its ledger is.

The same for every merchant and key mode: there is one chain per backend.
"""

from __future__ import annotations

from typing import Any

from ..chain import CONTRACTS
from .context import ServiceContext

__all__ = ["describe"]


def describe(ctx: ServiceContext) -> dict[str, Any]:
    """``GET /v1/chain``: the gateway's description and the latest ledger's sequence."""
    info = ctx.chain.describe()
    with ctx.db.transaction(write=False) as tx:
        latest = ctx.chain.latest_ledger(tx)
    return {
        "object": "chain",
        "gateway": info.gateway_name,
        "network_passphrase": info.network_passphrase,
        "rpc_url": info.rpc_url,
        "contracts": {name: info.contracts[name] for name in CONTRACTS},
        "latest_ledger": latest,
    }
