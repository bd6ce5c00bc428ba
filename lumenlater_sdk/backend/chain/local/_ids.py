"""Deterministic identifiers: contract ids and transaction hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from stellar_sdk import StrKey

from ._storage import dumps

__all__ = ["NETWORK", "contract_id_for", "tx_hash"]

NETWORK = "LumenLater local engine ; 2026"
"""Plays the role of the network passphrase: it is hashed into ids and tx hashes."""


def contract_id_for(name: str) -> str:
    """The ``C…`` id of a contract deployed by the local engine (StrKey contract encoding)."""
    digest = hashlib.sha256(f"{NETWORK}|contract|{name}".encode()).digest()
    return str(StrKey.encode_contract(digest))


def tx_hash(contract_id: str, function: str, args: Sequence[Any], signer: str, ledger: int) -> str:
    """SHA-256 (hex) of the canonical encoding of one invocation in one ledger."""
    body = dumps(
        {
            "network": NETWORK,
            "contract": contract_id,
            "function": function,
            "args": list(args),
            "signer": signer,
            "ledger": ledger,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()
