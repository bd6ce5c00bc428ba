"""A Soroban JSON-RPC 2.0 endpoint over the sandbox's ledger (``--soroban-rpc``).

``POST /soroban/rpc`` serves the methods stellar-sdk's ``SorobanServer`` uses, over
the same embedded contracts and database as the API, on the standalone network
(``Standalone Network ; February 2017``); ``GET /friendbot?addr=G…`` funds an
account. Sandbox only: it exists for a :class:`~..chain.local.LocalGateway`, and adds
the development chain's own ``lumenlater_*`` methods (``_sandbox_methods``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ..chain.local import LocalGateway, RpcLedger
from ._calls import PASSPHRASE
from ._friendbot import friendbot
from ._jsonrpc import endpoint
from ._methods import methods
from ._sandbox_methods import SANDBOX_METHODS, sandbox_methods

__all__ = ["PASSPHRASE", "SANDBOX_METHODS", "soroban_rpc_routes"]


def soroban_rpc_routes(gateway: LocalGateway, base_url: str) -> list[BaseRoute]:
    """The endpoint's routes: ``POST /soroban/rpc`` and ``GET /friendbot``."""
    ledger = RpcLedger(gateway)
    table = {**methods(ledger, f"{base_url}/friendbot"), **sandbox_methods(ledger)}
    return [
        Route("/soroban/rpc", endpoint(table), methods=["POST"]),
        Route("/friendbot", friendbot(ledger), methods=["GET"]),
    ]
