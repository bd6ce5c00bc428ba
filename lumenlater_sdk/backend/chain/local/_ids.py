"""Deterministic identifiers: contract ids and transaction hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from stellar_sdk import Keypair, StrKey

from ._storage import dumps

__all__ = ["NETWORK", "address_of", "contract_id_for", "tx_hash"]

_ADDRESSES: dict[bytes, str] = {}
_MAX_ADDRESSES = 100_000

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


def address_of(keypair: Keypair) -> str:
    """``keypair.public_key``, remembered: stellar_sdk encodes the ``G…`` address (base32
    and a checksum) on every read, ~50 times the cost of a lookup, and every call reads
    its signer's."""
    raw = keypair.raw_public_key()
    found = _ADDRESSES.get(raw)
    if found is None:
        if len(_ADDRESSES) >= _MAX_ADDRESSES:  # bounded: wallets come and go
            _ADDRESSES.clear()
        found = _ADDRESSES[raw] = keypair.public_key
    return found
