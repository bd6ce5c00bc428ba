"""The two I/O loops, side by side: send, and on a retryable failure wait and send again.

Request building, retry decisions, backoff, error mapping and log lines live in
:mod:`._options` / :mod:`._retry` / :mod:`._error_mapping`; these loops differ
only by ``await``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from time import monotonic
from typing import Any, TypeVar

from ._http import AsyncHTTP, ChunkSink, SyncHTTP, TransportFailure
from ._options import ClientOptions
from ._pagination import AsyncPage, AsyncPaginator, Params, SyncPage, parse_page
from ._signing import StellarSigner

__all__ = ["AsyncCore", "AsyncSleep", "SyncCore", "SyncSleep"]

T = TypeVar("T")
SyncSleep = Callable[[float], Any]
AsyncSleep = Callable[[float], Awaitable[Any]]


class SyncCore:
    """Sends requests for :class:`~lumenlater_sdk.LumenLater` (thread-safe: no mutable state)."""

    __slots__ = ("http", "opts", "signer", "sleep")

    def __init__(
        self,
        opts: ClientOptions,
        http: SyncHTTP,
        sleep: SyncSleep | None,
        signer: StellarSigner | None = None,
    ) -> None:
        self.opts = opts
        self.http = http
        # The merchant's key (self-custody signing), per client; never in a repr or log.
        self.signer = signer
        self.sleep = time.sleep if sleep is None else sleep

    def request(
        self,
        method: str,
        path: str,
        parse: Callable[[bytes], T],
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        """Send with retries and parse the 2xx body."""
        opts = self.opts
        plan = opts.plan(method, path, params, body, idempotency_key)
        attempt = 0
        while True:
            started = monotonic()
            try:
                resp = self.http.send(
                    plan.method,
                    plan.url,
                    plan.headers(attempt),
                    plan.content,
                    plan.params,
                    opts.timeout,
                )
            except TransportFailure as exc:
                delay = opts.after_failure(plan, attempt, exc, monotonic() - started)
            else:
                if 200 <= resp.status_code < 300:
                    opts.answered(plan, attempt, resp, monotonic() - started)
                    return parse(resp.content)
                delay = opts.after_error(plan, attempt, resp, monotonic() - started)
            self.sleep(delay)
            attempt += 1

    def stream(self, path: str, params: Mapping[str, Any] | None, sink: ChunkSink) -> None:
        """GET with retries, passing the 2xx body to *sink* as it arrives."""
        opts = self.opts
        plan = opts.plan("GET", path, params, None, None)
        attempt = 0
        while True:
            started = monotonic()
            try:
                resp = self.http.stream(
                    "GET", plan.url, plan.headers(attempt), plan.params, opts.timeout, sink
                )
            except TransportFailure as exc:
                delay = opts.after_failure(plan, attempt, exc, monotonic() - started)
            else:
                if 200 <= resp.status_code < 300:
                    opts.answered(plan, attempt, resp, monotonic() - started)
                    return
                delay = opts.after_error(plan, attempt, resp, monotonic() - started)
            self.sleep(delay)
            attempt += 1

    def page(self, path: str, params: Params, item: Callable[[Any], T]) -> SyncPage[T]:
        """GET one page of a list; the page fetches its successors through this core."""
        data, has_more, url = self.request(
            "GET", path, lambda b: parse_page(b, item), params=params
        )
        return SyncPage(data, has_more, url, params, lambda p: self.page(path, p, item))


class AsyncCore:
    """Sends requests for :class:`~lumenlater_sdk.AsyncLumenLater`."""

    __slots__ = ("http", "opts", "signer", "sleep")

    def __init__(
        self,
        opts: ClientOptions,
        http: AsyncHTTP,
        sleep: AsyncSleep | None,
        signer: StellarSigner | None = None,
    ) -> None:
        self.opts = opts
        self.http = http
        # The merchant's key (self-custody signing), per client; never in a repr or log.
        self.signer = signer
        self.sleep = asyncio.sleep if sleep is None else sleep

    async def request(
        self,
        method: str,
        path: str,
        parse: Callable[[bytes], T],
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        """Send with retries and parse the 2xx body."""
        opts = self.opts
        plan = opts.plan(method, path, params, body, idempotency_key)
        attempt = 0
        while True:
            started = monotonic()
            try:
                resp = await self.http.send(
                    plan.method,
                    plan.url,
                    plan.headers(attempt),
                    plan.content,
                    plan.params,
                    opts.timeout,
                )
            except TransportFailure as exc:
                delay = opts.after_failure(plan, attempt, exc, monotonic() - started)
            else:
                if 200 <= resp.status_code < 300:
                    opts.answered(plan, attempt, resp, monotonic() - started)
                    return parse(resp.content)
                delay = opts.after_error(plan, attempt, resp, monotonic() - started)
            await self.sleep(delay)
            attempt += 1

    async def stream(self, path: str, params: Mapping[str, Any] | None, sink: ChunkSink) -> None:
        """GET with retries, passing the 2xx body to *sink* as it arrives."""
        opts = self.opts
        plan = opts.plan("GET", path, params, None, None)
        attempt = 0
        while True:
            started = monotonic()
            try:
                resp = await self.http.stream(
                    "GET", plan.url, plan.headers(attempt), plan.params, opts.timeout, sink
                )
            except TransportFailure as exc:
                delay = opts.after_failure(plan, attempt, exc, monotonic() - started)
            else:
                if 200 <= resp.status_code < 300:
                    opts.answered(plan, attempt, resp, monotonic() - started)
                    return
                delay = opts.after_error(plan, attempt, resp, monotonic() - started)
            await self.sleep(delay)
            attempt += 1

    async def page(self, path: str, params: Params, item: Callable[[Any], T]) -> AsyncPage[T]:
        """GET one page of a list; the page fetches its successors through this core."""
        data, has_more, url = await self.request(
            "GET", path, lambda b: parse_page(b, item), params=params
        )
        return AsyncPage(data, has_more, url, params, lambda p: self.page(path, p, item))

    def paginator(self, path: str, params: Params, item: Callable[[Any], T]) -> AsyncPaginator[T]:
        """The awaitable, async-iterable result of an async ``list()``."""
        return AsyncPaginator(params, lambda p: self.page(path, p, item))
