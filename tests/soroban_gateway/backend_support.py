"""A whole backend with ``chain="soroban"`` served over loopback, and a TCP proxy that can
cut the backend off its Soroban RPC endpoint and put it back."""

from __future__ import annotations

import secrets
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from lumenlater_sdk._ports import free_port
from lumenlater_sdk._serving import ThreadedServer
from lumenlater_sdk.backend.app import Backend, create_app
from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.testing import SandboxHandle, soroban_options

__all__ = ["Served", "TcpProxy", "serve_backend", "soroban_config", "tcp_proxy"]


def soroban_config(chain: SandboxHandle, tmp: Path, **extra: object) -> BackendConfig:
    """A soroban-chain backend's configuration on *chain*'s RPC (its fee payer funded by
    ``lumenlater_fund``)."""
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp / 'backend.db'}",
        "secret_key": secrets.token_hex(32),
        "port": free_port(),
        "run_delivery": False,
        "rate_limit": False,
        "log_requests": False,
        "tick_interval": 3600,
        **soroban_options(f"{chain.base_url}/soroban/rpc", tmp),
    }
    values.update(extra)
    return BackendConfig(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Served:
    """A running soroban-chain backend: an authorised client, the backend, its merchant
    (on chain) and that merchant's API key."""

    client: httpx.Client
    backend: Backend
    merchant_id: str
    api_key: str
    base_url: str


@contextmanager
def serve_backend(chain: SandboxHandle, tmp: Path, **extra: object) -> Iterator[Served]:
    """Serve a soroban-chain backend with one merchant, made as the sandbox makes one."""
    cfg = soroban_config(chain, tmp, **extra)
    backend = Backend(cfg)
    # Over the chain's lumenlater_* methods: the merchant enrolls itself (a transaction
    # this backend sends) and the chain's admin approves it.
    merchant = backend.create_merchant("Chain Shop")
    key = merchant.secret_key
    server = ThreadedServer(create_app(cfg, backend=backend), cfg.port, lifespan="on").start()
    client = httpx.Client(
        base_url=cfg.base_url, timeout=60, headers={"Authorization": f"Bearer {key}"}
    )
    try:
        yield Served(client, backend, merchant.merchant_id, key, cfg.base_url)
    finally:
        client.close()
        server.stop()
        backend.close()


class TcpProxy:
    """A loopback TCP proxy to *upstream* (``http://host:port/...``) that can be closed
    (the port refuses connections and every open connection is cut) and opened again on
    the same port: an RPC node going down and coming back, as a client sees it."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname is not None and parts.port is not None
        self._upstream = (parts.hostname, parts.port)
        self._path = parts.path
        self.port = free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self.connections = 0

    @property
    def url(self) -> str:
        """The upstream URL, through the proxy."""
        return f"http://127.0.0.1:{self.port}{self._path}"

    def open(self) -> None:
        """Listen again (on the same port)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Stop listening and cut every connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            open_sockets, self._sockets = self._sockets, set()
        if listener is not None:
            _shut(listener)
        for s in open_sockets:
            _shut(s)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self._upstream, timeout=10)
            except OSError:
                _shut(client)
                continue
            with self._lock:
                if self._listener is not listener:
                    _shut(client)
                    _shut(upstream)
                    return
                self._sockets |= {client, upstream}
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._sockets -= {a, b}
            _shut(a)
            _shut(b)


def _shut(s: socket.socket) -> None:
    with suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()


@contextmanager
def tcp_proxy(upstream: str) -> Iterator[TcpProxy]:
    """An open :class:`TcpProxy` to *upstream*, closed on exit."""
    proxy = TcpProxy(upstream)
    proxy.open()
    try:
        yield proxy
    finally:
        proxy.close()
