"""The gateway's Soroban RPC client: stellar-sdk's sync ``SorobanServer``, every call
mapped to :class:`ChainUnavailableError` when the endpoint cannot answer, and the
helpers that turn RPC answers into the engine's shapes."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from stellar_sdk import SorobanServer, xdr
from stellar_sdk.client.requests_client import RequestsClient
from stellar_sdk.exceptions import SdkError
from stellar_sdk.soroban_rpc import EventInfo

from .._gateway import ChainUnavailableError
from ._journal import StoredEvent

__all__ = ["Rpc", "return_value", "stored_event"]

T = TypeVar("T")

METHOD_NOT_FOUND = -32601


class Rpc:
    """``SorobanServer`` at *url*, without the HTTP client's own retries (the gateway
    decides what may be retried: resending a signed envelope is safe, rebuilding is not)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        client = RequestsClient(
            num_retries=0, request_timeout=int(max(timeout, 1)), post_timeout=timeout
        )
        self._client = client
        self.server = SorobanServer(url, client=client)
        self._ids = itertools.count(1)

    def extension(self, method: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """A method that is not Stellar's (the sandbox's ``lumenlater_*``): its result, or
        ``None`` when the endpoint does not have it (JSON-RPC ``-32601``). Any other error
        object is :class:`ChainUnavailableError` naming the endpoint's message."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": dict(params)}
        answer = self.call(method, lambda: self._client.post(self.url, json_data=body).json())
        if not isinstance(answer, dict):
            raise ChainUnavailableError(f"Soroban RPC {self.url} answered {method} with no object")
        error = answer.get("error")
        if isinstance(error, dict):
            if error.get("code") == METHOD_NOT_FOUND:
                return None
            raise ChainUnavailableError(
                f"Soroban RPC {self.url} refused {method}: {error.get('message')}"
            )
        result = answer.get("result")
        if not isinstance(result, dict):
            raise ChainUnavailableError(f"Soroban RPC {self.url} answered {method} with no result")
        return result

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``; an unreachable endpoint, an HTTP error, a JSON-RPC error
        or an answer that does not parse is :class:`ChainUnavailableError`."""
        try:
            return fn(*args, **kwargs)
        except ChainUnavailableError:
            raise
        except (SdkError, OSError, ValueError) as exc:  # pydantic's errors are ValueErrors
            raise ChainUnavailableError(
                f"Soroban RPC {self.url} failed on {what}: {type(exc).__name__}: {exc}"
            ) from exc


def return_value(result_meta_xdr: str | None) -> xdr.SCVal:
    """``sorobanMeta.returnValue`` of a TransactionMeta (v3, or v4 from protocol 23)."""
    if not result_meta_xdr:
        raise ChainUnavailableError("the RPC gave no resultMetaXdr for a successful transaction")
    meta = xdr.TransactionMeta.from_xdr(result_meta_xdr)
    body = meta.v4 if meta.v == 4 else meta.v3
    soroban = body.soroban_meta if body is not None else None
    if soroban is None or soroban.return_value is None:
        raise ChainUnavailableError("the transaction meta has no sorobanMeta.returnValue")
    return soroban.return_value


def stored_event(e: EventInfo, names: Mapping[str, str]) -> StoredEvent | None:
    """A ``getEvents`` event as the journal stores it; ``None`` if not one of *names* (id →
    contract name)."""
    contract = names.get(e.contract_id or "")
    if contract is None:
        return None
    return StoredEvent(
        cursor=0,
        event_id=e.id,
        ledger=int(e.ledger),
        tx_hash=e.transaction_hash,
        contract=contract,
        contract_id=e.contract_id or "",
        topics=tuple(e.topic),
        data=e.value,
        timestamp=int(e.ledger_close_at.timestamp()),
    )
