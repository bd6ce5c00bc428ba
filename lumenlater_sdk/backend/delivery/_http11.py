"""One HTTP/1.1 client connection: write a POST, let llhttp frame the answer.

Only what a webhook sender needs: the status code, a few headers and the start of
the body for the attempt log (:data:`KEPT_HEADERS`, :data:`CAPTURE`), and reading
exactly the rest of the answer so the connection can carry the next request. The framing itself
(``Content-Length``, chunked, delimited by close, none for 1xx/204/304), the
header syntax and the request-smuggling refusals (a repeated or non-numeric
``Content-Length``, one beside ``Transfer-Encoding``) are llhttp's, the parser of
Node.js, through ``httptools`` (uvicorn's parser too), driven from
:meth:`Connection.data_received`; what a malformed answer makes it raise becomes
:class:`ProtocolError`. This module decides only what to do with an answer:
its body is dropped past its first :data:`CAPTURE` bytes, a keep-alive answer whose
body fits in ``MAX_DISCARD`` leaves the connection reusable, anything else closes it.
An answer that closes the connection (``Connection: close``, HTTP/1.0, a body
delimited by close) is settled once its body ends, its first :data:`CAPTURE` bytes
came, the server closed, or :data:`BODY_WAIT` passed after the head (never more than
half the time left before the caller's *deadline*), whichever is first: the status
never waits on the body.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools

__all__ = [
    "BODY_WAIT",
    "CAPTURE",
    "KEPT_HEADERS",
    "MAX_DISCARD",
    "Connection",
    "ProtocolError",
    "encode_request",
]

CAPTURE = 2048
"""Response body bytes kept for the attempt log."""

KEPT_HEADERS = frozenset((b"content-type", b"location", b"retry-after"))
"""Response headers kept for the attempt log (lower case): what explains an answer."""

BODY_WAIT = 0.5
"""Seconds an answer that closes the connection may take, after its head, to send the
first :data:`CAPTURE` bytes of its body."""

MAX_DISCARD = 64 * 1024
"""Response body bytes read (and dropped) to keep a connection; a bigger answer closes it."""

_MAX_HEAD = 64 * 1024
"""Bytes an answer may take before its head is complete (1xx heads included)."""
_HIGH_WATER = 4 * (MAX_DISCARD + _MAX_HEAD)
"""Bytes of one answer (head, chunk framing, trailers, body) at which reading stops and
the connection is given up, however the answer is framed: a server trickling
one-byte chunks with long extensions does not keep us parsing."""


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
    """A keep-alive connection; :meth:`exchange` sends one request and reads its answer.

    The parser is fed as bytes arrive and settles the pending answer (a future) from
    its callbacks; between exchanges no byte is expected, and one that comes anyway
    retires the connection.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.eof = False
        self.idle_since = 0.0
        self.received = 0  # bytes of the current answer so far: 0 means "nothing came back"
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[tuple[int, bool]] | None = None
        self._status = 0
        self._body = 0
        self._head_done = False
        self._tunnel = False  # answering a CONNECT: the head is the whole answer
        self._closing = False  # a head that closes the connection came: its body is awaited
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        """The current answer's :data:`KEPT_HEADERS` (lower-case names)."""
        self.chunks: list[bytes] = []
        """The first :data:`CAPTURE` bytes of the current answer's body."""
        self._kept = 0

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        answer = self._answer
        if answer is None or answer.done():  # bytes nobody asked for: not to be trusted
            self._retire()
            return
        self.received += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ProtocolError("the server switched protocols (101) on a webhook POST"))
        except httptools.HttpParserError as exc:
            if answer.done():  # what followed a whole answer is not HTTP: keep the answer
                self._retire()
            else:
                self._fail(ProtocolError(f"malformed response: {exc}"))
        else:
            if answer.done():
                return
            if self._closing and self._timer is None:
                self._arm()
            if not self._head_done and self.received > _MAX_HEAD:
                self._fail(ProtocolError("response head too large"))
            elif self.received > _HIGH_WATER:
                if self.transport is not None:
                    self.transport.pause_reading()  # no more of this answer is read
                self._settle(self._status, reusable=False)

    def eof_received(self) -> bool:
        self.eof = True
        self._closed()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self._closed()

    def _closed(self) -> None:
        if self._closing:  # the answer ends where the server closed
            self._settle(self._status, reusable=False)
        else:
            self._fail(ConnectionResetError("connection closed by the server"))

    def _arm(self) -> None:
        """Settle a closing answer after :data:`BODY_WAIT`, or half the time left."""
        loop = asyncio.get_running_loop()
        wait = BODY_WAIT
        if self._deadline is not None:
            wait = min(wait, max(0.0, (self._deadline - loop.time()) / 2))
        self._timer = loop.call_later(wait, self._settle_closing)

    def _settle_closing(self) -> None:
        self._settle(self._status, reusable=False)

    # -- llhttp callbacks (httptools calls only those defined) ----------------------

    def on_message_begin(self) -> None:
        answer = self._answer
        if answer is None or answer.done():  # a second answer to one request
            self._retire()

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in KEPT_HEADERS:
            self.headers.append((name, value[:200]))

    def on_headers_complete(self) -> None:
        status = self._status = self._parser.get_status_code()
        if self._tunnel:
            self._settle(status, reusable=True)
        elif status >= 200:
            self._head_done = True
            # ``Connection: close``, HTTP/1.0, or a body delimited by close: the
            # connection is not reused, so only the body's first CAPTURE bytes are awaited.
            self._closing = not self._parser.should_keep_alive()
        else:
            self.headers = []  # a 1xx's headers are not the answer's

    def on_body(self, body: bytes) -> None:
        self._body += len(body)
        if self._kept < CAPTURE:
            piece = body[: CAPTURE - self._kept]
            self.chunks.append(piece)
            self._kept += len(piece)
            if self._closing and self._kept >= CAPTURE:
                self._settle(self._status, reusable=False)
        if self._body > MAX_DISCARD:
            self._settle(self._status, reusable=False)

    def on_message_complete(self) -> None:
        # 1xx (100 Continue, 103 Early Hints): informational, the answer follows; a
        # 101 ends in ``HttpParserUpgrade`` instead.
        if self._status >= 200:
            self._settle(self._status, reusable=self._parser.should_keep_alive())

    # -- settling the pending answer -----------------------------------------------

    def _settle(self, status: int, *, reusable: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        answer = self._answer
        if answer is not None and not answer.done():
            answer.set_result((status, reusable))
            if not reusable:
                self.close()  # read nothing more of an answer we give up on

    def _fail(self, exc: Exception) -> None:
        answer = self._answer
        if answer is not None and not answer.done():
            answer.set_exception(exc)
        self.close()

    def _retire(self) -> None:
        self.eof = True
        self.close()

    # -- state ---------------------------------------------------------------------

    @property
    def open(self) -> bool:
        """Usable for another request: not closed by either side (seen without a syscall)."""
        return not self.eof and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- requests ------------------------------------------------------------------

    async def _send(self, request: bytes, deadline: float | None = None) -> tuple[int, bool]:
        if self.transport is None or not self.open:
            raise ConnectionResetError("connection closed by the server")
        self.received = self._body = self._status = self._kept = 0
        self._head_done = self._closing = False
        self._deadline = deadline
        self.headers = []
        self.chunks = []
        answer: asyncio.Future[tuple[int, bool]] = asyncio.get_running_loop().create_future()
        self._answer = answer
        try:
            self.transport.write(request)
            return await answer
        finally:
            self._answer = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    async def exchange(self, request: bytes, deadline: float | None = None) -> tuple[int, bool]:
        """Send *request*; (status, reusable). ``ConnectionResetError`` if closed before a byte.

        The answer's kept headers and body start are then in :attr:`headers` and
        :attr:`chunks`. *deadline* (the loop's clock) bounds the wait for the body of an
        answer that closes the connection to half the time left.
        """
        status, reusable = await self._send(request, deadline)
        return status, reusable and self.open

    async def tunnel(self, request: bytes) -> int:
        """Send a ``CONNECT`` *request* to a proxy; the status of its answer's head.

        A 2xx turns the connection into a tunnel: the parser is replaced by a new
        one for the answers that come through it (after TLS is started on it).
        """
        self._tunnel = True
        try:
            status, _ = await self._send(request)
        finally:
            self._tunnel = False
        self._parser = httptools.HttpResponseParser(self)
        return status
