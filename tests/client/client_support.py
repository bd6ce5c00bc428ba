"""Helpers for the client tests: canned API objects, a recording mock server, and ``Api``,
which drives the sync or the async client with the same test code."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import httpx

from lumenlater_sdk import AsyncLumenLater, LumenLater

CUSTOMER = "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7"
MERCHANT = "GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H"
API_KEY = "sk_test_abc123"

Handler = Callable[[httpx.Request], httpx.Response]


def bill_json(id: str = "bill_1", **over: Any) -> dict[str, Any]:
    """A Bill as the API sends it."""
    b: dict[str, Any] = {
        "id": id, "object": "bill", "created": 1_700_000_000, "livemode": False,
        "metadata": {}, "customer": CUSTOMER, "merchant": MERCHANT, "amount": 999_900_000,
        "currency": "usdc", "status": "created", "order_id": "o-1", "description": None,
        "expires_at": 1_700_086_400, "paid_at": None, "grace_period_ends_at": None,
        "liquidatable_at": None, "late_fee": 0, "amount_due": 999_900_000, "repaid_at": None,
        "liquidated_at": None,
        "chain": {"contract_id": "C" * 56, "bill_number": 7, "tx_hash": "ab" * 32, "ledger": 9},
    }  # fmt: skip
    b.update(over)
    return b


def error_json(type: str, code: str | None = None, message: str = "nope", **kw: Any) -> dict:
    return {"error": {"type": type, "code": code, "message": message, "param": None, **kw}}


def list_json(data: list[dict[str, Any]], has_more: bool, url: str = "/v1/bills") -> dict:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


class Server:
    """Answers requests from a queue of responses (or one handler) and records them."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._queue: list[httpx.Response | Exception | Handler] = []
        self.default: Handler = lambda req: httpx.Response(200, json=bill_json())

    def queue(self, *items: httpx.Response | Exception | Handler) -> None:
        self._queue.extend(items)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self._queue.pop(0) if self._queue else self.default
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return item(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)


class Api:
    """Drives either client with the same test code."""

    def __init__(self, kind: str, server: Server, **client_kw: Any) -> None:
        self.kind = kind
        self.server = server
        self.sleeps: list[float] = []
        transport = httpx.MockTransport(server)
        kw: dict[str, Any] = {"api_key": API_KEY, "base_url": "https://api.test"}
        kw.update(client_kw)
        if kind == "sync":
            self.http: Any = httpx.Client(transport=transport)
            self.client: Any = LumenLater(http_client=self.http, _sleep=self.sleeps.append, **kw)
        else:

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            self.http = httpx.AsyncClient(transport=transport)
            self.client = AsyncLumenLater(http_client=self.http, _sleep=sleep, **kw)

    async def __call__(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(client)``, awaiting the result for the async client."""
        result = fn(self.client)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def collect(self, fn: Callable[[Any], Any]) -> list[Any]:
        """Iterate a list result to the end (``for`` or ``async for``)."""
        result = fn(self.client)
        if self.kind == "sync":
            return list(result)
        return [item async for item in result]
