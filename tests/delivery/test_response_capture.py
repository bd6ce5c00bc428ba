"""What each delivery attempt keeps of its answer (issue 15 part 6): the status, the
``content-type`` / ``location`` / ``retry-after`` headers and the body's first 2 KiB,
read as the answer is framed anyway (a kept-alive connection stays reusable), and for an
answer that closes the connection never waited on past half the attempt's time left.
Then the worker writes it, with the signature it sent, in the attempt log on both
databases, and the deliveries list returns it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from delivery_support import MERCHANT, SECRET_KEY, emit, prepare
from endpoint_support import Endpoints
from wire_support import Receiver, ServerThread, read_request

from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.delivery import RESPONSE_BODY_LIMIT, DeliveryWorker
from lumenlater_sdk.backend.delivery._http import PooledSender
from lumenlater_sdk.types import WebhookDelivery
from lumenlater_sdk.webhooks import verify_signature

HEADERS = [("Content-Type", "application/json"), ("X-LumenLater-Event-Id", "evt_1")]
JSON = b'{"error":"unknown order","order":"ord-7"}'
BIG = bytes(range(48, 58)) * 500  # 5,000 bytes of digits


def _answer(head: str, body: bytes = b"") -> bytes:
    return head.replace("\n", "\r\n").encode() + b"\r\n" + body


@pytest.mark.parametrize(
    ("answer", "headers", "body", "connections"),
    [
        (
            _answer(
                "HTTP/1.1 422 Unprocessable\nContent-Type: application/json\n"
                f"Content-Length: {len(JSON)}\nX-Other: x\n",
                JSON,
            ),
            [(b"content-type", b"application/json")],
            JSON,
            1,
        ),
        (
            _answer("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n")
            + b"%x\r\n%s\r\n0\r\n\r\n" % (len(BIG), BIG),
            [],
            BIG[:RESPONSE_BODY_LIMIT],
            1,
        ),
        (
            _answer("HTTP/1.1 100 Continue\nContent-Type: text/x-interim\n")
            + _answer("HTTP/1.1 201 Created\nContent-Type: text/plain\nContent-Length: 2\n", b"ok"),
            [(b"content-type", b"text/plain")],
            b"ok",
            1,
        ),
        (
            _answer(
                "HTTP/1.1 503 Busy\nRetry-After: 30\nContent-Type: text/plain\n"
                "Connection: close\nContent-Length: 4\n",
                b"busy",
            ),
            [(b"retry-after", b"30"), (b"content-type", b"text/plain")],
            b"busy",
            2,
        ),
        (
            _answer("HTTP/1.0 302 Found\nLocation: https://elsewhere.test/\n", BIG),
            [(b"location", b"https://elsewhere.test/")],
            BIG[:RESPONSE_BODY_LIMIT],
            2,
        ),
    ],
    ids=["keep-alive-json", "chunked-big", "after-100-continue", "close-framed", "close-delimited"],
)
async def test_the_answer_is_kept_as_it_is_framed(
    answer: bytes, headers: list[tuple[bytes, bytes]], body: bytes, connections: int
) -> None:
    receiver = Receiver(answer=answer)
    with receiver.serve() as server:
        sender = PooledSender()
        url = f"http://127.0.0.1:{server.port}/hooks"
        first = await sender.send(url, b"{}", HEADERS)
        second = await sender.send(url, b"{}", HEADERS)
        await sender.aclose()
    assert first == second
    assert first.headers == headers and first.body == body
    assert receiver.connections == connections  # kept-alive answers still reuse


def _slow(head: bytes, body: bytes | None) -> Callable[..., Awaitable[None]]:
    """A server that answers with *head*, then *body* a moment later (``None``: never)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(head)
        await writer.drain()
        await asyncio.sleep(0.1)
        if body is None:
            await asyncio.sleep(30)
        writer.write(body or b"")
        writer.close()

    return handle


async def test_a_closing_answer_s_body_that_comes_later_is_read() -> None:
    head = b"HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\n"
    with ServerThread(_slow(head, b"Traceback: it broke")) as server:
        sender = PooledSender()
        answer = await sender.send(f"http://127.0.0.1:{server.port}/", b"{}", HEADERS)
        await sender.aclose()
    assert (answer.status, answer.body) == (500, b"Traceback: it broke")


async def test_a_closing_answer_s_missing_body_never_costs_the_status() -> None:
    # The head came in time, the body never does: the attempt keeps its 200 (as before
    # bodies were kept), waiting at most half the time left before the caller gives up.
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\n"
    with ServerThread(_slow(head, None)) as server:
        sender = PooledSender()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.0
        async with asyncio.timeout_at(deadline):
            answer = await sender.send(f"http://127.0.0.1:{server.port}/", b"{}", HEADERS, deadline)
        await sender.aclose()
    assert (answer.status, answer.body) == (200, b"")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_attempt_log_keeps_the_signature_sent_and_the_answer(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'd.db'}"
        if database == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    body = b'{"error":"bad \x00 byte \xff"}' + b"x" * 3000
    answer = _answer(
        f"HTTP/1.1 400 Bad Request\nContent-Type: application/json\nContent-Length: {len(body)}\n",
        body,
    )
    receiver = Receiver(answer=answer)
    with connect(url) as db, receiver.serve() as server:
        prepare(db)
        endpoints = Endpoints(db)
        ep = endpoints.create(
            MERCHANT, url=f"http://127.0.0.1:{server.port}/hooks", enabled_events=["*"]
        )
        (event,) = emit(db, 1)
        with DeliveryWorker(db, secret_key=SECRET_KEY) as worker:
            assert worker.run_once() == 1
        (raw,) = endpoints.deliveries(MERCHANT, ep["id"])
    attempt = WebhookDelivery.model_validate(raw)
    assert attempt.status_code == 400 and attempt.error is None
    assert attempt.response_headers == {"content-type": "application/json"}
    assert attempt.response_body is not None
    assert attempt.response_body.startswith('{"error":"bad \ufffd byte \ufffd"}xxx')
    assert len(attempt.response_body.encode("utf-8")) == RESPONSE_BODY_LIMIT + 2 * 2
    # The signature kept is the one sent, and it signs the event's stored JSON.
    ((head, sent),) = receiver.requests
    assert sent == event["_payload"].encode()
    assert f"x-lumenlater-signature: {attempt.request_signature}".encode() in head.lower()
    assert attempt.request_signature is not None
    verify_signature(sent, attempt.request_signature, ep["secret"])
    json.dumps(raw)  # the list's object is plain JSON


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_no_answer_keeps_no_response(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from lumenlater_sdk._ports import free_port

    url = (
        f"sqlite:///{tmp_path / 'd.db'}"
        if database == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    with connect(url) as db:
        prepare(db)
        endpoints = Endpoints(db)
        ep = endpoints.create(
            MERCHANT, url=f"http://127.0.0.1:{free_port()}/hooks", enabled_events=["*"]
        )
        emit(db, 1)
        with DeliveryWorker(db, secret_key=SECRET_KEY) as worker:
            assert worker.run_once() == 1
        (raw,) = endpoints.deliveries(MERCHANT, ep["id"])
    assert raw["status_code"] is None and raw["error"].startswith("connection_error")
    assert raw["response_body"] is None and raw["response_headers"] is None
    assert raw["request_signature"].startswith("t=")
