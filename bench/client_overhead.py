"""Per-call cost of the SDK client against raw httpx doing the same request.

Usage: python3 bench/client_overhead.py [--calls N] [--rounds R]

Two setups, each for ``bills.retrieve`` (GET) and ``bills.create`` (POST):

- loopback: a tiny ASGI app under uvicorn in a subprocess on 127.0.0.1 answers a canned
  Bill; the SDK and a raw ``httpx.Client`` (same headers, same body, a fresh
  Idempotency-Key per POST, ``response.json()`` on the answer) call it.
- in-process: both go through the same ``httpx.MockTransport`` (no sockets), which
  isolates the SDK's own work (request building, retry loop, model parsing).

SDK and raw calls alternate in rounds so drift affects both alike. Prints calls/s, p50
and p99 latency per side, and SDK/raw: the median over rounds of the ratio of total time
(goals: <= 1.10 over loopback, <= 1.5 in-process), plus the ratio of the p50s.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from lumenlater_sdk import LumenLater
from lumenlater_sdk._ports import free_port, wait_for_port
from lumenlater_sdk._version import API_VERSION

CUSTOMER = "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7"
BILL = {
    "id": "bill_1", "object": "bill", "created": 1_700_000_000, "livemode": False,
    "metadata": {"order": "o-1"}, "customer": CUSTOMER,
    "merchant": "GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H",
    "amount": 999_900_000, "currency": "usdc", "status": "created", "order_id": "o-1",
    "description": None, "expires_at": 1_700_086_400, "paid_at": None,
    "grace_period_ends_at": None, "liquidatable_at": None, "late_fee": 0,
    "amount_due": 999_900_000, "repaid_at": None, "liquidated_at": None,
    "chain": {"contract_id": "C" * 56, "bill_number": 7, "tx_hash": "ab" * 32, "ledger": 9},
}  # fmt: skip
BILL_BYTES = json.dumps(BILL).encode()
API_KEY = "sk_test_bench"
HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "LumenLater-Version": API_VERSION,
    "User-Agent": "lumenlater-python/bench",
    "Accept": "application/json",
    "X-LumenLater-Retry-Count": "0",
}
CREATE_BODY = {"customer": CUSTOMER, "amount": 999_900_000, "order_id": "o-1"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raw ASGI: a canned Bill for GET /v1/bills/{id} and POST /v1/bills."""
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the request body
        more = (await receive()).get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"request-id", b"req_bench"),
                (b"content-length", str(len(BILL_BYTES)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BILL_BYTES})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def wait_for(port: int) -> None:
    if not wait_for_port(port, timeout=15):
        raise SystemExit("benchmark server did not start")


def measure(fn: Callable[[], Any], n: int, out: list[int]) -> None:
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)


def compare(
    label: str,
    sdk: Callable[[], Any],
    raw: Callable[[], Any],
    calls: int,
    rounds: int,
) -> float:
    """Time both sides in alternating rounds; the ratio is the median of per-round ratios,
    which keeps a load spike on a shared machine from landing on one side only."""
    for f in (sdk, raw):  # warm-up: connections, caches, lazy imports
        measure(f, 200, [])
    s_times: list[int] = []
    r_times: list[int] = []
    round_ratios: list[float] = []
    per = max(calls // rounds, 1)
    for i in range(rounds):
        s_chunk: list[int] = []
        r_chunk: list[int] = []
        gc.collect()
        if i % 2:
            measure(sdk, per, s_chunk)
            measure(raw, per, r_chunk)
        else:
            measure(raw, per, r_chunk)
            measure(sdk, per, s_chunk)
        round_ratios.append(sum(s_chunk) / sum(r_chunk))
        s_times += s_chunk
        r_times += r_chunk

    def stats(t: list[int]) -> tuple[float, float, float]:
        t = sorted(t)
        return 1e9 * len(t) / sum(t), t[len(t) // 2] / 1e3, t[int(len(t) * 0.99)] / 1e3

    s, r = stats(s_times), stats(r_times)
    ratio = statistics.median(round_ratios)
    print(
        f"{label:<26} SDK {s[0]:7.0f}/s p50 {s[1]:7.1f}us p99 {s[2]:7.1f}us | "
        f"raw {r[0]:7.0f}/s p50 {r[1]:7.1f}us p99 {r[2]:7.1f}us | "
        f"SDK/raw {ratio:.3f} (p50 {s[1] / r[1]:.3f})"
    )
    return ratio


def run_pair(prefix: str, http: httpx.Client, base: str, calls: int, rounds: int) -> None:
    client = LumenLater(api_key=API_KEY, base_url=base, http_client=http, max_retries=2)
    get_url = base + "/v1/bills/bill_1"
    post_url = base + "/v1/bills"

    def raw_get() -> Any:
        r = http.get(get_url, headers=HEADERS)
        r.raise_for_status()
        return r.json()

    def raw_post() -> Any:
        h = {**HEADERS, "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        r = http.post(post_url, content=json.dumps(CREATE_BODY).encode(), headers=h)
        r.raise_for_status()
        return r.json()

    compare(f"{prefix} bills.retrieve", lambda: client.bills.retrieve("bill_1"), raw_get,
            calls, rounds)  # fmt: skip
    compare(
        f"{prefix} bills.create",
        lambda: client.bills.create(customer=CUSTOMER, amount=999_900_000, order_id="o-1"),
        raw_post, calls, rounds,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per side per case")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        wait_for(port)
        with httpx.Client() as http:
            run_pair("loopback", http, f"http://127.0.0.1:{port}", args.calls, args.rounds)
    finally:
        proc.terminate()
        proc.wait(10)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=BILL_BYTES,
            headers={"Content-Type": "application/json", "Request-Id": "req_bench"},
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        run_pair("in-process", http, "http://api.test", args.calls * 2, args.rounds)


if __name__ == "__main__":
    main()
