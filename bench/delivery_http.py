"""HTTP client cost per webhook POST: httpx, aiohttp and the worker's PooledSender.

    python3 bench/delivery_http.py [--requests 5000] [--concurrency 1 16 64]
                                   [--legacy-rev COMMIT]

Every client POSTs the same 1.5 KB signed-looking body to a bare HTTP/1.1 server in
another process (``delivery_receiver.py null``), with that many requests in flight
over keep-alive connections, one event loop. Printed: requests/s and this
process's CPU per request, i.e. what each client costs the delivery worker, and
both as a ratio to httpx measured in the same run (the baseline, so that runs on
a busy machine stay comparable). ``--legacy-rev`` also measures the sender as it
was at that commit (e.g. with its hand-written parser), loaded from git.
aiohttp is measured if it is installed (``pip install aiohttp``; it is not a
dependency of the project).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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


async def _aiohttp(url: str, n: int, concurrency: int) -> tuple[float, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post() -> int:
            async with session.post(url, data=BODY, headers=HEADERS) as resp:
                await resp.read()
                return resp.status

        return await _drive(post, n, concurrency)


def _pooled_with(sender_class: Any) -> Callable[[str, int, int], Awaitable[tuple[float, float]]]:
    async def run(url: str, n: int, concurrency: int) -> tuple[float, float]:
        sender = sender_class(max_per_origin=concurrency)
        try:
            return await _drive(lambda: sender.post(url, BODY, HEADERS), n, concurrency)
        finally:
            await sender.aclose()

    return run


def _legacy_sender(rev: str, work: Path) -> Any:
    """``PooledSender`` as it was at *rev*, imported from its files in git."""
    package = work / "legacy_sender"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("_http.py", "_http11.py"):
        source = subprocess.run(
            ["git", "show", f"{rev}:lumenlater_sdk/backend/delivery/{name}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        (package / name).write_text(source)
    sys.path.insert(0, str(work))
    return importlib.import_module("legacy_sender._http").PooledSender


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--legacy-rev", help="also measure PooledSender as at this commit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        clients: list[tuple[str, Callable[[str, int, int], Awaitable[tuple[float, float]]]]]
        clients = [("httpx.AsyncClient", _httpx)]
        if args.legacy_rev:
            legacy = _legacy_sender(args.legacy_rev, Path(work))
            clients.append((f"PooledSender@{args.legacy_rev[:7]}", _pooled_with(legacy)))
        clients.append(("PooledSender", _pooled_with(PooledSender)))
        try:
            importlib.import_module("aiohttp")
            clients.append(("aiohttp", _aiohttp))
        except ImportError:
            print("(aiohttp is not installed: not measured)")
        server = ReceiverGroup("null", 1, "unused")
        try:
            print(f"{'client':>20} {'in flight':>9} {'req/s':>8} {'CPU us/req':>10}  vs httpx")
            for c in args.concurrency:
                base: tuple[float, float] | None = None
                for name, run in clients:
                    rate, cpu = asyncio.run(run(server.url, args.requests, c))
                    base = base or (rate, cpu)
                    ratio = f"{rate / base[0]:4.1f}x req/s, {cpu / base[1]:4.2f}x CPU"
                    print(f"{name:>20} {c:9d} {rate:8,.0f} {cpu:10.0f}  {ratio}")
        finally:
            server.close()


if __name__ == "__main__":
    main()
