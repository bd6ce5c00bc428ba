"""A lean HTTP/1.1 client for webhook POSTs: a keep-alive connection pool per origin.

Why not httpx here: profiled against a do-nothing server on this project's 2-core
box, ``httpx.AsyncClient.post`` costs ~1 ms of CPU per request alone and ~2 ms at
16 in flight, because httpcore's pool polls every pooled socket (``has_expired`` →
anyio ``get_extra_info``) on every request and response (encode/httpcore#924), under
several layers of per-request objects. The worker's whole budget at 1,000 events/s is
1 ms per event. This client costs 40-70 µs (``bench/delivery_http.py``): O(1)
checkout from a per-origin LIFO of idle connections, staleness seen from the
protocol's own EOF flag (no syscall), the request written in one ``send``, and only
the answer's framing parsed (``_http11``).
Redirects are not followed (a 3xx is a failed delivery) and proxies are not used:
hand the worker an ``httpx.AsyncClient`` for those.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from ._http11 import Connection, encode_request

__all__ = ["ConnectError", "PooledSender"]

Origin = tuple[str, str, int]


def _ssl_context() -> ssl.SSLContext:
    try:  # the CA bundle httpx uses, so that HTTPS endpoints verify the same way
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()


class ConnectError(OSError):
    """No connection could be made (refused, unreachable, DNS, TLS handshake)."""


@dataclass(frozen=True)
class _Target:
    origin: Origin
    host: bytes  # the Host header
    path: bytes  # the request target, percent-encoded


def _parse(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname.encode("idna").decode("ascii")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    name = f"[{host}]" if ":" in host else host
    header = f"{name}:{parts.port}" if parts.port else name
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # Spaces, controls and non-ASCII are escaped; what is already escaped stays.
    target = quote(path, safe="!#$%&'()*+,/:;=?@[]~")
    return _Target((parts.scheme, host, port), header.encode(), target.encode("ascii"))


@dataclass
class _Pool:
    """Connections to one origin: idle ones (most recent last) and a cap on open ones."""

    idle: list[Connection] = field(default_factory=list)
    open: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class PooledSender:
    """POSTs bodies and returns status codes, keeping up to *max_per_origin* connections.

    Use from one event loop. Timeouts are the caller's (``asyncio.timeout``); a
    cancelled request closes its connection rather than returning it to the pool.
    """

    def __init__(self, *, max_per_origin: int = 64, keepalive_expiry: float = 4.0) -> None:
        self.max_per_origin = max_per_origin
        # Below uvicorn's and most servers' 5 s idle timeout, so we rarely race their close.
        self.keepalive_expiry = keepalive_expiry
        self._pools: dict[Origin, _Pool] = {}
        self._targets: dict[str, _Target] = {}
        self._ssl: ssl.SSLContext | None = None
        self._swept = time.monotonic()

    def _sweep(self, now: float) -> None:
        """Close idle connections past their expiry in every pool; forget empty pools.

        Checkout only looks at the pool it draws from, so without this a receiver
        that is never sent to again would keep its connections (and fds) forever.
        """
        self._swept = now
        for origin, pool in list(self._pools.items()):
            fresh = [c for c in pool.idle if c.open and now - c.idle_since < self.keepalive_expiry]
            for conn in pool.idle:
                if conn not in fresh:
                    conn.close()
                    pool.open -= 1
            pool.idle = fresh
            if not pool.idle and pool.open == 0 and not pool.waiters:
                del self._pools[origin]

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            if len(self._targets) > 10_000:
                self._targets.clear()
            target = self._targets[url] = _parse(url)
        return target

    async def _connect(self, origin: Origin) -> Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            context = self._ssl = self._ssl or _ssl_context()
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(Connection, host, port, ssl=context)
        except OSError as exc:
            raise ConnectError(f"{type(exc).__name__}: {exc}") from exc
        return conn

    async def _checkout(
        self, pool: _Pool, origin: Origin, *, fresh: bool = False
    ) -> tuple[Connection, bool]:
        """A connection and whether it was reused; *fresh* insists on a new one."""
        while True:
            now = time.monotonic()
            while pool.idle and not fresh:
                conn = pool.idle.pop()
                if conn.open and now - conn.idle_since < self.keepalive_expiry:
                    return conn, True
                conn.close()
                pool.open -= 1
            if fresh and pool.idle and pool.open >= self.max_per_origin:
                pool.idle.pop(0).close()  # make room: the oldest idle one is the likeliest dead
                pool.open -= 1
            if pool.open < self.max_per_origin:
                pool.open += 1
                try:
                    return await self._connect(origin), False
                except BaseException:
                    self._release_slot(pool)
                    raise
            waiter = asyncio.get_running_loop().create_future()
            pool.waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one(pool)  # we were handed a turn we cannot take: pass it on
                else:
                    with contextlib.suppress(ValueError):
                        pool.waiters.remove(waiter)
                raise

    def _wake_one(self, pool: _Pool) -> None:
        while pool.waiters:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _release_slot(self, pool: _Pool) -> None:
        pool.open -= 1
        self._wake_one(pool)

    def _checkin(self, pool: _Pool, conn: Connection, reusable: bool) -> None:
        if reusable:
            conn.idle_since = time.monotonic()
            pool.idle.append(conn)
            self._wake_one(pool)
        else:
            conn.close()
            self._release_slot(pool)

    async def post(self, url: str, body: bytes, headers: Sequence[tuple[str, str]]) -> int:
        """Send one POST; the response status. Raises ``OSError`` and the like on failure."""
        target = self._target(url)
        now = time.monotonic()
        if now - self._swept > self.keepalive_expiry:
            self._sweep(now)
        pool = self._pools.get(target.origin)
        if pool is None:
            pool = self._pools[target.origin] = _Pool()
        request = encode_request(target.path, target.host, list(headers), body)
        for fresh in (False, True):
            conn, reused = await self._checkout(pool, target.origin, fresh=fresh)
            reusable = False
            try:
                status, reusable = await conn.exchange(request)
                return status
            except OSError:
                # A kept-alive connection the server closed as we reused it: nothing of
                # ours was answered, so send once more on a new connection.
                if reused and not fresh and conn.received == 0:
                    continue
                raise
            finally:
                self._checkin(pool, conn, reusable)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        """Close every idle connection (busy ones close when their request ends)."""
        for pool in self._pools.values():
            for conn in pool.idle:
                conn.close()
            pool.open -= len(pool.idle)
            pool.idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing their sockets
