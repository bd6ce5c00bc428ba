"""A lean HTTP/1.1 client for webhook POSTs: a keep-alive connection pool per origin.

Why not httpx here: profiled against a do-nothing server on this project's 2-core
box, ``httpx.AsyncClient.post`` costs ~1 ms of CPU per request alone and ~2 ms at
16 in flight, because httpcore's pool polls every pooled socket (``has_expired`` →
anyio ``get_extra_info``) on every request and response (encode/httpcore#924), under
several layers of per-request objects. The worker's whole budget at 1,000 events/s is
1 ms per event. This client costs 10-20 µs, aiohttp 65-100 µs
(``bench/delivery_http.py``): O(1) checkout from a per-origin LIFO of idle
connections, staleness seen from the protocol's own EOF flag (no syscall), the
request written in one ``send``, and the answer framed by llhttp (``_http11``).

It is the only way webhooks are sent, in every environment:

* **Proxies** (``_proxy``): the configured one or the environment's, ``NO_PROXY``
  honoured; plain-HTTP requests go to the proxy in absolute form, HTTPS ones through
  a ``CONNECT`` tunnel on which TLS is started with the receiver.
* **Live mode** (*refuse*, see ``_addresses``): the sender resolves each receiver's
  name itself and connects only to an address *refuse* has nothing against, with the
  ``Host`` header and TLS name (SNI, certificate check) still the URL's host. A
  refused address fails the attempt (:class:`AddressRefused`), which is retried on
  the schedule like any connection error. Through a proxy, the proxy resolves
  names, so only IP-literal hosts can be checked here: the proxy is where names
  are filtered then.

Redirects are not followed (a 3xx is a failed delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from ._addresses import AddressNotAllowed, allowed_addresses, literal_refusal
from ._http11 import Connection, ProtocolError, encode_request
from ._proxy import Proxies, Proxy

__all__ = ["AddressRefused", "Answer", "ConnectError", "PooledSender"]

Origin = tuple[str, str, int]


def _ssl_context() -> ssl.SSLContext:
    try:  # the CA bundle httpx uses, so that HTTPS endpoints verify the same way
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()


class ConnectError(OSError):
    """No connection could be made (refused, unreachable, DNS, TLS handshake, proxy)."""


class AddressRefused(ConnectError):
    """Live mode: the receiver's host is, or resolves only to, non-public addresses."""


class Answer(NamedTuple):
    """A receiver's answer as the attempt log keeps it."""

    status: int
    headers: list[tuple[bytes, bytes]]  # the kept ones (``_http11.KEPT_HEADERS``), lower case
    body: bytes  # its first ``_http11.CAPTURE`` bytes


@dataclass(frozen=True)
class _Target:
    origin: Origin
    host: bytes  # the Host header
    path: bytes  # the request target, percent-encoded (absolute form through a proxy)
    proxy: Proxy | None = None
    extra: tuple[tuple[str, str], ...] = ()  # headers for the proxy


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


def _connect_request(target: _Target) -> bytes:
    """``CONNECT host:port`` for a tunnel to *target*'s origin through its proxy."""
    _, host, port = target.origin
    authority = (f"[{host}]" if ":" in host else host) + f":{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    lines += [f"{name}: {value}" for name, value in target.extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class _Pool:
    """Connections to one origin: idle ones (most recent last) and a cap on open ones."""

    idle: list[Connection] = field(default_factory=list)
    open: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class PooledSender:
    """POSTs bodies and returns status codes, keeping up to *max_per_origin* connections.

    *proxy* (an ``http://[user:password@]host:port`` URL) carries every request
    except to the hosts in *no_proxy*; without it the environment's proxy variables
    are used unless *trust_env* is false (see ``_proxy``). *ssl_context* verifies
    HTTPS receivers (default: certifi's CA bundle). *refuse*, given an IP address,
    says why it may not be connected to (or ``None``): live mode passes
    :func:`~._addresses.non_public`; without it (the sandbox) anything is reached.

    Use from one event loop. Timeouts are the caller's (``asyncio.timeout``); a
    cancelled request closes its connection rather than returning it to the pool.
    """

    def __init__(
        self,
        *,
        max_per_origin: int = 64,
        keepalive_expiry: float = 4.0,
        proxy: str | None = None,
        no_proxy: str | None = None,
        trust_env: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        refuse: Callable[[str], str | None] | None = None,
    ) -> None:
        self.max_per_origin = max_per_origin
        # Below uvicorn's and most servers' 5 s idle timeout, so we rarely race their close.
        self.keepalive_expiry = keepalive_expiry
        self.proxies = Proxies(proxy, no_proxy=no_proxy, trust_env=trust_env)
        self.refuse = refuse
        self._pools: dict[Origin, _Pool] = {}
        self._targets: dict[str, _Target] = {}
        self._ssl = ssl_context
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
            target = self._targets[url] = self._route(_parse(url))
        return target

    def _route(self, target: _Target) -> _Target:
        """*target* as sent through its proxy, if it has one."""
        scheme, host, port = target.origin
        proxy = self.proxies.route(scheme, host, port) if self.proxies else None
        if proxy is None:
            return target
        extra = (("Proxy-Authorization", proxy.authorization),) if proxy.authorization else ()
        path = target.path
        if scheme == "http":  # absolute form: the proxy forwards it (RFC 9112 3.2.2)
            path = b"http://" + target.host + path
        return replace(target, path=path, proxy=proxy, extra=extra)

    async def _connect(self, target: _Target) -> Connection:
        scheme, host, port = target.origin
        context = None
        if scheme == "https":
            context = self._ssl = self._ssl or _ssl_context()
        loop = asyncio.get_running_loop()
        try:
            if target.proxy is not None:
                return await self._via_proxy(loop, target, context)
            if self.refuse is None:
                _, conn = await loop.create_connection(Connection, host, port, ssl=context)
                return conn
            return await self._to_allowed_address(loop, target, context)
        except AddressNotAllowed as exc:
            raise AddressRefused(
                f"{exc}; live mode delivers webhooks to public addresses only"
            ) from None
        except (OSError, ProtocolError) as exc:
            if isinstance(exc, ConnectError):
                raise
            raise ConnectError(f"{type(exc).__name__}: {exc}") from exc

    async def _to_allowed_address(
        self, loop: asyncio.AbstractEventLoop, target: _Target, context: ssl.SSLContext | None
    ) -> Connection:
        """Resolve the host here and connect to an address *refuse* allows, so that
        what was checked is what is reached; TLS still verifies the host name."""
        _, host, port = target.origin
        assert self.refuse is not None
        error: OSError | None = None
        for ip in await allowed_addresses(host, port, self.refuse):
            try:
                _, conn = await loop.create_connection(
                    Connection, ip, port, ssl=context, server_hostname=host if context else None
                )
                return conn
            except OSError as exc:
                error = exc  # the next address, as create_connection does with a name
        assert error is not None
        raise error

    async def _via_proxy(
        self, loop: asyncio.AbstractEventLoop, target: _Target, context: ssl.SSLContext | None
    ) -> Connection:
        """A connection to *target*'s proxy; for HTTPS, a TLS tunnel through it.

        The proxy resolves the receiver's name, so the live-mode check can only
        refuse hosts written as IP addresses here; names are the proxy's to filter.
        """
        proxy = target.proxy
        assert proxy is not None
        _, host, port = target.origin
        if self.refuse is not None and (refusal := literal_refusal(host, self.refuse)):
            raise AddressNotAllowed(refusal)
        try:
            _, conn = await loop.create_connection(Connection, proxy.host, proxy.port)
        except OSError as exc:
            raise ConnectError(f"{proxy}: {type(exc).__name__}: {exc}") from exc
        if context is None:
            return conn
        try:
            status = await conn.tunnel(_connect_request(target))
            if not 200 <= status < 300:
                raise ConnectError(f"{proxy} refused CONNECT {host}:{port} with HTTP {status}")
            assert conn.transport is not None
            tls = await loop.start_tls(conn.transport, conn, context, server_hostname=host)
            if tls is None:  # pragma: no cover - only if the proxy closed mid-handshake
                raise ConnectError(f"TLS through {proxy} ended before it began")
            conn.transport = tls  # the same socket, now encrypted end to end
        except BaseException:
            conn.close()
            raise
        return conn

    async def _checkout(
        self, pool: _Pool, target: _Target, *, fresh: bool = False
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
                    return await self._connect(target), False
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
        """Send one POST; the response status (see :meth:`send`)."""
        return (await self.send(url, body, headers)).status

    async def send(
        self,
        url: str,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        deadline: float | None = None,
    ) -> Answer:
        """Send one POST; the response status, kept headers and the start of its body.

        *deadline* (``loop.time()``) is when the caller gives up: an answer that closes
        the connection is not waited on for its body past half the time left.
        Raises :class:`ConnectError` (:class:`AddressRefused` in live mode) when no
        connection could be made, ``OSError`` when it broke, ``ProtocolError`` for an
        answer that is not HTTP/1.x.
        """
        target = self._target(url)
        now = time.monotonic()
        if now - self._swept > self.keepalive_expiry:
            self._sweep(now)
        pool = self._pools.get(target.origin)
        if pool is None:
            pool = self._pools[target.origin] = _Pool()
        request = encode_request(target.path, target.host, [*headers, *target.extra], body)
        for fresh in (False, True):
            conn, reused = await self._checkout(pool, target, fresh=fresh)
            reusable = False
            try:
                status, reusable = await conn.exchange(request, deadline)
                chunks = conn.chunks
                return Answer(
                    status, conn.headers, chunks[0] if len(chunks) == 1 else b"".join(chunks)
                )
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
