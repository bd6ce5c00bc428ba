"""HTTP client cost per webhook POST: httpx.AsyncClient vs the worker's PooledSender.

    python3 bench/delivery_http.py [--requests 5000] [--concurrency 1 16 64]

Both POST the same 1.5 KB signed-looking body to a bare HTTP/1.1 server in another
process (``delivery_receiver.py null``), with that many requests in flight over
keep-alive connections, one event loop. Printed: requests/s and this process's CPU
per request, i.e. what each client costs the delivery worker.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from delivery_receiver import ReceiverGroup

from lumenlater_sdk.backend.delivery._http import PooledSender

BODY = b'{"id":"evt_bench","bench_t":0,' + b'"pad":"' + b"x" * 1500 + b'"}'
HEADERS = [
    ("Content-Type", "application/json"),
    ("User-Agent", "LumenLater-Webhooks/1.0"),
    ("X-LumenLater-Event-Id", "evt_0123456789abcdefghij"),
    ("X-LumenLater-Event-Type", "bill.paid"),
    ("X-LumenLater-Delivery-Attempt", "1"),
    ("X-LumenLater-Signature", "t=1700000000,v1=" + "a" * 64),
]


Post = Callable[[], Awaitable[int]]


async def _drive(post: Post, n: int, concurrency: int) -> tuple[float, float]:
    async def worker(k: int) -> None:
        for _ in range(k):
            assert await post() == 200

    await asyncio.gather(*(worker(20) for _ in range(concurrency)))  # connect, warm up
    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    done = n // concurrency * concurrency
    return done / wall, cpu / done * 1e6


async def _httpx(url: str, n: int, concurrency: int) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def post() -> int:
            return (await client.post(url, content=BODY, headers=HEADERS)).status_code

        return await _drive(post, n, concurrency)


async def _pooled(url: str, n: int, concurrency: int) -> tuple[float, float]:
    sender = PooledSender(max_per_origin=concurrency)
    try:
        return await _drive(lambda: sender.post(url, BODY, HEADERS), n, concurrency)
    finally:
        await sender.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    args = parser.parse_args()
    server = ReceiverGroup("null", 1, "unused")
    try:
        for c in args.concurrency:
            for name, run in (("httpx.AsyncClient", _httpx), ("PooledSender", _pooled)):
                rate, cpu = asyncio.run(run(server.url, args.requests, c))
                print(f"{name:>17} in flight {c:3d}: {rate:7,.0f} req/s, {cpu:5.0f} us CPU/req")
    finally:
        server.close()


if __name__ == "__main__":
    main()
