"""webhook_verify.py's load test as instruction counts (valgrind): what WebhookApp costs
per delivery over the bare ASGI app, under uvicorn's httptools protocol, without the load.

    python bench/webhook_asgi_instructions.py                      # every kind
    python bench/webhook_asgi_instructions.py --against /tmp/base  # also a baseline checkout
    python bench/webhook_asgi_instructions.py --app-only           # the ASGI app alone

Each kind runs in a process of its own under callgrind. The server side is the one the
load test runs: ``uvicorn.Config(app, http="httptools")`` loaded (so with uvicorn's
ProxyHeadersMiddleware), its ``HttpToolsProtocol`` on a uvloop loop (uvicorn's
``loop="auto"`` picks uvloop when installed), fed the load test's requests (signed 1 KB
bill.paid deliveries with distinct ids, as wrk sends them) one at a time, each awaited
until its answer is written. The transport only counts writes: what is left out is the
socket's syscalls, the same for every kind. Instructions are collected only inside one
``calliter_iternext`` that runs all the requests, so start-up and warm-up do not count.
Kinds as in the load test: bare (an ASGI app calling construct_event), webhook
(WebhookApp, new events), dup (every event already handled), unhandled (no handler for
the type), dedupe (bare with a hand-written dedupe). ``--app-only`` drives the ASGI app
itself, each request one coroutine run to its end (no loop, no uvicorn): the framework's
own cost alone.

valgrind's CPU has no SHA extensions, so OpenSSL hashes each 1 KB body with about 40k
instructions where this machine's CPU runs SHA-NI: ratios are also printed without that
function (the hottest libcrypto one), the figure that tracks CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

KINDS = ["bare", "webhook", "dup", "unhandled", "dedupe"]


def _requests(count: int) -> list[bytes]:
    """*count* signed bill.paid deliveries with distinct ids, as raw HTTP/1.1 requests."""
    from webhook_verify import SECRET, bill_event

    from lumenlater_sdk.webhooks import sign

    template = bill_event()
    original_id = json.loads(template)["id"].encode()
    t = int(time.time())
    out = []
    for i in range(count):
        body = template.replace(original_id, b"evt_bench%015d" % i)
        out.append(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"X-LumenLater-Signature: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (sign(body, SECRET, t).encode(), len(body), body)
        )
    return out


def _app(kind: str, requests: list[bytes]) -> Any:
    """The load test's server app of this kind (webhook_verify.serve)."""
    from webhook_verify import SECRET, bare_app

    from lumenlater_sdk.webhooks import InMemoryEventStore, WebhookApp

    async def handler(event: Any) -> None:
        pass

    if kind in ("bare", "dedupe"):
        return bare_app(handler, dedupe=kind == "dedupe")
    store = InMemoryEventStore(max_done=10_000_000)
    app = WebhookApp(secret=SECRET, store=store)
    app.on("bill.repaid" if kind == "unhandled" else "bill.paid")(handler)
    if kind == "dup":
        for raw in requests:
            event_id = json.loads(raw.split(b"\r\n\r\n", 1)[1])["id"]
            store.complete(event_id, store.claim(event_id).token)
    return app


class _Transport(asyncio.Transport):
    """Takes the writes: the second of a request (its body) wakes the driver."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.answered: asyncio.Future[None] | None = None

    def write(self, data: Any) -> None:
        self.writes += 1
        if self.writes % 2 == 0 and self.answered is not None:
            self.answered.set_result(None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


def _served(kind: str, requests: list[bytes]) -> Any:
    """A function feeding a batch of requests to uvicorn's httptools protocol."""
    import uvicorn
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    config = uvicorn.Config(
        _app(kind, requests), http="httptools", log_level="warning", access_log=False
    )
    config.load()
    protocol = HttpToolsProtocol(config, ServerState(), {}, _loop=loop)
    transport = _Transport()
    protocol.connection_made(transport)

    async def feed(batch: list[bytes]) -> None:
        for raw in batch:
            transport.answered = loop.create_future()
            protocol.data_received(raw)
            await transport.answered

    return lambda batch: loop.run_until_complete(feed(batch))


def _app_only(kind: str, requests: list[bytes]) -> Any:
    """A function running the ASGI app itself on a batch, each request one coroutine."""
    app = _app(kind, requests)

    async def send(message: Any) -> None:
        pass

    def run(batch: list[bytes]) -> None:
        for raw in batch:
            head, body = raw.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")[1:]
            headers = [(k.lower(), v) for k, v in (line.split(b": ", 1) for line in lines)]
            message = {"type": "http.request", "body": body, "more_body": False}

            async def receive(message: Any = message) -> Any:
                return message

            scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
            try:
                app(scope, receive, send).send(None)
            except StopIteration:
                pass
            else:
                raise RuntimeError("the app waited for something")

    return run


def run_requests(kind: str, count: int, app_only: bool) -> None:
    """In the process valgrind runs: warm up, then the counted requests."""
    requests = _requests(count + 100)
    run = (_app_only if app_only else _served)(kind, requests)
    run(requests[:100])  # warm caches and pydantic-core's lazy parts, uncollected
    batch = requests[100:]
    collections.deque(itertools.islice(iter(lambda: run(batch), object()), 1), maxlen=0)


def count(kind: str, requests: int, sdk: str | None, app_only: bool) -> tuple[float, float]:
    """Instructions per request, and of them the SHA-256 block function's."""
    from webhook_instructions import callgrind

    command = [sys.executable, str(HERE), "--run", kind, "--requests", str(requests)]
    _, own = callgrind(["calliter_iternext"], command + (["--app-only"] if app_only else []), sdk)
    total = sum(cost for cost, _ in own)
    sha = max(cost for cost, name in own if "libcrypto" in name)
    return total / requests, sha / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--kinds", nargs="+", default=KINDS, choices=KINDS)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--against", metavar="DIR", help="baseline checkout, measured alike")
    parser.add_argument("--app-only", action="store_true", help="the ASGI app without uvicorn")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_requests(args.run, args.requests, args.app_only)
        return
    kinds = args.kinds if "bare" in args.kinds else ["bare", *args.kinds]
    sides = {"this": None} | ({"baseline": args.against} if args.against else {})
    jobs = [(side, kind, path) for side, path in sides.items() for kind in kinds]
    # Counts do not depend on what else runs, so the processes run side by side.
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        counted = pool.map(lambda j: count(j[1], args.requests, j[2], args.app_only), jobs)
        got = {(side, kind): c for (side, kind, _), c in zip(jobs, counted, strict=True)}
    where = "the ASGI app alone" if args.app_only else "uvicorn's httptools protocol on uvloop"
    print(
        f"instructions per request, valgrind --tool=callgrind, {args.requests} signed 1 KB "
        f"bill.paid deliveries with distinct ids through {where}; 'outside SHA' leaves out "
        "OpenSSL's SHA-256 block function"
    )
    for side in sides:
        bare, bare_sha = got[(side, "bare")]
        for kind in kinds:
            cost, sha = got[(side, kind)]
            print(
                f"  [{side}] {kind}: {cost:,.0f} = {cost / bare:.3f}x bare; outside SHA "
                f"{cost - sha:,.0f} = {(cost - sha) / (bare - bare_sha):.3f}x bare"
            )


if __name__ == "__main__":
    main()
