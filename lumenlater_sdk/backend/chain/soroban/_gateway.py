"""SorobanGateway: the contracts on a Soroban network, through its JSON-RPC endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from stellar_sdk import (
    Account,
    Address,
    InvokeHostFunction,
    Keypair,
    TransactionBuilder,
    TransactionEnvelope,
    xdr,
)
from stellar_sdk.auth import authorize_entry
from stellar_sdk.exceptions import AccountNotFoundException
from stellar_sdk.soroban_rpc import (
    GetTransactionStatus,
    SendTransactionStatus,
)

from ...db import Database, Tx
from .._constants import ProtocolConstants
from .._gateway import (
    AUTH_FAILED,
    INVALID_INPUT,
    ChainGateway,
    ChainInfo,
    ChainUnavailableError,
    ContractError,
    ContractEvent,
    TxRecord,
)
from .._transactions import (
    ENVELOPE_DUPLICATE,
    EnvelopeRefusedError,
    PreparedTransaction,
    check_signed,
    prepared,
)
from ._authorization import AuthorizationError, decode_entry
from ._codec import decode_result, encode_args
from ._events import EventFeed
from ._failures import (
    ChainOutcomeUnknownError,
    result_code,
    simulation_refusal,
    submission_refusal,
)
from ._journal import SENT, Journal, Submission
from ._rpc import Rpc, return_value

__all__ = ["OPERATION_WINDOW", "SorobanGateway"]


_AUTH_LEDGERS = 100  # how long a signed auth entry stays valid (ledgers)

OPERATION_WINDOW = 24 * 3600
"""How long an operation name finds its transaction: as long as an Idempotency-Key lasts."""


class SorobanGateway(ChainGateway):
    """The three contracts at *contracts* on the network behind *rpc_url*.

    *source* pays the fees and signs every envelope; the *signer* of each call signs
    only its own auth entries. Submissions from *source* are serialised (one lock
    and a cached sequence number), each recorded in *db* before it is sent; see
    :class:`~._journal.Journal`. Reads are simulations; events come from
    ``getEvents`` with local cursors. Constants are read once, here, and in-flight
    submissions of an earlier run are reconciled (:meth:`reconcile`).
    """

    def __init__(
        self,
        *,
        rpc_url: str,
        network_passphrase: str,
        contracts: Mapping[str, str],
        source: Keypair,
        db: Database,
        poll_timeout: float = 30.0,
        poll_interval: float = 0.5,
        send_attempts: int = 5,
        tx_timeout: int = 300,
        rpc_timeout: float = 10.0,
    ) -> None:
        self._info = ChainInfo("soroban", network_passphrase, rpc_url, contracts)
        self._ids = dict(self._info.contracts)
        self._names = {cid: name for name, cid in self._ids.items()}
        self._source = source
        self._rpc = Rpc(rpc_url, timeout=rpc_timeout)
        self._server = self._rpc.server
        self._journal = Journal(db)
        self._feed = EventFeed(
            self._journal, self._rpc, self._ids, lambda: self._latest_ledger(fresh=True)[0]
        )
        self.poll_timeout, self._poll_interval = poll_timeout, poll_interval
        self._send_attempts, self._tx_timeout = send_attempts, tx_timeout
        self._submit_lock = threading.Lock()
        self._sequence: int | None = None  # the source's last used sequence number
        self._latest: tuple[float, int, int] | None = None  # (fetched at, sequence, close)
        network = self._rpc.call("getNetwork", self._server.get_network)
        if network.passphrase != network_passphrase:
            raise ValueError(
                f"the RPC at {rpc_url} serves {network.passphrase!r}, not {network_passphrase!r}"
            )
        constants = self.read("bnpl_core", "get_protocol_constants")
        self._constants = ProtocolConstants.from_contract_map(constants)
        self.reconcile()
        self.sync_events()  # the first run fixes where event paging starts

    # --- ChainGateway -------------------------------------------------------------------
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
        """Simulate, sign, send once, wait: the call's record, or ContractError.

        *tx* is not used: a chain call cannot join the caller's database transaction.
        A call with an *operation* that this gateway sent in the last
        :data:`OPERATION_WINDOW` seconds and that applied, or whose outcome is still
        unknown, is not sent again: its record is returned (or, still unknown,
        :class:`ChainOutcomeUnknownError` again). So a request retried after a 503 gets
        the transaction its first attempt sent; one that failed or expired is sent anew.
        """
        host_fn = self._encode(contract, function, args)
        prior = self._prior(operation)
        if prior is not None:
            return self._outcome(prior)
        with self._submit_lock:
            submission = self._send(contract, function, host_fn, signer, operation)
        return self._outcome(submission)

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
        """Send the call with the signed entry as its authorization: the RPC simulates it
        in enforcing mode and the network checks the entry (signature, nonce,
        expiration). The source account only pays and signs the envelope."""
        host_fn = self._encode(contract, function, args)
        try:
            entry = decode_entry(entry_xdr)
        except AuthorizationError as exc:
            raise ContractError(contract, 0, AUTH_FAILED, str(exc)) from None
        prior = self._prior(operation)
        if prior is not None:
            return self._outcome(prior)
        with self._submit_lock:
            submission = self._send(contract, function, host_fn, [entry], operation)
        return self._outcome(submission)

    def prepare_transaction(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        source: str,
        tx: Tx | None = None,
    ) -> PreparedTransaction:
        """Load *source*'s sequence number (``getLedgerEntries``), build the call with it,
        simulate and assemble it (``prepareTransaction``): valid for ``tx_timeout``
        seconds after the latest ledger's close time. Nothing is sent."""
        host_fn = self._encode(contract, function, args)
        account = self._rpc.call("getLedgerEntries", self._load_account, source)
        if account is None:
            raise EnvelopeRefusedError(contract, "txNO_ACCOUNT", f"{source} has no account")
        _, close = self._latest_ledger(fresh=True)
        max_time = close + self._tx_timeout
        envelope = self._build(account, contract, function, host_fn, max_time)
        sim = self._rpc.call("simulateTransaction", self._server.simulate_transaction, envelope)
        if sim.error:
            raise simulation_refusal(contract, sim.error)
        envelope = self._rpc.call(
            "prepareTransaction", self._server.prepare_transaction, envelope, sim
        )
        return prepared(envelope, contract=contract, function=function, max_time=max_time)

    def submit_transaction(
        self,
        signed_xdr: str,
        *,
        expected: PreparedTransaction | None = None,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        """Check the envelope, record it in the journal, ``sendTransaction`` it and wait
        for its outcome, as :meth:`invoke` does (*tx* is not used; *operation* finds the
        earlier submission of a retried request). An envelope this gateway submitted
        already is refused (:data:`~.._transactions.ENVELOPE_DUPLICATE`) unless it comes
        with the *operation* it was first submitted with; one the network refused
        (``sendTransaction`` ERROR) or that expired may be submitted again."""
        call, contract = check_signed(
            signed_xdr,
            network_passphrase=self._info.network_passphrase,
            contracts=self._names,
            expected=expected,
        )
        prior = self._prior(operation)
        if prior is not None:
            return self._outcome(prior)
        envelope = call.envelope
        tx_hash = envelope.hash_hex()
        known = self._journal.submission(tx_hash)
        if known is not None and known.status not in ("refused", "expired"):
            raise EnvelopeRefusedError(
                contract, ENVELOPE_DUPLICATE, f"transaction {tx_hash} was submitted already"
            )
        bounds = envelope.transaction.preconditions
        time_bounds = bounds.time_bounds if bounds is not None else None
        max_time = time_bounds.max_time if time_bounds is not None else 0
        submission = Submission(
            tx_hash,
            contract,
            call.function,
            envelope.to_xdr(),
            max_time or 2**62,
            SENT,
            operation,
        )
        self._journal.record_sent(submission, again=known is not None)
        self._deliver(submission, envelope, signed_elsewhere=True)
        return self._outcome(submission)

    def read(
        self, contract: str, function: str, args: Sequence[Any] = (), *, tx: Tx | None = None
    ) -> Any:
        """Simulate a read-only call and decode ``results[0].xdr``."""
        host_fn = self._encode(contract, function, args)
        envelope = self._build(Account(self._source.public_key, 0), contract, function, host_fn, 0)
        sim = self._rpc.call("simulateTransaction", self._server.simulate_transaction, envelope)
        if sim.error:
            raise simulation_refusal(contract, sim.error)
        if not sim.results:
            raise ChainUnavailableError(f"simulating {contract}.{function} returned no result")
        value = xdr.SCVal.from_xdr(sim.results[0].xdr)
        return decode_result(contract, function, value)

    def events_after(
        self, cursor: int, *, limit: int = 100, tx: Tx | None = None
    ) -> list[ContractEvent]:
        """Catch up with ``getEvents``, then the stored events after *cursor*."""
        if limit <= 0:
            return []
        self.sync_events()
        return [self._feed.event(e) for e in self._journal.events_after(cursor, limit)]

    def forget_events(self, through: int, *, limit: int) -> int:
        """Delete journalled events up to cursor *through* (never the newest: the next
        cursor follows it). ``getEvents`` pages on from its saved cursor, so it never
        hands back an event this old, which the journal would then number anew."""
        return self._journal.forget_events(through, limit)

    def now(self, *, tx: Tx | None = None) -> int:
        """The latest ledger's close time (cached for a second)."""
        return self._latest_ledger()[1]

    def latest_ledger(self, *, tx: Tx | None = None) -> int:
        """The latest ledger's sequence, asked of the RPC (``GET /v1/chain`` shows it)."""
        return self._latest_ledger(fresh=True)[0]

    def refresh(self) -> None:
        """Forget the cached latest ledger: the next :meth:`now` asks the RPC (after a
        development chain's clock was moved)."""
        self._latest = None

    def describe(self) -> ChainInfo:
        """Gateway ``soroban``: the configured passphrase, RPC URL and contract ids."""
        return self._info

    def constants(self) -> ProtocolConstants:
        """``bnpl_core.get_protocol_constants()`` as read when the gateway started."""
        return self._constants

    # --- reconciliation and events -------------------------------------------------------
    def reconcile(self) -> dict[str, str]:
        """Settle every submission still ``sent``, by hash: SUCCESS → applied, FAILED →
        failed, NOT_FOUND once the latest ledger closed after its time bounds → expired
        (it can never apply); else it stays ``sent``. Returns ``{hash: status}``."""
        return {s.hash: self._settle(s) for s in self._journal.submissions(status=SENT)}

    def submissions(self) -> list[Submission]:
        """Every transaction this gateway sent (its journal), oldest first."""
        return self._journal.submissions()

    def sync_events(self) -> int:
        """Read new contract events of the three contracts into the journal; how many."""
        return self._feed.sync()

    # --- internals ------------------------------------------------------------------------
    def _encode(self, contract: str, function: str, args: Sequence[Any]) -> list[xdr.SCVal]:
        self.contract_id(contract)
        try:
            return encode_args(contract, function, list(args))
        except (TypeError, ValueError) as exc:  # as the host refuses ill-typed arguments
            raise ContractError(contract, 0, INVALID_INPUT, f"Invalid input: {exc}") from exc

    def _build(
        self,
        account: Account,
        contract: str,
        function: str,
        args: list[xdr.SCVal],
        max_time: int,
        auth: list[xdr.SorobanAuthorizationEntry] = [],  # noqa: B006 (read, never changed)
    ) -> Any:
        builder = TransactionBuilder(account, self._info.network_passphrase, base_fee=100)
        builder.append_invoke_contract_function_op(
            self._ids[contract], function, args, auth=list(auth)
        )
        return builder.add_time_bounds(0, max_time).build()

    def _prior(self, operation: str | None) -> Submission | None:
        """The submission already made for *operation* whose outcome is (or may become)
        success: applied, or sent and not yet settled."""
        if operation is None:
            return None
        since = self._latest_ledger()[1] - OPERATION_WINDOW
        prior = self._journal.last_of(operation, since=since)
        if prior is not None and self._settle(prior) in (SENT, "applied"):
            return prior
        return None

    def _send(
        self,
        contract: str,
        function: str,
        args: list[xdr.SCVal],
        signer: Keypair | list[xdr.SorobanAuthorizationEntry],
        operation: str | None,
    ) -> Submission:
        """Build, simulate, sign, record and send one transaction (under the submit lock).

        *signer* signs the call's address entries here, or *signer* is the entries,
        signed already (sent with the transaction, so the simulation enforces them)."""
        if self._sequence is None:
            account = self._rpc.call(
                "getLedgerEntries", self._server.load_account, self._source.public_key
            )
            self._sequence = account.sequence
        sequence, close = self._latest_ledger(fresh=True)
        max_time = close + self._tx_timeout
        account = Account(self._source.public_key, self._sequence)
        signed = signer if isinstance(signer, list) else None
        envelope = self._build(account, contract, function, args, max_time, signed or [])
        sim = self._rpc.call("simulateTransaction", self._server.simulate_transaction, envelope)
        if sim.error:
            raise simulation_refusal(contract, sim.error)
        envelope = self._rpc.call(
            "prepareTransaction", self._server.prepare_transaction, envelope, sim
        )
        op = envelope.transaction.operations[0]
        assert isinstance(op, InvokeHostFunction)
        if isinstance(signer, Keypair):
            op.auth = [self._authorize(contract, e, signer, sequence) for e in op.auth]
        envelope.sign(self._source)
        submission = Submission(
            envelope.hash_hex(), contract, function, envelope.to_xdr(), max_time, SENT, operation
        )
        self._journal.record_sent(submission)
        try:
            self._deliver(submission, envelope, signed_elsewhere=False)
        except BaseException:
            # Not accepted, or perhaps accepted: the next call reloads the sequence.
            self._sequence = None
            raise
        self._sequence += 1
        return submission

    def _deliver(
        self, submission: Submission, envelope: TransactionEnvelope, *, signed_elsewhere: bool
    ) -> None:
        """``sendTransaction`` a recorded envelope until the node takes it (``PENDING`` or
        ``DUPLICATE``), retrying ``TRY_AGAIN_LATER``. No answer: the outcome is unknown
        (:class:`ChainOutcomeUnknownError`, never rebuilt). ``ERROR``: settled
        ``refused``, and raised as the call's refusal, or for a transaction-level one
        (bad sequence, fee...) :class:`EnvelopeRefusedError` when *signed_elsewhere*
        (the signer's envelope is at fault), else :class:`ChainUnavailableError`."""
        contract, function = submission.contract, submission.function
        for attempt in range(self._send_attempts):
            try:
                sent = self._rpc.call("sendTransaction", self._server.send_transaction, envelope)
            except ChainUnavailableError as exc:
                # It may have arrived: never rebuild it, let the poll or reconcile say.
                raise ChainOutcomeUnknownError(submission.hash, str(exc)) from exc
            if sent.status != SendTransactionStatus.TRY_AGAIN_LATER:
                break
            time.sleep(min(0.25 * 2**attempt, 4.0))
        if sent.status in (SendTransactionStatus.PENDING, SendTransactionStatus.DUPLICATE):
            return
        # ERROR, or TRY_AGAIN_LATER every time: not accepted, the sequence is not used.
        code = result_code(sent.error_result_xdr)
        self._journal.settle(submission.hash, "refused", detail=f"{sent.status.value} {code}")
        refusal = submission_refusal(contract, sent.error_result_xdr)
        if refusal is not None:
            raise refusal
        if signed_elsewhere and sent.status == SendTransactionStatus.ERROR:
            raise EnvelopeRefusedError(
                contract, code, f"the network refused transaction {submission.hash}: {code}"
            )
        raise ChainUnavailableError(
            f"sendTransaction refused {contract}.{function}: {sent.status.value} ({code})"
        )

    def _load_account(self, address: str) -> Account | None:
        """*address*'s account (its sequence number), or ``None`` if it has none."""
        try:
            return self._server.load_account(address)
        except AccountNotFoundException:
            return None

    def _authorize(
        self, contract: str, entry: xdr.SorobanAuthorizationEntry, signer: Keypair, latest: int
    ) -> xdr.SorobanAuthorizationEntry:
        creds = entry.credentials
        if creds.type == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT:
            return entry  # the source's envelope signature covers it
        if creds.address is None:
            raise ContractError(contract, 0, AUTH_FAILED, f"unknown credentials {creds.type}")
        account = Address.from_xdr_sc_address(creds.address.address).address
        if account != signer.public_key:
            raise ContractError(
                contract, 0, AUTH_FAILED, f"Error(Auth, InvalidAction): {account} did not authorise"
            )
        passphrase = self._info.network_passphrase
        return authorize_entry(entry, signer, latest + _AUTH_LEDGERS, passphrase)

    def _outcome(self, s: Submission) -> TxRecord:
        """Poll until SUCCESS or FAILED, at most ``poll_timeout``; then reconcile once."""
        deadline = time.monotonic() + self.poll_timeout
        got = None
        while time.monotonic() < deadline:
            try:
                got = self._server.get_transaction(s.hash)
            except Exception:  # the endpoint may come back before the deadline
                got = None
            if got is not None and got.status != GetTransactionStatus.NOT_FOUND:
                break
            time.sleep(self._poll_interval)
        if got is None or got.status == GetTransactionStatus.NOT_FOUND:
            try:
                got = self._server.get_transaction(s.hash)
            except Exception as exc:
                raise ChainOutcomeUnknownError(s.hash, f"{s.hash}: {exc}") from exc
        if got.status == GetTransactionStatus.NOT_FOUND:
            raise ChainOutcomeUnknownError(
                s.hash, f"transaction {s.hash} not applied within {self.poll_timeout}s"
            )
        ledger = int(got.ledger or 0)
        if got.status == GetTransactionStatus.FAILED:
            self._journal.settle(
                s.hash, "failed", detail=result_code(got.result_xdr), ledger=ledger
            )
            refusal = submission_refusal(s.contract, got.result_xdr)
            raise refusal or ContractError(s.contract, 0, "txFAILED", "transaction failed")
        self._journal.settle(s.hash, "applied", ledger=ledger)
        result = decode_result(s.contract, s.function, return_value(got.result_meta_xdr))
        per_op = (got.events.contract_events_xdr if got.events else None) or []
        expected = sum(len(op) for op in per_op)
        events = self._feed.events_of(s.hash, expected, self._poll_interval)
        timestamp = int(got.create_at or 0)
        self._saw_ledger(ledger, timestamp)
        return TxRecord(s.hash, ledger, timestamp, result, tuple(events))

    def _saw_ledger(self, sequence: int, close_time: int) -> None:
        """A ledger this gateway's own transaction closed in: :meth:`now` is never earlier
        (else a read just after the call could place the call in the future)."""
        cached = self._latest
        if cached is None or (cached[1], cached[2]) < (sequence, close_time):
            self._latest = (time.monotonic(), sequence, close_time)

    def _latest_ledger(self, *, fresh: bool = False) -> tuple[int, int]:
        cached = self._latest
        if fresh or cached is None or time.monotonic() - cached[0] > 1.0:
            got = self._rpc.call("getLatestLedger", self._server.get_latest_ledger)
            cached = self._latest = (time.monotonic(), int(got.sequence), int(got.close_time))
        return cached[1], cached[2]

    def _settle(self, s: Submission) -> str:
        """Settle *s* by hash if it is still ``sent`` (see :meth:`reconcile`); its status."""
        if s.status != SENT:
            return s.status
        got = self._rpc.call("getTransaction", self._server.get_transaction, s.hash)
        if got.status == GetTransactionStatus.SUCCESS:
            self._journal.settle(s.hash, "applied", ledger=int(got.ledger or 0))
            return "applied"
        if got.status == GetTransactionStatus.FAILED:
            code = result_code(got.result_xdr)
            self._journal.settle(s.hash, "failed", detail=code, ledger=int(got.ledger or 0))
            return "failed"
        if int(got.latest_ledger_close_time) > s.max_time:
            self._journal.settle(s.hash, "expired", detail="past its time bounds")
            return "expired"
        return SENT
