"""Real servers on loopback for the sender's tests: a receiver, an HTTP proxy, a TLS cert.

Each server runs on an event loop of its own in a thread, so that both the async
sender tests and the synchronous worker tests (``run_once`` runs its own loop) can
talk to it. Nothing here stands in for the sender: these are the other ends of
its connections, counting what reaches them.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class ServerThread:
    """``asyncio.start_server(handler)`` on 127.0.0.1, on a loop in its own thread."""

    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._ssl = ssl_context
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="test-server", daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the test server did not start"
        assert self._server is not None
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handler, "127.0.0.1", 0, ssl=self._ssl)
            self._ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()
        self.loop.close()

    def close(self) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """One request (head without the blank line, body by ``Content-Length``), or ``None``
    when the peer closed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head[:-4], await reader.readexactly(length)


def header(head: bytes, name: str) -> str | None:
    """The value of header *name* in a request or response head."""
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower().encode():
            return value.strip().decode("latin-1")
    return None


@dataclass
class Receiver:
    """Answers every request with *answer*; counts connections, keeps requests and SNI names."""

    answer: bytes = OK
    connections: int = 0
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while (request := await read_request(reader)) is not None:
                self.requests.append(request)
                writer.write(self.answer)
                await writer.drain()
        finally:
            writer.close()

    def serve(self, ssl_context: ssl.SSLContext | None = None) -> ServerThread:
        if ssl_context is not None:
            ssl_context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        return ServerThread(self.handle, ssl_context=ssl_context)


@dataclass
class HttpProxy:
    """A forward proxy: ``CONNECT`` tunnels and absolute-form requests, as squid does.

    With *credentials* (``user:password``) it answers 407 unless ``Proxy-Authorization``
    carries them. ``seen`` keeps every request line it was sent, ``authorizations``
    every ``Proxy-Authorization`` value, ``connections`` counts its clients.
    """

    credentials: str | None = None
    connect_status: int = 200
    seen: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    connections: int = 0

    def serve(self) -> ServerThread:
        return ServerThread(self.handle)

    def url(self, server: ServerThread) -> str:
        """The proxy's URL, credentials percent-encoded in it."""
        auth = ""
        if self.credentials:
            user, _, password = self.credentials.partition(":")
            auth = f"{quote(user, safe='')}:{quote(password, safe='')}@"
        return f"http://{auth}127.0.0.1:{server.port}"

    def _authorized(self, head: bytes) -> bool:
        value = header(head, "Proxy-Authorization")
        self.authorizations.append(value)
        if self.credentials is None:
            return True
        return value == "Basic " + base64.b64encode(self.credentials.encode()).decode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstreams: dict[str, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        try:
            while (request := await read_request(reader)) is not None:
                head, body = request
                method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ")
                self.seen.append(f"{method} {target}")
                if not self._authorized(head):
                    writer.write(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                    )
                    await writer.drain()
                    continue
                if method == "CONNECT":
                    await self._tunnel(target, reader, writer)
                    return
                await self._forward(head, body, target, upstreams, writer)
        finally:
            for _, up in upstreams.values():
                up.close()
            writer.close()

    async def _tunnel(
        self, authority: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self.connect_status != 200:
            writer.write(b"HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n\r\n" % self.connect_status)
            await writer.drain()
            return
        host, _, port = authority.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _forward(
        self,
        head: bytes,
        body: bytes,
        target: str,
        upstreams: dict[str, tuple[asyncio.StreamReader, asyncio.StreamWriter]],
        writer: asyncio.StreamWriter,
    ) -> None:
        assert target.startswith("http://"), f"not absolute form: {target}"
        authority, _, path = target[len("http://") :].partition("/")
        if authority not in upstreams:
            host, _, port = authority.rpartition(":")
            upstreams[authority] = await asyncio.open_connection(host.strip("[]"), int(port))
        up_reader, up_writer = upstreams[authority]
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ")[0]
        kept = [line for line in lines[1:] if not line.lower().startswith(b"proxy-")]
        up_writer.write(b"\r\n".join([method + b" /" + path.encode() + b" HTTP/1.1", *kept]))
        up_writer.write(b"\r\n\r\n" + body)
        answer_head = await up_reader.readuntil(b"\r\n\r\n")
        length = int(header(answer_head[:-4], "Content-Length") or 0)
        writer.write(answer_head + await up_reader.readexactly(length))
        await writer.drain()


def self_signed(*names: str) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for *names* (DNS names or IP addresses), its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class Tls:
    """A server context with a fresh self-signed certificate, and a client context that
    trusts it (and nothing else)."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def tls_pair(tmp_dir: str, *names: str) -> Tls:
    cert_pem, key_pem = self_signed(*names)
    cert_file, key_file = f"{tmp_dir}/cert.pem", f"{tmp_dir}/key.pem"
    with open(cert_file, "wb") as f:
        f.write(cert_pem)
    with open(key_file, "wb") as f:
        f.write(key_pem)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return Tls(server, client)
