"""LocalGateway: the three contracts running in-process on a ledger kept in the database."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from stellar_sdk import Account, Keypair, Network, TransactionBuilder

from ...db import Database, Row, Tx, migrate
from .._constants import ProtocolConstants
from .._gateway import (
    AUTH_FAILED,
    CONTRACTS,
    INVALID_INPUT,
    TRAPPED,
    ChainGateway,
    ChainInfo,
    ContractError,
    ContractEvent,
    TxRecord,
)
from .._sandbox import Genesis, Sealer
from .._transactions import (
    ENVELOPE_DUPLICATE,
    EnvelopeRefusedError,
    PreparedTransaction,
    assemble,
    check_signed,
    decode_call,
    prepared,
)
from ..soroban import (
    AuthorizationError,
    check_signed_entry,
    contract_invocation,
    decode_entry,
    encode_args,
)
from ._bnpl_core import BnplCore
from ._host import Contract, Host
from ._ids import address_of, contract_id_for, tx_hash
from ._ledger_hold import COLUMNS, held
from ._local_sandbox import ACCOUNT_START_BALANCE, LocalSandboxControls
from ._lp_token import LpToken
from ._schema import COMPONENT, MIGRATIONS
from ._state_cache import StateCache, new_version
from ._storage import Storage, dumps, loads
from ._usdc import UsdcToken

if TYPE_CHECKING:
    from ._rpc_ledger import RpcLedger

H = TypeVar("H", bound=Host)

__all__ = ["ACCOUNT_START_BALANCE", "TX_TIMEOUT", "LocalGateway"]

TX_TIMEOUT = 300
"""Seconds a prepared transaction stays valid (its ``max_time`` after the ledger's time)."""


class LocalGateway(ChainGateway, LocalSandboxControls):
    """The BNPL contracts of PROTOCOL.md on a deterministic ledger in *db*.

    A :class:`~lumenlater_sdk.backend.chain.ChainGateway` and, being a sandbox ledger,
    the :class:`~lumenlater_sdk.backend.chain.SandboxControls` too: its clock moves on
    request, its admin funds wallets and approves merchants.

    Every state-changing call is one ledger transaction: it takes the lock on the
    single ``chain_ledger`` row (so calls serialise as on a ledger), runs the
    contract, and on success keeps the state, its events and the next ledger sequence
    in the database transaction's ledger hold, written just before it commits (one
    set of statements for all its calls, see ``_ledger_hold``). With ``tx=`` it runs
    inside the caller's transaction: a refusal leaves nothing of the call, and the
    ledger change commits or rolls back with the caller's own rows (work that writes
    SQL of its own, an envelope's say, runs under a SAVEPOINT). Thread-safe; applies
    its migrations (component ``chain``) on construction. *sealer* seals the genesis
    accounts' seeds at rest (the backend passes its ``SecretBox``).
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        constants: ProtocolConstants | None = None,
        sealer: Sealer,
    ) -> None:
        self._db = db
        self._sealer = sealer
        self._clock = clock
        self._constants = constants or ProtocolConstants()
        contracts: list[Contract] = [BnplCore(), LpToken(), UsdcToken()]
        self._contracts = {c.NAME: c for c in contracts}
        self._ids = {name: contract_id_for(name) for name in CONTRACTS}
        self._info = ChainInfo("local", Network.STANDALONE_NETWORK_PASSPHRASE, None, self._ids)
        self._genesis: Genesis | None = None
        self._genesis_lock = threading.Lock()
        # Highest time this process has reported: now() must not go back even when the
        # wall clock does and nothing was persisted since (reads never write).
        self._high_water = 0
        self._time_lock = threading.Lock()
        self._rpc_view: RpcLedger | None = None  # made on first use
        self._state = StateCache()
        migrate(db, COMPONENT, MIGRATIONS)

    # --- ChainGateway -----------------------------------------------------------------
    def invoke(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        signer: Keypair,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        """Run a state-changing function as *signer*: one ledger, or ContractError and no trace.

        *operation* is not needed here: the call commits or rolls back with *tx*, so a
        request that failed left no call behind to find."""
        with self._calls(tx) as t:
            record = self._execute(t, contract, function, args, signer)
        return dataclasses.replace(record, fresh=tx is not None)

    def invoke_authorized(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        entry_xdr: str,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        """Run a call authorised by an entry its address signed elsewhere.

        The entry is checked as the network checks it (signature over the standalone
        network's preimage, exactly this invocation, the nonce unused, the expiration
        ledger not passed) and its nonce is consumed with the call. The invocation is
        compared at its root: the calls this serves (``create_bill``,
        ``enroll_merchant``, ``pay_bill_bnpl``, ``repay_bill``) authorise no
        sub-invocations (SOROBAN.md §8)."""
        invocation = contract_invocation(self.contract_id(contract), contract, function, args)
        try:
            entry = decode_entry(entry_xdr)
            address, nonce, expiration = check_signed_entry(
                entry, network_passphrase=self._info.network_passphrase, invocation=invocation
            )
        except AuthorizationError as exc:
            message = f"Error(Auth, InvalidAction): {exc}"
            raise ContractError(contract, 0, AUTH_FAILED, message) from None
        with self._atomic(tx) as t:
            current = int(self._ledger(t, lock=True)["sequence"]) + 1
            if expiration < current:
                raise ContractError(
                    contract, 0, AUTH_FAILED, f"the authorization expired at ledger {expiration}"
                )
            if self.nonce_used(t, address, nonce):
                raise ContractError(contract, 0, AUTH_FAILED, f"nonce {nonce} was already used")
            record = self._execute(t, contract, function, args, Keypair.from_public_key(address))
            self.use_nonce(t, address, nonce, record.ledger)
        return dataclasses.replace(record, fresh=tx is not None)

    def prepare_transaction(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        source: str,
        tx: Tx | None = None,
    ) -> PreparedTransaction:
        """Build the call with *source*'s next sequence number, simulate it on this ledger
        (recording its auth) and assemble it, as the sandbox's RPC endpoint would for
        ``prepareTransaction``. Valid for :data:`TX_TIMEOUT` seconds."""
        from ._envelopes import HostFailure, simulate

        contract_id = self.contract_id(contract)
        try:
            scargs = encode_args(contract, function, list(args))
        except (TypeError, ValueError) as exc:  # as the host refuses ill-typed arguments
            raise ContractError(contract, 0, INVALID_INPUT, f"Invalid input: {exc}") from exc
        ledger = self._rpc_ledger()
        account = ledger.account(source, tx=tx)
        if account is None:
            raise EnvelopeRefusedError(contract, "txNO_ACCOUNT", f"{source} has no account")
        max_time = self.now(tx=tx) + TX_TIMEOUT
        builder = TransactionBuilder(
            Account(source, account.sequence), self._info.network_passphrase, base_fee=100
        )
        builder.append_invoke_contract_function_op(contract_id, function, scargs)
        envelope = builder.add_time_bounds(0, max_time).build()
        try:
            sim = simulate(ledger, decode_call(envelope), enforce=False, tx=tx)
        except HostFailure as exc:
            raise ContractError(contract, 0, INVALID_INPUT, str(exc)) from None
        assemble(envelope, sim.data, sim.fee, sim.auth)
        return prepared(envelope, contract=contract, function=function, max_time=max_time)

    def submit_transaction(
        self,
        signed_xdr: str,
        *,
        expected: PreparedTransaction | None = None,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        """Check the envelope, then apply it in a new ledger as the sandbox's RPC endpoint
        applies a ``sendTransaction`` (the ledger's own checks: account, sequence, time
        bounds, fee; then the call, or a FAILED transaction whose fee and sequence are
        spent). With *tx* the ledger change commits with the caller's rows. An
        *operation* whose transaction applied already returns that transaction's record
        (as the soroban gateway does); else the same envelope again is refused
        (:data:`ENVELOPE_DUPLICATE`)."""
        from ._envelopes import admit, apply

        call, contract = check_signed(
            signed_xdr,
            network_passphrase=self._info.network_passphrase,
            contracts={cid: name for name, cid in self._ids.items()},
            expected=expected,
        )
        ledger = self._rpc_ledger()
        tx_hash = call.envelope.hash_hex()
        with self._atomic(tx) as t:
            self._ledger(t, lock=True)
            done = ledger.operation_record(operation, tx=t) if operation is not None else None
            record = None if done is None else ledger.call_record(done.ledger, done.hash, tx=t)
            if record is not None:
                return record
            if ledger.transaction_record(tx_hash, tx=t) is not None:
                raise EnvelopeRefusedError(
                    contract, ENVELOPE_DUPLICATE, f"transaction {tx_hash} was submitted already"
                )
            refused = admit(ledger, call, tx=t)
            if refused is not None:
                raise EnvelopeRefusedError(
                    contract, refused.name, f"the ledger refused transaction {tx_hash}"
                )
            applied = apply(ledger, t, call, operation=operation)
        if applied.record is None:
            raise ContractError(
                contract, 0, TRAPPED, "transaction failed: INVOKE_HOST_FUNCTION_TRAPPED"
            )
        return applied.record

    def _rpc_ledger(self) -> RpcLedger:
        """This ledger as the Soroban RPC endpoint sees it (accounts, transactions)."""
        from ._rpc_ledger import RpcLedger

        if self._rpc_view is None:
            # No account sync here: the caller may hold the database's write lock.
            self._rpc_view = RpcLedger(self, sync=False)
        return self._rpc_view

    # --- stellar accounts ---------------------------------------------------------------
    def create_account(
        self, t: Tx, account_id: str, balance: int, *, ledger: int | None = None
    ) -> int:
        """Create the Stellar account *account_id* with *balance* stroops unless it exists
        (sequence = ledger << 32, as Stellar starts one), as of *ledger* (default: the
        current one); that ledger's number."""
        if ledger is None:
            ledger = int(self._ledger(t)["sequence"])
        t.send(
            "INSERT INTO chain_stellar_accounts (account_id, sequence, balance, last_modified)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (account_id) DO NOTHING",
            (account_id, ledger << 32, balance, ledger),
        )
        return ledger

    # --- authorization nonces ---------------------------------------------------------
    def nonce_used(self, t: Tx, address: str, nonce: int) -> bool:
        """Whether *address* already used *nonce* in an applied authorization."""
        found = t.scalar(
            "SELECT 1 FROM chain_auth_nonces WHERE address = ? AND nonce = ?", (address, nonce)
        )
        return found is not None

    def use_nonce(self, t: Tx, address: str, nonce: int, ledger: int) -> None:
        """Record a consumed nonce."""
        t.execute(
            "INSERT INTO chain_auth_nonces (address, nonce, ledger) VALUES (?, ?, ?)",
            (address, nonce, ledger),
        )

    def read(
        self, contract: str, function: str, args: Sequence[Any] = (), *, tx: Tx | None = None
    ) -> Any:
        """Run a read-only function at the current ledger time."""
        with self._reading(tx) as t:
            ledger = self._ledger(t)
            storage = self._storage(t, ledger)
            host = self._host(storage, self._time(ledger), None)
            typed = host.typed_args(contract, function, args, view=True)
            result = host.call(contract, function, *typed)
        # What the view read, unset keys included, answers the next reads at this version
        # from memory: the history fill's collateral checks read a shopper's unset
        # ``user_bills`` from the database 1.4 times a bill, a round trip each.
        self._state.remember(str(ledger["state_version"]), storage.known())
        return result

    def events_after(
        self, cursor: int, *, limit: int = 100, tx: Tx | None = None
    ) -> list[ContractEvent]:
        """Events with a cursor above *cursor*, oldest first (cursors are 1, 2, 3, ...)."""
        if limit <= 0:
            return []
        with self._records(tx) as t:
            rows = t.fetchall(
                "SELECT event_id, ledger, tx_hash, contract, contract_id, topics, data, timestamp"
                " FROM chain_events WHERE event_id > ? ORDER BY event_id LIMIT ?",
                (cursor, limit),
            )
        return [
            ContractEvent(
                cursor=int(r["event_id"]),
                contract=r["contract"],
                contract_id=r["contract_id"],
                topics=tuple(loads(r["topics"])),
                data=loads(r["data"]),
                ledger=int(r["ledger"]),
                timestamp=int(r["timestamp"]),
                tx_hash=r["tx_hash"],
            )
            for r in rows
        ]

    def now(self, *, tx: Tx | None = None) -> int:
        """Ledger time: ``int(clock()) + offset``, never below the last ledger's time."""
        with self._reading(tx) as t:
            return self._time(self._ledger(t))

    def constants(self) -> ProtocolConstants:
        """The constants the local contracts were built with."""
        return self._constants

    def latest_ledger(self, *, tx: Tx | None = None) -> int:
        """The ``chain_ledger`` sequence: the last ledger a state-changing call closed."""
        with self._reading(tx) as t:
            return int(self._ledger(t)["sequence"])

    def describe(self) -> ChainInfo:
        """Gateway ``local``: the standalone network's passphrase, no RPC endpoint."""
        return self._info

    # --- internals --------------------------------------------------------------------
    @contextmanager
    def _atomic(self, tx: Tx | None) -> Iterator[Tx]:
        """All or nothing, for work that writes SQL of its own besides calls: a
        SAVEPOINT in the caller's transaction (the calls kept so far written first)."""
        if tx is None:
            with self._db.transaction(write=True) as own:
                yield own
            return
        held(tx)  # follows the savepoint: the calls kept so far are sent before it
        # One name for every call: a nested savepoint of the same name shadows the outer
        # one until released, and fixed statement text lets PostgreSQL prepare it.
        tx.savepoint("chain_call")
        try:
            yield tx
        except BaseException:
            tx.rollback_to("chain_call")
            tx.release("chain_call", now=True)
            raise
        tx.release("chain_call")

    @contextmanager
    def _calls(self, tx: Tx | None) -> Iterator[Tx]:
        """All or nothing, for calls alone (they write nothing before the COMMIT, see
        _ledger_hold): what they kept is undone in memory if one fails, no SAVEPOINT."""
        if tx is None:
            with self._db.transaction(write=True) as own:
                yield own
            return
        hold = held(tx)
        mark = hold.mark()
        try:
            yield tx
        except BaseException:
            hold.restore(mark)
            raise
        finally:
            hold.unmark()

    @contextmanager
    def _records(self, tx: Tx | None) -> Iterator[Tx]:
        """:meth:`_reading` for reads of the event and transaction tables: the calls
        *tx* kept are written first, so the reads see them."""
        with self._reading(tx) as t:
            held(t).flush(t)
            yield t

    @contextmanager
    def _reading(self, tx: Tx | None) -> Iterator[Tx]:
        if tx is not None:
            yield tx
            return
        with self._db.transaction(write=False) as own:
            yield own

    def _ledger(self, t: Tx, *, lock: bool = False) -> Row:
        """The ledger row; with *lock*, locked until *t* ends. Once *t* holds the lock
        the row is read from memory (see _ledger_hold)."""
        hold = held(t)
        if hold.row is not None:
            return hold.row
        row = t.fetchone(
            f"SELECT {COLUMNS} FROM chain_ledger WHERE id = 1" + (t.for_update if lock else "")
        )
        if row is None:
            raise RuntimeError("chain_ledger is empty: the chain migrations did not run")
        if lock:
            hold.row = row
        return row

    def _storage(self, t: Tx, ledger: Row) -> Storage:
        """Contract storage as of *ledger*'s state version (read from memory where known)."""
        return Storage(t, self._state, str(ledger["state_version"]))

    def _time(self, ledger: Row) -> int:
        t = max(int(self._clock()) + int(ledger["clock_offset"]), int(ledger["last_time"]))
        with self._time_lock:
            self._high_water = t = max(t, self._high_water)
        return t

    def _host(self, storage: Storage, timestamp: int, signer: str | None) -> Host:
        return Host(storage, self._contracts, self._ids, self._constants, timestamp, signer)

    def _execute(
        self, t: Tx, contract: str, function: str, args: Sequence[Any], signer: Keypair
    ) -> TxRecord:
        address = address_of(signer)

        def make_host(storage: Storage, timestamp: int) -> Host:
            return self._host(storage, timestamp, address)

        record, _ = self._apply(t, contract, function, args, make_host, address)
        return record

    def _apply(
        self,
        t: Tx,
        contract: str,
        function: str,
        args: Sequence[Any],
        make_host: Callable[[Storage, int], H],
        signer: str,
        *,
        digest: str | None = None,
        check: Callable[[H], None] | None = None,
    ) -> tuple[TxRecord, H]:
        """Run one call as a new ledger on *t* (which holds the ledger lock's transaction).

        *make_host* builds the host the contract runs on (the RPC ledger's records its
        auth trees and footprint); *digest* is the transaction hash to record (the
        envelope's, for a Stellar transaction; else one derived from the call); *check*
        may refuse the call after it ran, before anything is written.
        """
        ledger = self._ledger(t, lock=True)
        timestamp = self._time(ledger)
        sequence = int(ledger["sequence"]) + 1
        storage = self._storage(t, ledger)
        host = make_host(storage, timestamp)
        typed = host.typed_args(contract, function, args, view=False)
        result = host.call(contract, function, *typed)
        if check is not None:
            check(host)
        # The contract accepted the call: only now is anything kept to be written.
        if digest is None:
            digest = tx_hash(self._ids[contract], function, typed, signer, sequence)
        event_id = int(ledger["event_id"])
        events: list[ContractEvent] = []
        for pending in host.events:
            event_id += 1
            events.append(
                ContractEvent(
                    cursor=event_id,
                    contract=pending.contract,
                    contract_id=self._ids[pending.contract],
                    topics=tuple(pending.topics),
                    data=pending.data,
                    ledger=sequence,
                    timestamp=timestamp,
                    tx_hash=digest,
                )
            )
        version = new_version()
        held(t).record(
            storage.written(),
            [_event_row(e) for e in events],
            (sequence, digest, contract, function, dumps(typed), signer, timestamp, dumps(result)),
            sequence=sequence,
            event_id=event_id,
            last_time=timestamp,
            state_version=version,
        )
        # Before the commit: should it roll back, the row keeps the old version, which
        # the cache then no longer matches (see _state_cache).
        self._state.publish(str(ledger["state_version"]), version, storage.known())
        return TxRecord(digest, sequence, timestamp, result, tuple(events)), host


def _event_row(e: ContractEvent) -> tuple[Any, ...]:
    """A ``chain_events`` row."""
    return (
        e.cursor,
        e.ledger,
        e.tx_hash,
        e.contract,
        e.contract_id,
        dumps(list(e.topics)),
        dumps(e.data),
        e.timestamp,
    )
