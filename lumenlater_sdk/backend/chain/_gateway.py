"""The chain gateway: the only way the backend moves money.

It is expressed in the contracts' own terms (PROTOCOL.md): invoke a contract
function as an authorising account, read state, read contract events after a
cursor, the ledger time and sequence, the protocol constants, and which network and
contracts the gateway is on (:class:`ChainInfo`). That is all a real chain offers;
the powers only a sandbox ledger has (moving its clock, funding wallets, approving
merchants as the admin) are :class:`~._sandbox.SandboxControls`. The
``local`` gateway runs the contracts in-process on a deterministic ledger stored
in the backend's database and implements both; a ``soroban`` gateway relays the
same calls to a Soroban RPC endpoint.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from stellar_sdk import Keypair

from ..db import Tx
from ._constants import ProtocolConstants

if TYPE_CHECKING:
    from ._transactions import PreparedTransaction

CONTRACTS = ("bnpl_core", "lp_token", "usdc")
"""Logical contract names; :meth:`ChainGateway.contract_id` maps them to ``C…`` ids."""


@dataclass(frozen=True)
class ChainInfo:
    """Which chain a gateway is on, as :meth:`ChainGateway.describe` reports it.

    ``gateway_name`` names the implementation (``local``, ``soroban``);
    ``network_passphrase`` is the network's passphrase (transactions are signed for
    it); ``rpc_url`` is the Soroban RPC endpoint the gateway talks to, ``None`` for a
    ledger running in-process; ``contracts`` maps each of :data:`CONTRACTS` (exactly
    those, in that order) to its ``C…`` id, read-only.
    """

    gateway_name: str
    network_passphrase: str
    rpc_url: str | None
    contracts: Mapping[str, str]

    def __post_init__(self) -> None:
        if set(self.contracts) != set(CONTRACTS):
            raise ValueError(f"contracts must name exactly {', '.join(CONTRACTS)}")
        ordered = {name: self.contracts[name] for name in CONTRACTS}
        object.__setattr__(self, "contracts", MappingProxyType(ordered))


@dataclass(frozen=True)
class ContractEvent:
    """One event a contract emitted. ``cursor`` increases strictly across all events."""

    cursor: int
    contract: str
    contract_id: str
    topics: tuple[Any, ...]
    data: Any
    ledger: int
    timestamp: int
    tx_hash: str

    @property
    def name(self) -> str:
        """The first topic: the event's name (``bill_new``, ``payment``, ...)."""
        return str(self.topics[0])


@dataclass(frozen=True)
class TxRecord:
    """The outcome of a state-changing call."""

    hash: str
    ledger: int
    timestamp: int
    result: Any
    events: tuple[ContractEvent, ...] = field(default=())
    fresh: bool = False
    """Its events were made in the transaction the caller passed (``tx=``), still open:
    nobody else can have applied them yet."""


TRAPPED = "WasmVm.InvalidAction"
"""``ContractError.name`` of a trap: every panic, assertion or missing-storage unwrap."""
AUTH_FAILED = "Auth.InvalidAction"
"""``ContractError.name`` of a failed ``require_auth``."""
INVALID_INPUT = "Value.UnexpectedType"
"""``ContractError.name`` when the host refuses the arguments before the contract runs."""


class ContractError(Exception):
    """The chain refused the call, as a real network reports it (SOROBAN.md §3).

    ``code`` is the contract's error number for a typed ``Error(Contract, code)``
    (then ``name`` is the variant, e.g. ``MerchantAlreadyEnrolled``) and 0 for a
    host error, whose ``name`` is its type and code (:data:`TRAPPED`,
    :data:`AUTH_FAILED`, :data:`INVALID_INPUT`). ``message`` is for logs only: on a
    real network a trap carries no reason, so the services decide their API error
    codes from chain state read before the call, never from this.
    """

    def __init__(self, contract: str, code: int, name: str, message: str) -> None:
        super().__init__(message)
        self.contract = contract
        self.code = code
        self.name = name
        self.message = message

    @property
    def trapped(self) -> bool:
        """Whether the contract trapped (``Error(WasmVm, InvalidAction)``)."""
        return self.name == TRAPPED

    def __repr__(self) -> str:
        return f"ContractError({self.contract!r}, {self.code}, {self.name!r}, {self.message!r})"


class ChainUnavailableError(Exception):
    """The chain could not be reached or did not answer; nothing was changed."""


class ChainGateway(abc.ABC):
    """What the services need from a chain, and what every chain offers."""

    def contract_id(self, contract: str) -> str:
        """The ``C…`` id of a logical contract (``bnpl_core``, ``lp_token``, ``usdc``),
        from :meth:`describe`; ``ValueError`` for any other name."""
        try:
            return self.describe().contracts[contract]
        except KeyError:
            raise ValueError(f"unknown contract {contract!r}") from None

    @abc.abstractmethod
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
        """Call a state-changing function authorised by *signer*.

        Raises :class:`ContractError` on a refusal (nothing changes) and
        :class:`ChainUnavailableError` when the chain cannot be reached. The local
        gateway writes its state through *tx* when given, so the caller's own rows
        commit or roll back together with the ledger. *operation* names what the call
        does for its caller (a request's idempotency key, say): a gateway whose calls
        can outlive the caller's transaction returns the earlier call's record for the
        same operation instead of calling again.
        """

    @abc.abstractmethod
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
        """Call a state-changing function whose authorising address signed *entry_xdr*
        (a base64 ``SorobanAuthorizationEntry``) itself: the backend holds no key for it.

        The entry must authorise exactly this call, with a valid signature, an unused
        nonce and an expiration ledger not passed, as the network checks it; else
        :class:`ContractError` with name :data:`AUTH_FAILED`. *tx* and *operation* as
        for :meth:`invoke`.
        """

    @abc.abstractmethod
    def prepare_transaction(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        source: str,
        tx: Tx | None = None,
    ) -> PreparedTransaction:
        """The unsigned transaction that makes the call with the account *source* as its
        source, for *source* to sign in its own wallet (the backend holds no key for it).

        Built with the source's next sequence number, simulated and assembled
        (footprint, resource fee, the call's auth entries with ``SOURCE_ACCOUNT``
        credentials: the envelope's signature covers them), valid for a few minutes
        (``max_time``). A refusal in simulation raises :class:`ContractError` as
        :meth:`invoke` does; a call that needs another account's authorization than
        *source*'s is ``Auth.InvalidAction``; a source that is no account on the chain
        is :class:`~._transactions.EnvelopeRefusedError` ``txNO_ACCOUNT``. Nothing is
        written.
        """

    @abc.abstractmethod
    def submit_transaction(
        self,
        signed_xdr: str,
        *,
        expected: PreparedTransaction | None = None,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        """Submit an envelope its source signed (base64 ``TransactionEnvelope``): the
        call's record, with its result and events, as :meth:`invoke` returns it.

        Refused before anything is sent, with
        :class:`~._transactions.EnvelopeRefusedError`: an envelope that is not one call
        of this chain's contracts, not *expected* when given (another transaction hash:
        the hash covers everything but the signatures), not signed by its source alone,
        or submitted already (a replay); the network refuses it the same way for a bad
        sequence number, fee or time bounds (``name`` the result code). A call that
        fails when it is applied (the sequence and fee are spent then) is
        :class:`ContractError`. *tx* and *operation* as for :meth:`invoke`: the same
        *operation* again returns the first submission's record instead of refusing it
        as a replay (and on a chain whose outcome may be unknown, waits for that one).
        """

    @abc.abstractmethod
    def read(
        self, contract: str, function: str, args: Sequence[Any] = (), *, tx: Tx | None = None
    ) -> Any:
        """Call a read-only function."""

    @abc.abstractmethod
    def events_after(
        self, cursor: int, *, limit: int = 100, tx: Tx | None = None
    ) -> list[ContractEvent]:
        """Contract events with ``cursor`` greater than *cursor*, oldest first."""

    def forget_events(self, through: int, *, limit: int) -> int:
        """Forget up to *limit* contract events with ``cursor`` at most *through*, which
        the caller will never ask :meth:`events_after` for again; how many went. A
        gateway whose events are the chain's own history (the local ledger) keeps them."""
        return 0

    @abc.abstractmethod
    def now(self, *, tx: Tx | None = None) -> int:
        """The ledger's current time (Unix seconds)."""

    @abc.abstractmethod
    def latest_ledger(self, *, tx: Tx | None = None) -> int:
        """The sequence number of the latest closed ledger (each accepted state-changing
        call closes at least one more)."""

    @abc.abstractmethod
    def describe(self) -> ChainInfo:
        """Which chain this is: gateway name, network passphrase, RPC endpoint, contract ids.

        Fixed for the gateway's life, like :meth:`constants`.
        """

    @abc.abstractmethod
    def constants(self) -> ProtocolConstants:
        """The protocol constants the contracts run with (fee rate, APR, grace...).

        Fixed for the gateway's life: a gateway on a real chain reads bnpl_core's
        ``get_protocol_constants`` once when it starts, the local one was given them.
        """
