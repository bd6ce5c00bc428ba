"""The worker's HTTP/1.1 client against a scripted raw server: framing, reuse, limits, faults.

Answers are framed by llhttp (httptools); these tests pin what the sender does with
each kind: which keep the connection (counted on the server), which close it, which
are refused as malformed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from delivery_support import MERCHANT, SECRET_KEY, emit, prepare
from endpoint_support import Endpoints
from wire_support import Receiver, read_request

from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.delivery import DeliveryWorker
from lumenlater_sdk.backend.delivery._http import PooledSender, _parse
from lumenlater_sdk.backend.delivery._http11 import MAX_DISCARD, ProtocolError, encode_request

HEADERS = [("Content-Type", "application/json"), ("X-LumenLater-Event-Id", "evt_1")]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class Script:
    """A server that answers the n-th request with ``answer(n)`` (``None``: close at once)."""

    answer: Callable[[int], bytes | None]
    delay: float = 0.0
    close_after_answer: bool = False
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0


@contextlib.asynccontextmanager
async def serve(script: Script) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script.connections += 1
        script.open_now += 1
        script.most_open = max(script.most_open, script.open_now)
        try:
            while (request := await read_request(reader)) is not None:
                script.requests.append(b"\r\n\r\n".join(request))
                answer = script.answer(len(script.requests))
                await asyncio.sleep(script.delay)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if script.close_after_answer:
                    break
        finally:
            script.open_now -= 1
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hooks?x=1"
    finally:
        server.close()


async def test_keep_alive_reuses_one_connection_and_sends_exact_bytes() -> None:
    script = Script(lambda n: OK)
    async with serve(script) as url:
        sender = PooledSender()
        assert [await sender.post(url, b'{"a":1}', HEADERS) for _ in range(3)] == [200] * 3
        await sender.aclose()
    assert script.connections == 1
    head, body = script.requests[0].split(b"\r\n\r\n")
    assert body == b'{"a":1}'
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /hooks?x=1 HTTP/1.1"
    assert lines[1].startswith(b"Host: 127.0.0.1:")
    assert b"Content-Length: 7" in lines and b"X-LumenLater-Event-Id: evt_1" in lines


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n" % MAX_DISCARD + b"x" * MAX_DISCARD,
        b"HTTP/1.0 201 Created\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (n, b"y" * n) for n in (1, 1000, 60_000))
        + b"0\r\n\r\n",
    ],
    ids=[
        "chunked",
        "100-continue",
        "204",
        "content-length",
        "body-of-max-discard",
        "http10-keep-alive",
        "early-hints-then-chunks",
    ],
)
async def test_framings_that_keep_the_connection(answer: bytes) -> None:
    script = Script(lambda n: answer)
    async with serve(script) as url:
        sender = PooledSender()
        assert await sender.post(url, b"{}", HEADERS) in (201, 204)
        assert await sender.post(url, b"{}", HEADERS) in (201, 204)
        await sender.aclose()
    assert script.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.0 202 Accepted\r\n\r\nuntil close",
        b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n" % (MAX_DISCARD + 1)
        + b"x" * (MAX_DISCARD + 1),
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"8000\r\n%s\r\n" % (b"z" * 0x8000) * 3
        + b"0\r\n\r\n",
        b"HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\n\r\nuntil close",
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: gzip\r\n\r\nuntil close",
    ],
    ids=[
        "http10-close-delimited",
        "connection-close",
        "huge-body",
        "huge-chunked-body",
        "http11-close-delimited",
        "not-chunked-encoding",
    ],
)
async def test_framings_that_close_the_connection(answer: bytes) -> None:
    script = Script(lambda n: answer, close_after_answer=True)
    async with serve(script) as url:
        sender = PooledSender()
        assert await sender.post(url, b"{}", HEADERS) == 202
        assert await sender.post(url, b"{}", HEADERS) == 202
        await sender.aclose()
    assert script.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n" % (MAX_DISCARD + 1)
        + b"x" * (MAX_DISCARD + 1),
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"1;%s\r\nz\r\n" % (b"e" * 1000) * 2000
        + b"0\r\n\r\n",
    ],
    ids=["connection-close", "huge-body", "chunk-framing-past-the-high-water-mark"],
)
async def test_the_sender_closes_what_it_will_not_drain_even_if_the_server_would_not(
    answer: bytes,
) -> None:
    script = Script(lambda n: answer)  # the server keeps every connection open
    async with serve(script) as url:
        sender = PooledSender()
        assert await sender.post(url, b"{}", HEADERS) == 202
        assert await sender.post(url, b"{}", HEADERS) == 202
        await sender.aclose()
    assert script.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_not_used() -> None:
    script = Script(lambda n: OK, close_after_answer=True)
    async with serve(script) as url:
        sender = PooledSender()
        assert await sender.post(url, b"{}", HEADERS) == 200
        await asyncio.sleep(0.05)  # the server's close reaches us
        assert await sender.post(url, b"{}", HEADERS) == 200
        await sender.aclose()
    assert (len(script.requests), script.connections) == (2, 2)


async def test_a_reused_connection_dropped_without_an_answer_is_retried_once() -> None:
    # The second request races the server's idle close: it is dropped unanswered,
    # so it goes out again on a new connection.
    script = Script(lambda n: None if n == 2 else OK)
    async with serve(script) as url:
        sender = PooledSender()
        assert await sender.post(url, b"{}", HEADERS) == 200
        assert await sender.post(url, b"{}", HEADERS) == 200
        await sender.aclose()
    assert (len(script.requests), script.connections) == (3, 2)


async def test_bytes_sent_on_an_idle_connection_retire_it() -> None:
    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(OK)
            await asyncio.sleep(0.02)
            writer.write(b"HTTP/1.1 200 OK\r\n")  # unasked-for bytes while idle

    server = await asyncio.start_server(chatty, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    sender = PooledSender()
    assert await sender.post(url, b"{}", HEADERS) == 200
    await asyncio.sleep(0.1)
    assert await sender.post(url, b"{}", HEADERS) == 200  # on a new connection, not misread
    await sender.aclose()
    server.close()


async def test_idle_connections_of_every_origin_expire() -> None:
    first, second = Script(lambda n: OK), Script(lambda n: OK)
    async with serve(first) as url1, serve(second) as url2:
        sender = PooledSender(keepalive_expiry=0.05)
        assert await sender.post(url1, b"{}", HEADERS) == 200
        await asyncio.sleep(0.1)
        assert await sender.post(url2, b"{}", HEADERS) == 200  # sweeps the first origin
        await asyncio.sleep(0.05)
        assert first.open_now == 0 and second.open_now == 1
        await sender.aclose()


async def test_a_fresh_connection_dropped_without_an_answer_is_an_error() -> None:
    script = Script(lambda n: None)
    async with serve(script) as url:
        sender = PooledSender()
        with pytest.raises(ConnectionError):
            await sender.post(url, b"{}", HEADERS)
        await sender.aclose()
    assert len(script.requests) == 1  # not sent twice


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"SMTP ready\r\n\r\n", "Expected HTTP/"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "Invalid response status"),
        (
            b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\nContent-Length: 5\r\n\r\nhello",
            "Duplicate Content-Length",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            "Transfer-Encoding can't be present with Content-Length",
        ),
        (b"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\n\r\n", "header value"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\n\r\n",
            "switched protocols",
        ),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (70 * 1024), "head too large"),
    ],
    ids=[
        "not-http",
        "bad-status",
        "repeated-length",
        "negative-length",
        "length-and-chunked",
        "control-in-header",
        "bad-chunk-size",
        "upgrade",
        "endless-head",
    ],
)
async def test_malformed_answers_are_protocol_errors(answer: bytes, reason: str) -> None:
    script = Script(lambda n: answer)
    async with serve(script) as url:
        sender = PooledSender()
        for _ in range(2):
            with pytest.raises(ProtocolError, match=reason):
                await sender.post(url, b"{}", HEADERS)
        await sender.aclose()
    assert script.connections == 2  # a connection that broke is not reused


async def test_a_second_answer_to_one_request_retires_the_connection() -> None:
    script = Script(lambda n: OK + OK if n == 1 else OK)
    async with serve(script) as url:
        sender = PooledSender()
        assert await sender.post(url, b"{}", HEADERS) == 200
        await asyncio.sleep(0.05)
        assert await sender.post(url, b"{}", HEADERS) == 200
        await sender.aclose()
    assert script.connections == 2


async def test_connection_refused_raises_oserror() -> None:
    from lumenlater_sdk._ports import free_port

    sender = PooledSender()
    with pytest.raises(OSError):
        await sender.post(f"http://127.0.0.1:{free_port()}/", b"{}", HEADERS)


async def test_at_most_max_per_origin_connections_and_all_requests_served() -> None:
    script = Script(lambda n: OK, delay=0.05)
    async with serve(script) as url:
        sender = PooledSender(max_per_origin=2)
        results = await asyncio.gather(*(sender.post(url, b"{}", HEADERS) for _ in range(6)))
        await sender.aclose()
    assert results == [200] * 6
    assert script.most_open == 2


async def test_a_timed_out_request_frees_its_slot() -> None:
    script = Script(lambda n: OK, delay=0.3)
    async with serve(script) as url:
        sender = PooledSender(max_per_origin=1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sender.post(url, b"{}", HEADERS), 0.05)
        script.delay = 0.0
        assert await asyncio.wait_for(sender.post(url, b"{}", HEADERS), 2) == 200
        await sender.aclose()


def test_request_encoding_refuses_line_breaks_and_escapes_targets() -> None:
    with pytest.raises(ValueError):
        encode_request(b"/", b"h", [("X-Evil", "a\r\nX-Injected: 1")], b"")
    target = _parse("https://bücher.example:8443/a b/ü?q=1 2&r=%41")
    assert target.origin == ("https", "xn--bcher-kva.example", 8443)
    assert target.host == b"xn--bcher-kva.example:8443"
    assert target.path == b"/a%20b/%C3%BC?q=1%202&r=%41"
    assert _parse("http://[::1]/").host == b"[::1]"
    assert _parse("http://user:pw@example.com").path == b"/"


def test_a_malformed_answer_is_a_failed_attempt_retried_on_the_schedule(tmp_path: Path) -> None:
    receiver = Receiver(answer=b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
    with connect(f"sqlite:///{tmp_path / 'd.db'}") as db, receiver.serve() as server:
        prepare(db)
        endpoints = Endpoints(db)
        url = f"http://127.0.0.1:{server.port}/hooks"
        ep = endpoints.create(MERCHANT, url=url, enabled_events=["*"])
        emit(db, 1)
        with DeliveryWorker(db, secret_key=SECRET_KEY) as worker:
            assert worker.run_once() == 1
        (attempt,) = endpoints.deliveries(MERCHANT, ep["id"])
    assert attempt["status_code"] is None and attempt["next_attempt_at"] is not None
    assert attempt["error"] == (
        "ProtocolError: malformed response: Invalid character in Content-Length"
    )
    assert len(receiver.requests) == 1
