"""Every chain call goes through here: refusals become service errors, calls are counted.

Services reach the chain only through :class:`ChainRelay` (``ctx.chain``), never the
gateway behind it; the sandbox-only powers are ``ctx.sandbox``.

This is the one place a :class:`ContractError` becomes a service error. A typed
``Error(Contract, n)`` keeps its meaning (:data:`TYPED_REFUSALS`); a failed
authorisation is ``unauthorized``; every trap is ``contract_trapped`` (400, kind
``chain_refused``, like every chain refusal), because on a real network a trap says
nothing about why. The reasons an API caller sees (``bill_expired``,
``insufficient_collateral``...) are decided before the call from chain state
(``services/preconditions.py``); a trap that still happens means the state changed
in between.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from stellar_sdk import Keypair

from ..chain import (
    AUTH_FAILED,
    ENVELOPE_DUPLICATE,
    ENVELOPE_NOT_PREPARED,
    INVALID_INPUT,
    ChainGateway,
    ChainInfo,
    ChainUnavailableError,
    ContractError,
    ContractEvent,
    EnvelopeRefusedError,
    PreparedTransaction,
    ProtocolConstants,
    TxRecord,
)
from ..chain.soroban import (
    AuthorizationRequest,
    check_signed_entry,
    contract_invocation,
    decode_entry,
    request_authorization,
)
from ..db import Tx
from .errors import ChainRefused, ChainUnavailable

__all__ = [
    "ENVELOPE_REFUSALS",
    "TRAPPED_CODE",
    "TYPED_REFUSALS",
    "ChainObserver",
    "ChainRelay",
    "refusal",
]

TYPED_REFUSALS = {
    11: "not_admin",
    110: "merchant_already_enrolled",
    111: "merchant_not_found",
}
"""The typed errors bnpl_core returns (SOROBAN.md §3), by code, as API error codes."""

TRAPPED_CODE = "contract_trapped"
"""The API code of a refusal the chain gives no reason for (``Error(WasmVm, InvalidAction)``)."""


ENVELOPE_REFUSALS = {
    ENVELOPE_NOT_PREPARED: "transaction_mismatch",
    ENVELOPE_DUPLICATE: "transaction_duplicate",
    "txBAD_AUTH": "invalid_signature",
    "txBAD_AUTH_EXTRA": "invalid_signature",
    "txBAD_SEQ": "transaction_stale",
    "txTOO_LATE": "transaction_expired",
    "txTOO_EARLY": "transaction_refused",
    "txNO_ACCOUNT": "account_not_found",
}
"""API codes of a signed envelope refused before it ran (``EnvelopeRefusedError.name``);
any other name is ``transaction_refused``."""


def refusal(exc: ContractError, function: str) -> ChainRefused:
    """The service error for a refused call: decided by the code and kind only, never by
    the message (a real network does not deliver a trap's message)."""
    if isinstance(exc, EnvelopeRefusedError):
        code = ENVELOPE_REFUSALS.get(exc.name, "transaction_refused")
        return ChainRefused(f"{function}: {exc.message}.", code=code)
    if exc.code:
        code = TYPED_REFUSALS.get(exc.code, "contract_error")
        return ChainRefused(exc.message, code=code)
    if exc.name == AUTH_FAILED:
        return ChainRefused(
            f"{function}: the signer did not authorise the call.", code="unauthorized"
        )
    if exc.name == INVALID_INPUT:
        return ChainRefused(f"{function}: the chain refused the arguments.", code="invalid_input")
    return ChainRefused(
        f"The {exc.contract} contract refused {function} (it trapped); "
        "the state it depends on changed since it was read. Retrieve the object and retry.",
        code=TRAPPED_CODE,
    )


ChainObserver = Callable[[str, str], None]
"""Called with (function, outcome) after each call; outcome is ok|refused|unavailable."""

T = TypeVar("T")


class ChainRelay:
    """A :class:`ChainGateway` seen from the services.

    The gateway's protocol constants and its description (:class:`ChainInfo`) are
    read once, here, when the backend starts.
    """

    def __init__(self, gateway: ChainGateway, observer: ChainObserver | None = None) -> None:
        self._gateway = gateway
        self._observe = observer or (lambda function, outcome: None)
        self._constants = gateway.constants()
        self._info = gateway.describe()

    @property
    def constants(self) -> ProtocolConstants:
        """The chain's protocol constants (fee rate, APR, grace period...)."""
        return self._constants

    def _run(self, function: str, call: Callable[[], T]) -> T:
        try:
            result = call()
        except ContractError as exc:
            self._observe(function, "refused")
            raise refusal(exc, function) from exc
        except ChainUnavailableError as exc:
            self._observe(function, "unavailable")
            raise _unavailable(exc) from exc
        self._observe(function, "ok")
        return result

    def invoke(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        signer: Keypair,
        tx: Tx,
        operation: str | None = None,
    ) -> TxRecord:
        """Relay a state-changing call inside the caller's transaction (see
        :meth:`ChainGateway.invoke` for *operation*)."""
        return self._run(
            function,
            lambda: self._gateway.invoke(
                contract, function, args, signer=signer, tx=tx, operation=operation
            ),
        )

    def request_authorization(
        self, contract: str, function: str, args: Sequence[Any], *, address: str, tx: Tx
    ) -> AuthorizationRequest:
        """The unsigned entry *address* must sign for ``contract.function(*args)``."""
        contract_id = self._gateway.contract_id(contract)
        return request_authorization(
            address=address,
            invocation=contract_invocation(contract_id, contract, function, args),
            contract_id=contract_id,
            function=function,
            latest_ledger=self.latest_ledger(tx),
            network_passphrase=self._info.network_passphrase,
        )

    def check_authorization(
        self, contract: str, function: str, args: Sequence[Any], *, entry_xdr: object
    ) -> tuple[str, int, int]:
        """``(address, nonce, expiration)`` of a signed entry for exactly this call, or
        :class:`AuthorizationError` saying why it cannot be (the ledger's own checks,
        nonce and expiration, come when the call is made)."""
        invocation = contract_invocation(
            self._gateway.contract_id(contract), contract, function, args
        )
        return check_signed_entry(
            decode_entry(entry_xdr),
            network_passphrase=self._info.network_passphrase,
            invocation=invocation,
        )

    def invoke_authorized(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        entry_xdr: str,
        tx: Tx,
        operation: str | None = None,
    ) -> TxRecord:
        """Relay a call authorised by an entry its address signed outside the backend."""
        return self._run(
            function,
            lambda: self._gateway.invoke_authorized(
                contract, function, args, entry_xdr=entry_xdr, tx=tx, operation=operation
            ),
        )

    def prepare_transaction(
        self, contract: str, function: str, args: Sequence[Any], *, source: str, tx: Tx
    ) -> PreparedTransaction:
        """The unsigned transaction for *source* to sign in its own wallet (see
        :meth:`ChainGateway.prepare_transaction`); a refusal as :meth:`invoke` maps it."""
        return self._run(
            function,
            lambda: self._gateway.prepare_transaction(
                contract, function, args, source=source, tx=tx
            ),
        )

    def submit_transaction(
        self,
        signed_xdr: str,
        *,
        expected: PreparedTransaction | None = None,
        tx: Tx,
        operation: str | None = None,
    ) -> TxRecord:
        """Submit an envelope its source signed (see
        :meth:`ChainGateway.submit_transaction`): refusals of the envelope itself are
        :data:`ENVELOPE_REFUSALS` codes, those of the call as for :meth:`invoke`."""
        function = expected.function if expected is not None else "submit_transaction"
        return self._run(
            function,
            lambda: self._gateway.submit_transaction(
                signed_xdr, expected=expected, tx=tx, operation=operation
            ),
        )

    def read(self, contract: str, function: str, args: Sequence[Any], *, tx: Tx) -> Any:
        """A read-only call."""
        return self._run(function, lambda: self._gateway.read(contract, function, args, tx=tx))

    def read_optional(
        self, contract: str, function: str, args: Sequence[Any], *, tx: Tx
    ) -> Any | None:
        """A read-only call of a record that may not exist: ``None`` when it traps (as
        reading an unknown bill, merchant or config does on chain)."""

        def call() -> Any | None:
            try:
                return self._gateway.read(contract, function, args, tx=tx)
            except ContractError as exc:
                if exc.trapped:
                    return None
                raise

        return self._run(function, call)

    def now(self, tx: Tx) -> int:
        """Ledger time (not counted as a chain call: most reads of it are cached)."""
        try:
            return int(self._gateway.now(tx=tx))
        except ChainUnavailableError as exc:
            raise _unavailable(exc) from exc

    def latest_ledger(self, tx: Tx) -> int:
        """The sequence of the latest closed ledger."""
        return self._run("latest_ledger", lambda: int(self._gateway.latest_ledger(tx=tx)))

    def describe(self) -> ChainInfo:
        """Which chain this is: gateway, network passphrase, RPC endpoint, contract ids."""
        return self._info

    def events_after(self, cursor: int, *, limit: int, tx: Tx) -> list[ContractEvent]:
        """Contract events after *cursor*, oldest first."""
        try:
            return self._gateway.events_after(cursor, limit=limit, tx=tx)
        except ChainUnavailableError as exc:
            raise _unavailable(exc) from exc

    def forget_events(self, through: int, *, limit: int) -> int:
        """Let the gateway forget up to *limit* contract events at or below cursor
        *through* (retention: the event sweep is past them for good); how many went."""
        return self._gateway.forget_events(through, limit=limit)


def _unavailable(exc: ChainUnavailableError) -> ChainUnavailable:
    return ChainUnavailable(f"The chain could not be reached: {exc}", code="chain_unavailable")
