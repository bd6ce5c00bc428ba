"""Load on the bundled backend over loopback: POST /v1/bills and GET /v1/bills/{id}.

Runs the server in a child process (uvicorn, rate limits and access logs off),
measures peak throughput with wrk, then latency at a fixed rate (half the goal)
with an open-loop httpx client. SQLite always; PostgreSQL with --postgres (a
throwaway cluster, run as the postgres user when we are root).

    python bench/backend_load.py [--postgres] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

GOALS = {"GET": 2000, "POST": 500}
_LUA = """
wrk.method = "{method}"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
"""

_SERVER = """
import json, sys, uvicorn
from lumenlater_sdk.backend import BackendConfig, create_app
cfg = BackendConfig(database_url=sys.argv[1], port=int(sys.argv[2]), secret_key="b" * 32,
                    rate_limit=False, log_requests=False, run_delivery=False)
app = create_app(cfg)
creds = app.backend.create_merchant("Bench")
addr = app.backend.genesis.wallets["approve"].public_key
json.dump({"key": creds.secret_key, "customer": addr}, open(sys.argv[3], "w"))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_postgres(base: Path) -> tuple[str, list[str]]:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    tool = lambda n: str(bins[0] / n) if bins else n  # noqa: E731
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        [
            *as_pg,
            tool("initdb"),
            "-D",
            str(base / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(
        [
            *as_pg,
            tool("pg_ctl"),
            "-D",
            str(base / "data"),
            "-o",
            opts,
            "-l",
            str(base / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    stop = [*as_pg, tool("pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def _wrk(url: str, method: str, key: str, body: str, duration: int, tmp: Path) -> list[float]:
    script = tmp / f"{method}.lua"
    script.write_text(_LUA.format(method=method, key=key, body=json.dumps(body)))
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{duration}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    return [float(v) for v in line.split()[1:]]


async def _paced(
    url: str, method: str, key: str, body: str, rate: float, seconds: float
) -> list[float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        limits=limits,
        timeout=30,
    ) as client:

        async def one() -> None:
            t0 = time.perf_counter()
            await client.request(method, url, content=body or None)
            latencies.append((time.perf_counter() - t0) * 1000)

        tasks = []
        start = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return latencies


def _bench(db_url: str, duration: int, label: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ll-bench-"))
    port = _free_port()
    creds_file = tmp / "creds.json"
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, db_url, str(port), str(creds_file)])
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if creds_file.exists() and httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        creds = json.loads(creds_file.read_text())
        body = json.dumps({"customer": creds["customer"], "amount": 10_000_000})
        bill = httpx.post(
            base + "/v1/bills", content=body, headers={"Authorization": f"Bearer {creds['key']}"}
        ).json()
        for method, url, payload in (
            ("GET", f"{base}/v1/bills/{bill['id']}", ""),
            ("POST", f"{base}/v1/bills", body),
        ):
            rps, p50, p95, p99, errors = _wrk(url, method, creds["key"], payload, duration, tmp)
            lat = asyncio.run(
                _paced(url, method, creds["key"], payload, GOALS[method] / 2, min(duration, 5))
            )
            q = statistics.quantiles(lat, n=100)
            print(
                f"{label:10} {method:4} peak {rps:8.0f} req/s (goal {GOALS[method]}) "
                f"p50 {p50:.1f} p95 {p95:.1f} p99 {p99:.1f} ms errors {int(errors)} | "
                f"at {GOALS[method] // 2} req/s: p50 {q[49]:.1f} p95 {q[94]:.1f} "
                f"p99 {q[98]:.1f} ms",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ll-bench-db-"))
    _bench(f"sqlite:///{tmp / 'bench.db'}", args.duration, "sqlite")
    if args.postgres:
        pg_base = Path(tempfile.mkdtemp(prefix="ll-bench-pg-"))
        url, stop = _start_postgres(pg_base)
        try:
            _bench(url, args.duration, "postgresql")
        finally:
            subprocess.run(stop, capture_output=True)
            shutil.rmtree(pg_base, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
