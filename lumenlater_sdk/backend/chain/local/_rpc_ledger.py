"""What the sandbox's Soroban RPC endpoint needs from the local ledger.

Stellar accounts (sequence number, native balance), the Soroban auth nonces used,
the transactions submitted through the endpoint, contract calls run on an
:class:`~._auth_host.AuthHost` (simulated: nothing written; applied: one ledger,
recorded under the Stellar transaction hash) and the contract events with their
ledger position. All of it lives in the ``chain_`` tables, next to the contracts'
state, so a call and its account, nonce and transaction rows commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...db import Row, Tx, marks
from .._gateway import ContractEvent, TxRecord
from ._auth_host import AuthHost
from ._ledger_hold import held
from ._local_gateway import ACCOUNT_START_BALANCE, LocalGateway
from ._storage import Storage, dumps, loads

__all__ = ["Account", "LedgerEvent", "RpcLedger", "StoredTransaction"]


@dataclass(frozen=True)
class Account:
    """A Stellar account on the sandbox ledger."""

    account_id: str
    sequence: int
    balance: int
    last_modified: int


@dataclass(frozen=True)
class StoredTransaction:
    """A transaction the endpoint applied (successfully or not)."""

    hash: str
    ledger: int
    status: str
    envelope: str
    result: str
    meta: str
    events: list[str]
    created_at: int
    operation: str | None = None
    """The caller's name for what it does (``LocalGateway.submit_transaction``)."""


@dataclass(frozen=True)
class LedgerEvent:
    """A contract event with its place in the ledger (index within its transaction)."""

    event: ContractEvent
    index: int


_PROBE = 500
"""Account ids looked up a statement (well under SQLite's 32,766 parameters)."""


def _missing(tx: Tx, account_ids: Sequence[str]) -> set[str]:
    """Those of *account_ids* that have no Stellar account yet (read by key)."""
    missing = set(account_ids)
    for at in range(0, len(account_ids), _PROBE):
        chunk = account_ids[at : at + _PROBE]
        rows = tx.fetchall(
            "SELECT account_id FROM chain_stellar_accounts"
            f" WHERE account_id IN ({marks(len(chunk))})",
            tuple(chunk),
        )
        missing -= {r["account_id"] for r in rows}
    return missing


class RpcLedger:
    """The Soroban RPC endpoint's view of a :class:`LocalGateway`'s ledger."""

    def __init__(self, gateway: LocalGateway, *, sync: bool = True) -> None:
        self.gateway = gateway
        self._g = gateway
        if sync:
            self.sync_accounts()

    # --- ledger ------------------------------------------------------------------------
    def latest(self, *, tx: Tx | None = None) -> tuple[int, int]:
        """``(sequence, close time)`` of the latest ledger."""
        with self._g._reading(tx) as t:
            row = self._g._ledger(t)
            return int(row["sequence"]), int(row["last_time"])

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction over the ledger tables."""
        with self._g._db.transaction(write=True) as t:
            yield t

    def close_ledger(self, t: Tx) -> tuple[int, int]:
        """Close a ledger holding no contract call (a failed transaction's)."""
        row = self._g._ledger(t, lock=True)
        timestamp = self._g._time(row)
        sequence = int(row["sequence"]) + 1
        held(t).change(sequence=sequence, last_time=timestamp)
        return sequence, timestamp

    # --- accounts ------------------------------------------------------------------------
    def sync_accounts(self, *, tx: Tx | None = None) -> None:
        """Every account the sandbox made (genesis, wallets, signers, merchants) exists
        (in *tx*, else a write transaction of its own)."""
        if tx is None:
            with self._g._db.transaction(write=True) as own:
                self.sync_accounts(tx=own)
            return
        # Only the calls since the last sync: their signers (the shops' wallets) are
        # the accounts that grow with the history; the named ones and the merchants
        # are few.
        since = int(
            tx.scalar("SELECT ledger FROM chain_accounts_synced WHERE id = 1" + tx.for_update)
        )
        through = int(tx.scalar("SELECT MAX(ledger) FROM chain_transactions") or 0)
        known = {r["public_key"] for r in tx.fetchall("SELECT public_key FROM chain_accounts")}
        if through > since:
            known |= {
                r["signer"]
                for r in tx.fetchall(
                    "SELECT DISTINCT signer FROM chain_transactions"
                    " WHERE ledger > ? AND ledger <= ?",
                    (since, through),
                )
            }
            # A merchant is enrolled by a call, so with no call since the last sync none
            # is new; the scan reads every key of the core contract (a million bills'
            # worth of state, 220 ms at a million bills).
            merchants = Storage(tx).scan("bnpl_core", "merchant:")
            known |= {key.split(":", 1)[1] for key in merchants}
        # Only the missing ones are written, found by key in one read.
        missing = sorted(_missing(tx, [k for k in known if k.startswith("G")]))
        if missing:
            ledger = self._g.latest_ledger(tx=tx)  # read once for them all
            for account_id in missing:
                self._g.create_account(tx, account_id, ACCOUNT_START_BALANCE, ledger=ledger)
        if through > since:
            tx.execute("UPDATE chain_accounts_synced SET ledger = ? WHERE id = 1", (through,))

    def account(self, account_id: str, *, tx: Tx | None = None) -> Account | None:
        """The account, or ``None`` (a merchant enrolled since the last sync is made now)."""
        with self._g._reading(tx) as t:
            row = t.fetchone(
                "SELECT account_id, sequence, balance, last_modified FROM chain_stellar_accounts"
                " WHERE account_id = ?",
                (account_id,),
            )
        if row is None and tx is None:
            self.sync_accounts()
            with self._g._reading(None) as t:
                row = t.fetchone(
                    "SELECT account_id, sequence, balance, last_modified"
                    " FROM chain_stellar_accounts WHERE account_id = ?",
                    (account_id,),
                )
        return None if row is None else _account(row)

    def create_account(self, t: Tx, account_id: str, balance: int) -> Account:
        """Create an account (sequence = ledger << 32, as Stellar starts one); one that
        exists already is left as it is."""
        ledger = self._g.create_account(t, account_id, balance)
        return Account(account_id, ledger << 32, balance, ledger)

    def charge(self, t: Tx, account_id: str, sequence: int, fee: int, ledger: int) -> None:
        """Consume *sequence* and take *fee* stroops from the account."""
        t.execute(
            "UPDATE chain_stellar_accounts SET sequence = ?, balance = balance - ?,"
            " last_modified = ? WHERE account_id = ?",
            (sequence, fee, ledger, account_id),
        )

    # --- nonces ---------------------------------------------------------------------------
    def nonce_used(self, t: Tx, address: str, nonce: int) -> bool:
        """Whether *address* already used *nonce* (the gateway's record of them)."""
        return self._g.nonce_used(t, address, nonce)

    def use_nonce(self, t: Tx, address: str, nonce: int, ledger: int) -> None:
        """Record a consumed nonce."""
        self._g.use_nonce(t, address, nonce, ledger)

    # --- calls ---------------------------------------------------------------------------
    def simulate(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        authorized: frozenset[str] | None,
        tx: Tx | None = None,
    ) -> tuple[Any, AuthHost, int]:
        """Run a call at the next ledger, writing nothing: ``(result, host, ledger)``.

        Raises the engine's ``ContractError`` on a refusal."""
        with self._g._reading(tx) as t:
            row = self._g._ledger(t)
            host = self._host(self._g._storage(t, row), self._g._time(row), authorized)
            typed = host.typed_args(contract, function, args, view=False)
            return host.call(contract, function, *typed), host, int(row["sequence"]) + 1

    def apply(
        self,
        t: Tx,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        authorized: frozenset[str],
        tx_hash: str,
        signer: str,
        check: Callable[[AuthHost], None] | None = None,
    ) -> tuple[TxRecord, AuthHost]:
        """Run a call in one new ledger, recorded under *tx_hash*; a refusal (the engine's
        ``ContractError``, or whatever *check* raises when given the host after the call)
        writes nothing. *signer* is the address recorded as the call's authoriser."""

        def make_host(storage: Storage, timestamp: int) -> AuthHost:
            return self._host(storage, timestamp, authorized)

        with self._g._atomic(t):
            return self._g._apply(
                t, contract, function, args, make_host, signer, digest=tx_hash, check=check
            )

    def _host(
        self, storage: Storage, timestamp: int, authorized: frozenset[str] | None
    ) -> AuthHost:
        g = self._g
        return AuthHost(
            storage, g._contracts, g._ids, g._constants, timestamp, authorized=authorized
        )

    # --- state ---------------------------------------------------------------------------
    def state(self, contract: str, prefix: str, *, tx: Tx | None = None) -> dict[str, Any]:
        """A contract's stored values whose engine key starts with *prefix*."""
        with self._g._reading(tx) as t:
            return Storage(t).scan(contract, prefix)

    def value(self, contract: str, key: str, *, tx: Tx | None = None) -> Any:
        """A contract's stored value under the engine key *key*, or ``None`` (read by key:
        a prefix as short as ``bill:1`` would match a long history's every tenth bill)."""
        with self._g._reading(tx) as t:
            return Storage(t).get(contract, key)

    # --- transactions ----------------------------------------------------------------------
    def store_transaction(self, t: Tx, record: StoredTransaction) -> None:
        """Keep an applied transaction for ``getTransaction``."""
        t.execute(
            "INSERT INTO chain_rpc_transactions (hash, ledger, status, envelope, result, meta,"
            " events, created_at, operation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.hash,
                record.ledger,
                record.status,
                record.envelope,
                record.result,
                record.meta,
                dumps(record.events),
                record.created_at,
                record.operation,
            ),
        )

    def transaction_record(self, tx_hash: str, *, tx: Tx | None = None) -> StoredTransaction | None:
        """The applied transaction with this hash, or ``None``."""
        return self._stored("hash = ?", tx_hash, tx)

    def operation_record(self, operation: str, *, tx: Tx | None = None) -> StoredTransaction | None:
        """The last transaction applied for *operation* that succeeded, or ``None``."""
        return self._stored("operation = ? AND status = 'SUCCESS'", operation, tx)

    def _stored(self, where: str, value: str, tx: Tx | None) -> StoredTransaction | None:
        with self._g._reading(tx) as t:
            row = t.fetchone(
                "SELECT hash, ledger, status, envelope, result, meta, events, created_at,"
                f" operation FROM chain_rpc_transactions WHERE {where} ORDER BY ledger DESC",
                (value,),
            )
        if row is None:
            return None
        return StoredTransaction(
            row["hash"],
            int(row["ledger"]),
            row["status"],
            row["envelope"],
            row["result"],
            row["meta"],
            list(loads(row["events"])),
            int(row["created_at"]),
            row["operation"],
        )

    def call_record(self, ledger: int, tx_hash: str, *, tx: Tx | None = None) -> TxRecord | None:
        """The record of the contract call applied under *tx_hash* in *ledger* (result and
        events, as :meth:`apply` returned it), or ``None``."""
        # A ledger holds one call at most, and its events only: both read by ledger.
        with self._g._records(tx) as t:
            row = t.fetchone(
                "SELECT timestamp, result FROM chain_transactions WHERE ledger = ? AND hash = ?",
                (ledger, tx_hash),
            )
            if row is None:
                return None
            rows = t.fetchall(
                "SELECT event_id FROM chain_events WHERE ledger = ? ORDER BY event_id", (ledger,)
            )
        cursors = [int(r["event_id"]) for r in rows]
        events = self._g.events_after(cursors[0] - 1, limit=len(cursors), tx=tx) if cursors else []
        return TxRecord(tx_hash, ledger, int(row["timestamp"]), loads(row["result"]), tuple(events))

    # --- events ------------------------------------------------------------------------
    def ledger_time(self, ledger: int, *, tx: Tx | None = None) -> int | None:
        """Close time of a ledger that holds a contract call."""
        with self._g._records(tx) as t:
            value = t.scalar("SELECT timestamp FROM chain_transactions WHERE ledger = ?", (ledger,))
        return None if value is None else int(value)

    def events_from(
        self, ledger: int, index: int, *, batch: int = 200, tx: Tx | None = None
    ) -> Iterator[LedgerEvent]:
        """Events from position (*ledger*, *index*) on (index -1: the whole ledger), in order."""
        with self._g._records(tx) as t:
            before = t.scalar(
                "SELECT event_id FROM chain_events WHERE ledger < ?"
                " ORDER BY ledger DESC, event_id DESC LIMIT 1",
                (ledger,),
            )
            after = int(before or 0) + (index + 1 if index >= 0 else 0)
        while True:
            found = self._g.events_after(after, limit=batch, tx=tx)
            if not found:
                return
            with self._g._records(tx) as t:
                firsts = {
                    int(r["ledger"]): int(r["first"])
                    for r in t.fetchall(
                        "SELECT ledger, MIN(event_id) AS first FROM chain_events"
                        " WHERE ledger >= ? AND ledger <= ? GROUP BY ledger",
                        (found[0].ledger, found[-1].ledger),
                    )
                }
            for e in found:
                yield LedgerEvent(e, e.cursor - firsts[e.ledger])
            after = found[-1].cursor


def _account(row: Row) -> Account:
    return Account(
        row["account_id"], int(row["sequence"]), int(row["balance"]), int(row["last_modified"])
    )
