"""The worker's HTTP/1.1 client against a scripted raw server: framing, reuse, limits, faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

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


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


@contextlib.asynccontextmanager
async def serve(script: Script) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script.connections += 1
        script.open_now += 1
        script.most_open = max(script.most_open, script.open_now)
        try:
            while (request := await _read_request(reader)) is not None:
                script.requests.append(request)
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
        b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\nContent-Length: 5\r\n\r\nhello",
    ],
    ids=["chunked", "100-continue", "204", "repeated-length"],
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
    ],
    ids=["close-delimited", "connection-close", "huge-body"],
)
async def test_framings_that_close_the_connection(answer: bytes) -> None:
    script = Script(lambda n: answer, close_after_answer=True)
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
        while await _read_request(reader) is not None:
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


async def test_garbage_is_a_protocol_error() -> None:
    async with serve(Script(lambda n: b"SMTP ready\r\n\r\n")) as url:
        sender = PooledSender()
        with pytest.raises(ProtocolError):
            await sender.post(url, b"{}", HEADERS)
        await sender.aclose()


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
