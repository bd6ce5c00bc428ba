"""The only module that knows httpx: sending one request, sync or async.

Everything above this layer speaks in plain values (method, URL, header dict,
bytes, status, header mapping), so moving to another HTTP library means
changing this file alone. Network failures surface as :class:`TransportFailure`
for the retry loops to judge; they never leak httpx exception types.

The client made here is httpx's, on its default transport (``bench/transport.py``
measured the alternatives; docs/guides/client.rst, "Performance", says why it stays).
An injected ``http_client`` may be an ``httpx`` client on any transport (e.g.
``httpx_aiohttp.AiohttpTransport``) or an ``httpx2`` client: httpx2 is recognised
from ``sys.modules`` (a caller who made an ``httpx2.Client`` has imported it), so it
is never imported here and is not a dependency.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import httpx

__all__ = [
    "AsyncHTTP",
    "Browser",
    "ChunkSink",
    "Page",
    "RawResponse",
    "SyncHTTP",
    "TransportFailure",
    "open_browser",
]

# Connection pool sized for a busy server process sharing one client across threads.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class RawResponse(NamedTuple):
    """An HTTP answer reduced to what the client needs."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


class TransportFailure(Exception):
    """No HTTP answer: connection refused/reset, DNS failure or a timeout."""

    def __init__(self, message: str, *, timeout: bool) -> None:
        super().__init__(message)
        self.timeout = timeout


class ChunkSink:
    """Receives a streamed 2xx body; ``begin`` is called again if the request is retried."""

    def begin(self) -> None:
        """Start (or restart) receiving a body."""

    def write(self, chunk: bytes) -> None:
        """Take the next piece of the body."""


class _Library(NamedTuple):
    """What the sender needs from the library an injected client comes from."""

    transport_error: type[Exception]
    timeout_error: type[Exception]
    timeout: Any  # the library's Timeout class


_HTTPX = _Library(httpx.TransportError, httpx.TimeoutException, httpx.Timeout)


def _library(client: object, sync: bool) -> _Library | None:
    """httpx's or httpx2's classes if *client* is one of their (a)sync clients."""
    if isinstance(client, httpx.Client if sync else httpx.AsyncClient):
        return _HTTPX
    httpx2 = sys.modules.get("httpx2")
    if httpx2 is not None and isinstance(client, httpx2.Client if sync else httpx2.AsyncClient):
        return _Library(httpx2.TransportError, httpx2.TimeoutException, httpx2.Timeout)
    return None


def _failure(exc: Exception, lib: _Library) -> TransportFailure:
    timeout = isinstance(exc, lib.timeout_error)
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("aiohttp"):
        # httpx-aiohttp 0.2 maps every aiohttp connection error, a refused one
        # included, to ConnectTimeout: judge by aiohttp's own exception instead.
        timeout = isinstance(cause, (TimeoutError, asyncio.TimeoutError))
    return TransportFailure(
        f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, timeout=timeout
    )


class _Timeouts:
    """One timeout object per seconds value (clients made by ``with_options`` share the pool)."""

    def __init__(self, timeout_class: Any) -> None:
        self._class = timeout_class
        self._cache: dict[float, Any] = {}

    def get(self, seconds: float) -> Any:
        t = self._cache.get(seconds)
        if t is None:
            t = self._cache[seconds] = self._class(seconds)
        return t


class SyncHTTP:
    """A blocking sender over an ``httpx.Client`` (created here unless one is injected;
    an injected one may also be an ``httpx2.Client``)."""

    def __init__(self, client: Any = None) -> None:
        lib = _HTTPX if client is None else _library(client, sync=True)
        if lib is None:
            raise TypeError(
                "http_client must be an httpx.Client (or httpx2.Client) for LumenLater "
                f"(use httpx.AsyncClient with AsyncLumenLater), not {type(client).__name__}"
            )
        self.owned = client is None
        self._client = httpx.Client(limits=_LIMITS) if client is None else client
        self._lib = lib
        self._timeouts = _Timeouts(lib.timeout)

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, Any] | None,
        timeout: float,
    ) -> RawResponse:
        """Send one request and read the whole body."""
        try:
            r = self._client.request(
                method,
                url,
                headers=headers,
                content=content,
                params=params,
                timeout=self._timeouts.get(timeout),
            )
        except self._lib.transport_error as exc:
            raise _failure(exc, self._lib) from exc
        return RawResponse(r.status_code, r.headers, r.content)

    def stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None,
        timeout: float,
        sink: ChunkSink,
    ) -> RawResponse:
        """Send one request; a 2xx body goes chunk by chunk to *sink*, others are read whole."""
        try:
            with self._client.stream(
                method, url, headers=headers, params=params, timeout=self._timeouts.get(timeout)
            ) as r:
                if r.status_code >= 300:
                    return RawResponse(r.status_code, r.headers, r.read())
                sink.begin()
                for chunk in r.iter_bytes():
                    sink.write(chunk)
                return RawResponse(r.status_code, r.headers, b"")
        except self._lib.transport_error as exc:
            raise _failure(exc, self._lib) from exc

    def close(self) -> None:
        """Close the pool if this sender created it."""
        if self.owned:
            self._client.close()


class AsyncHTTP:
    """An asyncio sender over an ``httpx.AsyncClient`` (created here unless one is
    injected; an injected one may also be an ``httpx2.AsyncClient``)."""

    def __init__(self, client: Any = None) -> None:
        lib = _HTTPX if client is None else _library(client, sync=False)
        if lib is None:
            raise TypeError(
                "http_client must be an httpx.AsyncClient (or httpx2.AsyncClient) for "
                f"AsyncLumenLater (use httpx.Client with LumenLater), not {type(client).__name__}"
            )
        self.owned = client is None
        self._client = httpx.AsyncClient(limits=_LIMITS) if client is None else client
        self._lib = lib
        self._timeouts = _Timeouts(lib.timeout)

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, Any] | None,
        timeout: float,
    ) -> RawResponse:
        """Send one request and read the whole body."""
        try:
            r = await self._client.request(
                method,
                url,
                headers=headers,
                content=content,
                params=params,
                timeout=self._timeouts.get(timeout),
            )
        except self._lib.transport_error as exc:
            raise _failure(exc, self._lib) from exc
        return RawResponse(r.status_code, r.headers, r.content)

    async def stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None,
        timeout: float,
        sink: ChunkSink,
    ) -> RawResponse:
        """Send one request; a 2xx body goes chunk by chunk to *sink*, others are read whole."""
        try:
            async with self._client.stream(
                method, url, headers=headers, params=params, timeout=self._timeouts.get(timeout)
            ) as r:
                if r.status_code >= 300:
                    return RawResponse(r.status_code, r.headers, await r.aread())
                sink.begin()
                async for chunk in r.aiter_bytes():
                    sink.write(chunk)
                return RawResponse(r.status_code, r.headers, b"")
        except self._lib.transport_error as exc:
            raise _failure(exc, self._lib) from exc

    async def aclose(self) -> None:
        """Close the pool if this sender created it."""
        if self.owned:
            await self._client.aclose()


class Page(Protocol):
    """An answer as a browser sees it (what the scripted demo reads)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def url(self) -> object: ...


class Browser(Protocol):
    """A cookie-keeping client that does not follow redirects (``httpx.Client`` is one)."""

    def get(self, url: str) -> Page: ...

    def post(self, url: str, *, data: Mapping[str, str] | None = None) -> Page: ...

    def close(self) -> None: ...


def open_browser(timeout: float) -> Browser:
    """A new :class:`Browser`, like a shopper's: one cookie jar, redirects not followed."""
    return httpx.Client(timeout=timeout, follow_redirects=False)
