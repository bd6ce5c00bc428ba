"""The chain model: the network and contracts the backend relays to."""

from __future__ import annotations

from typing import Literal

from ._base import LumenLaterObject


class ChainContracts(LumenLaterObject):
    """The ``C…`` contract ids of the BNPL protocol on this chain."""

    bnpl_core: str
    lp_token: str
    usdc: str


class Chain(LumenLaterObject):
    """The chain behind the API: the same for every merchant of a backend.

    ``gateway`` is how the backend reaches it (``local``: the contracts running
    in-process on the sandbox ledger; ``soroban``: a Soroban RPC endpoint, then
    ``rpc_url``). ``latest_ledger`` is the sequence of the latest closed ledger; it
    grows with every state-changing call.
    """

    object: Literal["chain"] | str = "chain"
    gateway: Literal["local", "soroban"] | str
    network_passphrase: str
    rpc_url: str | None = None
    contracts: ChainContracts
    latest_ledger: int
