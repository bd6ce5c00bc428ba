"""A TCP proxy in front of PostgreSQL that counts the client's round trips.

The server sends ReadyForQuery ('Z') once per Sync of the extended protocol and
once per simple query, and a client waits for it each time: whether psycopg runs a
statement alone or ends a pipeline batch with a Sync, one 'Z' is one round trip.

It also keeps :attr:`RoundTripCounter.log`: the SQL text of each statement the
client runs (a prepared one by the text it was prepared with), with
:data:`TRIP` after each round trip, in the order the proxy saw them; and the same
per connection in :attr:`RoundTripCounter.by_connection`, which tells a request's
statements from those a background task ran on another connection meanwhile.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit

TRIP = "-- round trip --"
"""The entry :attr:`RoundTripCounter.log` holds where the server answered a round trip."""


class RoundTripCounter:
    """Forwards connections to the server of *url*; :attr:`trips` counts every 'Z'."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._user = parts.username or "postgres"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = [self._listener]
        self.trips = 0
        self.log: list[str] = []
        self.by_connection: list[list[str]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database: str) -> str:
        """A URL for *database* through the proxy (no TLS: the bytes must be readable)."""
        port = self._listener.getsockname()[1]
        return (
            f"postgresql://{self._user}@127.0.0.1:{port}/{database}"
            "?sslmode=disable&gssencmode=disable"
        )

    def close(self) -> None:
        with self._lock:
            for s in self._sockets:
                s.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, server]
                own: list[str] = []
                self.by_connection.append(own)
            for args in ((client, server, False, own), (server, client, True, own)):
                threading.Thread(target=self._pipe, args=args, daemon=True).start()

    def _pipe(
        self, src: socket.socket, dst: socket.socket, from_server: bool, own: list[str]
    ) -> None:
        pending = b""
        started = from_server  # the client's first message (startup) has no type byte
        prepared: dict[bytes, str] = {}  # statement names are per connection
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    break
                if from_server:  # counted before the client can see it
                    pending = self._count(pending + data, own)
                else:
                    pending += data
                    if not started and len(pending) >= 4:
                        size = int.from_bytes(pending[:4], "big")
                        if len(pending) >= size:
                            pending, started = pending[size:], True
                    if started:
                        pending = self._read_client(pending, prepared, own)
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def _count(self, buf: bytes, own: list[str]) -> bytes:
        # Backend messages: a type byte, then a length that counts itself.
        while len(buf) >= 5:
            end = 1 + int.from_bytes(buf[1:5], "big")
            if len(buf) < end:
                break
            if buf[0:1] == b"Z":
                with self._lock:
                    self.trips += 1
                    self.log.append(TRIP)
                    own.append(TRIP)
            buf = buf[end:]
        return buf

    def _read_client(self, buf: bytes, prepared: dict[bytes, str], own: list[str]) -> bytes:
        # Frontend messages: Parse ('P': name, text), Bind ('B': portal, statement
        # name), simple Query ('Q': text). A statement is logged when it is bound.
        while len(buf) >= 5:
            end = 1 + int.from_bytes(buf[1:5], "big")
            if len(buf) < end:
                break
            kind, body = buf[0:1], buf[5:end]
            text = None
            if kind == b"P":
                name, _, rest = body.partition(b"\0")
                prepared[name] = rest.partition(b"\0")[0].decode()
            elif kind == b"B":
                statement = body.partition(b"\0")[2].partition(b"\0")[0]
                text = prepared.get(statement, "?")
            elif kind == b"Q":
                text = body.rstrip(b"\0").decode()
            if text is not None:
                with self._lock:
                    self.log.append(text)
                    own.append(text)
            buf = buf[end:]
        return buf
