"""Genesis: the accounts and amounts a fresh local ledger starts with."""

from __future__ import annotations

from collections.abc import Mapping

from stellar_sdk import Keypair

from ...db import Tx
from .._constants import USDC_UNIT
from .._sandbox import Genesis, Sealer

__all__ = [
    "DEFAULT_POOL_LIQUIDITY",
    "LP_METADATA",
    "ROLES",
    "USDC_MINT_LIMIT",
    "load_accounts",
    "save_account",
]

DEFAULT_POOL_LIQUIDITY = 10_000_000 * USDC_UNIT
"""USDC the liquidity provider deposits into the pool at genesis."""

LP_METADATA = {"decimal": 7, "name": "BNPL LP Token", "symbol": "BNPLP"}
"""The lp_token's ``TokenMetadata``, as upstream initialises it (SOROBAN.md §1)."""

USDC_MINT_LIMIT = 1_000_000 * USDC_UNIT
"""The USDC faucet's limit per address per UTC day, as upstream initialises it."""

ROLES = ("admin", "treasury", "insurance", "liquidity_provider")


def save_account(tx: Tx, name: str, keypair: Keypair, sealer: Sealer) -> None:
    """Persist a keypair under *name* (``admin``, ``wallet:approve``, ...), its seed sealed."""
    tx.execute(
        "INSERT INTO chain_accounts (name, public_key, secret) VALUES (?, ?, ?)",
        (name, keypair.public_key, sealer.seal(keypair.secret)),
    )


def load_accounts(tx: Tx, contract_ids: Mapping[str, str], sealer: Sealer) -> Genesis | None:
    """The stored genesis, or ``None`` if there is none yet.

    A seed stored in the clear (``S…``, as ledgers made before sealing kept them) is
    sealed in place, in *tx*; the backend loads its genesis at every start.
    """
    keys = {}
    for row in tx.fetchall("SELECT name, secret FROM chain_accounts"):
        stored: str = row["secret"]
        if stored.startswith("S"):  # sealed values start with a version prefix ("v2:")
            tx.execute(
                "UPDATE chain_accounts SET secret = ? WHERE name = ?",
                (sealer.seal(stored), row["name"]),
            )
            keys[row["name"]] = Keypair.from_secret(stored)
        else:
            keys[row["name"]] = Keypair.from_secret(sealer.open(stored))
    if not all(role in keys for role in ROLES):
        return None
    wallets = {
        name.split(":", 1)[1]: kp for name, kp in sorted(keys.items()) if name.startswith("wallet:")
    }
    return Genesis(
        admin=keys["admin"],
        treasury=keys["treasury"],
        insurance=keys["insurance"],
        liquidity_provider=keys["liquidity_provider"],
        wallets=wallets,
        contract_ids=dict(contract_ids),
    )
