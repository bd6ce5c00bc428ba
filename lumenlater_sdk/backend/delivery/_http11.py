"""One HTTP/1.1 client connection: write a POST, read the answer's status and framing.

Only what a webhook sender needs: the status code, and reading exactly the rest of
the answer (``Content-Length``, chunked, or up to close; none for 1xx/204/304) so
the connection can carry the next request. The body itself is dropped. Built on a
bare ``asyncio.Protocol``: h11 (httpx's parser) did the same job at about three
times the CPU, a third of the worker's time at full rate (see ``_http``).
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["MAX_DISCARD", "Connection", "ProtocolError", "encode_request"]

MAX_DISCARD = 64 * 1024
"""Response bytes read (and dropped) to keep a connection; a bigger answer closes it."""

_MAX_HEAD = 64 * 1024
_HIGH_WATER = 4 * (MAX_DISCARD + _MAX_HEAD)  # buffered bytes at which reading pauses


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.x we can frame."""


def encode_request(
    target: bytes, host: bytes, headers: list[tuple[str, str]], body: bytes
) -> bytes:
    """The bytes of a POST; refuses header values that would split the request."""
    lines = [b"POST ", target, b" HTTP/1.1\r\nHost: ", host, b"\r\n"]
    for name, value in headers:
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} contains a line break")
        lines.append(f"{name}: {value}\r\n".encode("latin-1"))
    lines.append(b"Content-Length: %d\r\n\r\n" % len(body))
    lines.append(body)
    return b"".join(lines)


class Connection(asyncio.Protocol):
    """A keep-alive connection; :meth:`exchange` sends one request and reads its answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.eof = False
        self.idle_since = 0.0
        self.received = 0  # bytes of the current answer so far: 0 means "nothing came back"
        self.busy = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # bytes nobody asked for: this connection cannot be trusted
            self.eof = True
            self.close()
            return
        self.buf += data
        self.received += len(data)
        if len(self.buf) > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()  # a server flooding us waits for our reads
            self._paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- state ---------------------------------------------------------------------

    @property
    def open(self) -> bool:
        """Usable for another request: not closed by either side (seen without a syscall)."""
        return not self.eof and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- reading -------------------------------------------------------------------

    async def _fill(self) -> None:
        """Wait for more bytes; raise if the server closed instead."""
        if self.eof:
            raise ConnectionResetError("connection closed by the server")
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
        if self.eof and not self.buf:
            raise ConnectionResetError("connection closed by the server")

    async def _until(self, sep: bytes, limit: int) -> bytes:
        """Consume and return the bytes up to *sep* (excluded)."""
        start = 0
        while (end := self.buf.find(sep, start)) < 0:
            if len(self.buf) > limit:
                raise ProtocolError("response head too large")
            start = max(0, len(self.buf) - len(sep) + 1)
            await self._fill()
        line = bytes(self.buf[:end])
        del self.buf[: end + len(sep)]
        return line

    async def _skip(self, n: int) -> None:
        while len(self.buf) < n:
            n -= len(self.buf)
            self.buf.clear()
            await self._fill()
        del self.buf[:n]

    async def _head(self) -> tuple[int, bool, dict[bytes, bytes]]:
        """Status, whether the version is 1.1, and the headers of the final answer."""
        while True:
            head = await self._until(b"\r\n\r\n", _MAX_HEAD)
            status_line, *lines = head.split(b"\r\n")
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3:
                raise ProtocolError(f"bad status line {status_line[:80]!r}")
            try:
                status = int(parts[1])
            except ValueError:
                raise ProtocolError(f"bad status line {status_line[:80]!r}") from None
            if 100 <= status < 200 and status != 101:
                continue  # informational (e.g. 100 Continue): the real answer follows
            headers: dict[bytes, bytes] = {}
            for line in lines:
                name, colon, value = line.partition(b":")
                if not colon or not name or name[-1:] in b" \t":
                    raise ProtocolError(f"bad header line {line[:80]!r}")
                key = name.lower()
                value = value.strip(b" \t")
                if key in headers:  # repeated fields combine (RFC 9110 5.3)
                    value = headers[key] + b", " + value
                headers[key] = value
            return status, parts[0] == b"HTTP/1.1", headers

    async def _chunked(self) -> bool:
        """Read a chunked body; whether it fitted under ``MAX_DISCARD``."""
        total = 0
        while True:
            line = await self._until(b"\r\n", _MAX_HEAD)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolError("bad chunk size") from None
            if size == 0:
                while await self._until(b"\r\n", _MAX_HEAD):  # trailers, then a blank line
                    pass
                return True
            total += size
            if total > MAX_DISCARD:
                return False
            await self._skip(size + 2)

    async def _response(self) -> tuple[int, bool]:
        """Read one whole answer: (status, whether the connection can be reused)."""
        status, http11, headers = await self._head()
        tokens = {t.strip().lower() for t in headers.get(b"connection", b"").split(b",")}
        reusable = b"close" not in tokens if http11 else b"keep-alive" in tokens
        if status in (204, 304) or status == 101:
            return status, reusable and status != 101
        encoding = headers.get(b"transfer-encoding")
        length = headers.get(b"content-length")
        if encoding is not None:
            if encoding.split(b",")[-1].strip().lower() != b"chunked":
                return status, False  # delimited by close: do not wait for it
            return status, await self._chunked() and reusable
        if length is None:
            return status, False  # delimited by close
        try:
            sizes = {int(v) for v in length.split(b",")}
        except ValueError:
            raise ProtocolError("bad Content-Length") from None
        if len(sizes) != 1 or (size := sizes.pop()) < 0:
            raise ProtocolError("bad Content-Length")
        if size > MAX_DISCARD:
            return status, False
        await self._skip(size)
        return status, reusable

    async def exchange(self, request: bytes) -> tuple[int, bool]:
        """Send *request*; (status, reusable). ``ConnectionResetError`` if closed before a byte."""
        if self.transport is None or not self.open:
            raise ConnectionResetError("connection closed by the server")
        self.buf.clear()
        self.received = 0
        self.busy = True
        try:
            self.transport.write(request)
            status, reusable = await self._response()
        finally:
            self.busy = False
        if self.buf or self._paused:  # bytes beyond the answer: the framing is off
            reusable = False
        return status, reusable and self.open
