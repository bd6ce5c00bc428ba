"""Every chain call goes through here: refusals become service errors, calls are counted.

Services reach the chain only through :class:`ChainRelay` (``ctx.chain``), never the
gateway behind it; the sandbox-only powers are ``ctx.sandbox``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from stellar_sdk import Keypair

from ..chain import (
    ChainGateway,
    ChainUnavailableError,
    ContractError,
    ContractEvent,
    ProtocolConstants,
    TxRecord,
)
from ..db import Tx
from .errors import ChainRefused, ChainUnavailable

__all__ = ["ChainObserver", "ChainRelay"]

ChainObserver = Callable[[str, str], None]
"""Called with (function, outcome) after each call; outcome is ok|refused|unavailable."""

T = TypeVar("T")


class ChainRelay:
    """A :class:`ChainGateway` seen from the services.

    The gateway's protocol constants are read once, here, when the backend starts.
    """

    def __init__(self, gateway: ChainGateway, observer: ChainObserver | None = None) -> None:
        self._gateway = gateway
        self._observe = observer or (lambda function, outcome: None)
        self._constants = gateway.constants()

    @property
    def constants(self) -> ProtocolConstants:
        """The chain's protocol constants (fee rate, APR, grace period...)."""
        return self._constants

    def _run(self, function: str, call: Callable[[], T]) -> T:
        try:
            result = call()
        except ContractError as exc:
            self._observe(function, "refused")
            raise ChainRefused(exc.message, code=exc.reason or "contract_error") from exc
        except ChainUnavailableError as exc:
            self._observe(function, "unavailable")
            raise ChainUnavailable(
                f"The chain could not be reached: {exc}", code="chain_unavailable"
            ) from exc
        self._observe(function, "ok")
        return result

    def invoke(
        self, contract: str, function: str, args: Sequence[Any], *, signer: Keypair, tx: Tx
    ) -> TxRecord:
        """Relay a state-changing call inside the caller's transaction."""
        return self._run(
            function, lambda: self._gateway.invoke(contract, function, args, signer=signer, tx=tx)
        )

    def read(self, contract: str, function: str, args: Sequence[Any], *, tx: Tx) -> Any:
        """A read-only call."""
        return self._run(function, lambda: self._gateway.read(contract, function, args, tx=tx))

    def now(self, tx: Tx) -> int:
        """Ledger time."""
        return int(self._gateway.now(tx=tx))

    def events_after(self, cursor: int, *, limit: int, tx: Tx) -> list[ContractEvent]:
        """Contract events after *cursor*, oldest first."""
        return self._gateway.events_after(cursor, limit=limit, tx=tx)
