"""The engine's tables (component ``chain``), all prefixed ``chain_``.

Contract state is a key-value store per contract, as Soroban storage is; values
are JSON text so i128 amounts keep every digit on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from ...db import Migration

__all__ = ["COMPONENT", "MIGRATIONS"]

COMPONENT = "chain"

MIGRATIONS = [
    Migration(
        1,
        "ledger",
        "CREATE TABLE chain_ledger ("
        " id INTEGER PRIMARY KEY,"
        " sequence BIGINT NOT NULL,"
        " event_id BIGINT NOT NULL,"
        " clock_offset BIGINT NOT NULL,"
        " last_time BIGINT NOT NULL,"
        " genesis INTEGER NOT NULL);\n"
        "INSERT INTO chain_ledger (id, sequence, event_id, clock_offset, last_time, genesis)"
        " VALUES (1, 0, 0, 0, 0, 0);\n"
        "CREATE TABLE chain_state ("
        " contract TEXT NOT NULL,"
        " key TEXT NOT NULL,"
        " value TEXT NOT NULL,"
        " PRIMARY KEY (contract, key));\n"
        "CREATE TABLE chain_events ("
        " event_id BIGINT PRIMARY KEY,"
        " ledger BIGINT NOT NULL,"
        " tx_hash TEXT NOT NULL,"
        " contract TEXT NOT NULL,"
        " contract_id TEXT NOT NULL,"
        " topics TEXT NOT NULL,"
        " data TEXT NOT NULL,"
        " timestamp BIGINT NOT NULL);\n"
        "CREATE TABLE chain_transactions ("
        " ledger BIGINT PRIMARY KEY,"
        " hash TEXT NOT NULL UNIQUE,"
        " contract TEXT NOT NULL,"
        " function TEXT NOT NULL,"
        " args TEXT NOT NULL,"
        " signer TEXT NOT NULL,"
        " timestamp BIGINT NOT NULL,"
        " result TEXT NOT NULL);\n"
        "CREATE TABLE chain_accounts ("
        " name TEXT PRIMARY KEY,"
        " public_key TEXT NOT NULL,"
        " secret TEXT NOT NULL)",
    ),
    Migration(
        2,
        "stellar accounts, auth nonces and transactions of the Soroban RPC endpoint",
        "CREATE TABLE chain_stellar_accounts ("
        " account_id TEXT PRIMARY KEY,"
        " sequence BIGINT NOT NULL,"
        " balance BIGINT NOT NULL,"
        " last_modified BIGINT NOT NULL);\n"
        "CREATE TABLE chain_auth_nonces ("
        " address TEXT NOT NULL,"
        " nonce BIGINT NOT NULL,"
        " ledger BIGINT NOT NULL,"
        " PRIMARY KEY (address, nonce));\n"
        "CREATE TABLE chain_rpc_transactions ("
        " hash TEXT PRIMARY KEY,"
        " ledger BIGINT NOT NULL,"
        " status TEXT NOT NULL,"
        " envelope TEXT NOT NULL,"
        " result TEXT NOT NULL,"
        " meta TEXT NOT NULL,"
        " events TEXT NOT NULL,"
        " created_at BIGINT NOT NULL)",
    ),
    Migration(
        3,
        "the operation a wallet-signed transaction carries out (a retry finds its record)",
        "ALTER TABLE chain_rpc_transactions ADD COLUMN operation TEXT;\n"
        "CREATE INDEX chain_rpc_transactions_operation ON chain_rpc_transactions (operation)"
        " WHERE operation IS NOT NULL",
    ),
    Migration(
        4,
        "a version of the contract state, so a process may keep it in memory between calls",
        "ALTER TABLE chain_ledger ADD COLUMN state_version TEXT NOT NULL DEFAULT ''",
    ),
]
