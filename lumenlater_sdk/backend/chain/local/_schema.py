"""The engine's tables (component ``chain``), all prefixed ``chain_``.

Contract state is a key-value store per contract, as Soroban storage is; values
are JSON text so i128 amounts keep every digit on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from ...db import Migration

__all__ = ["COMPONENT", "MIGRATIONS"]

COMPONENT = "chain"

# The last ledger whose calls' signers have Stellar accounts (RpcLedger.sync_accounts):
# each sync reads only the calls after it.
_SYNCED = (
    "CREATE TABLE chain_accounts_synced ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " ledger BIGINT NOT NULL);\n"
    "INSERT INTO chain_accounts_synced (id, ledger) VALUES (1, 0)"
)

# A contract call's columns after its ledger and hash (migration 1 made the table,
# migration 5 remakes it keyed by ledger alone).
_CALL_COLUMNS = (
    " contract TEXT NOT NULL,"
    " function TEXT NOT NULL,"
    " args TEXT NOT NULL,"
    " signer TEXT NOT NULL,"
    " timestamp BIGINT NOT NULL,"
    " result TEXT NOT NULL)"
)

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
        " hash TEXT NOT NULL UNIQUE," + _CALL_COLUMNS + ";\n"
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
    # A call's record is found by its ledger (one call a ledger; the retry that asks
    # knows it), so no index is kept on the hash: a random key, whose B-tree takes
    # every call into a leaf of its own, out of memory once the history is long (at
    # 13M calls, 1.4 page reads and 1.3 ms per insert on PostgreSQL). Events are read
    # by ledger along an index that only grows at its end.
    Migration(
        5,
        "calls found by ledger: no hash index; events indexed by ledger; accounts synced since",
        "CREATE TABLE chain_transactions_by_ledger ("
        " ledger INTEGER PRIMARY KEY,"
        " hash TEXT NOT NULL," + _CALL_COLUMNS + ";\n"
        "INSERT INTO chain_transactions_by_ledger"
        " SELECT ledger, hash, contract, function, args, signer, timestamp, result"
        " FROM chain_transactions;\n"
        "DROP TABLE chain_transactions;\n"
        "ALTER TABLE chain_transactions_by_ledger RENAME TO chain_transactions;\n"
        "CREATE INDEX chain_events_ledger ON chain_events (ledger, event_id);\n" + _SYNCED,
        postgresql="ALTER TABLE chain_transactions"
        " DROP CONSTRAINT IF EXISTS chain_transactions_hash_key;\n"
        "CREATE INDEX chain_events_ledger ON chain_events (ledger, event_id);\n" + _SYNCED,
    ),
]
