"""How long the backend takes to stop on SIGTERM, idle and under hostile load.

    python3 bench/stop.py [--runs 3] [--database-url postgresql://…/postgres]
                          [--stop-timeout 1.5]

Starts ``python -m lumenlater_sdk.backend`` (the ``lumenlater sandbox`` command) and
sends it SIGTERM, twice per run: idle (the baseline, measured in the same run), and
loaded, with its webhook receiver accepting connections and never answering (every
delivery hangs in flight) and 20 keyed ``POST /v1/bills`` in flight. Printed: seconds
from SIGTERM to the process's exit (median and worst of the runs), the loaded stop as a
ratio to the idle one, and how many loaded POSTs were answered (the others were cut
off before being accepted, or roll back whole: their Idempotency-Key runs them again).
The promise checked here: the loaded stop stays under 2 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from lumenlater_sdk._ports import free_port, wait_for_port


def hanging_receiver() -> tuple[str, list[socket.socket]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(200)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/hook", held


def start(
    database_url: str, directory: Path, hook: str, stop_timeout: float
) -> tuple[subprocess.Popen[str], str, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lumenlater_sdk.backend", "--database-url", database_url,
         "--secret-key-file", str(directory / "secret.key"), "--port", str(port),
         "--no-rate-limit", "--webhook-url", hook, "--stop-timeout", str(stop_timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    key = ""
    for line in proc.stdout:
        if line.strip().startswith("secret key"):
            key = line.split()[-1]
        if "listening on" in line:
            break
    if not wait_for_port(port, timeout=60):
        raise SystemExit("the backend did not start")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, f"http://127.0.0.1:{port}", key


def fresh_database(server_url: str) -> str:
    """A new, empty database on the PostgreSQL server of *server_url*."""
    import uuid

    import psycopg

    name = f"stop_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def stop(proc: subprocess.Popen[str]) -> float:
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    return time.perf_counter() - started


def one_run(database_url: str, stop_timeout: float) -> tuple[float, float, int]:
    hook, held = hanging_receiver()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = fresh_database(database_url) if database_url else f"sqlite:///{directory / 'stop.db'}"
        proc, base, key = start(url, directory, hook, stop_timeout)
        idle = stop(proc)
        proc, base, _ = start(url, directory, hook, stop_timeout)
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        customer = api.get("/v1/test_helpers/wallets/approve").json()["address"]
        body = {"customer": customer, "amount": 10_000_000}
        for _ in range(5):
            api.post("/v1/bills", json=body)
        deadline = time.monotonic() + 30
        while len(held) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        answered: list[int] = []

        def post(i: int) -> None:
            try:
                r = api.post("/v1/bills", json=body, headers={"Idempotency-Key": f"k{i}"})
                answered.append(r.status_code)
            except httpx.TransportError:
                pass

        posts = [threading.Thread(target=post, args=(i,)) for i in range(20)]
        for t in posts:
            t.start()
        time.sleep(0.02)  # let them reach the server
        loaded = stop(proc)
        for t in posts:
            t.join()
        api.close()
    return idle, loaded, len(answered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server's URL (a fresh database is made on it for each run); "
        "default: a fresh SQLite file",
    )
    parser.add_argument("--stop-timeout", type=float, default=1.5)
    args = parser.parse_args()
    results = [one_run(args.database_url, args.stop_timeout) for _ in range(args.runs)]
    idle = [r[0] for r in results]
    loaded = [r[1] for r in results]
    print(f"runs: {args.runs}, database: {args.database_url or 'sqlite'}")
    print(f"idle stop    median {statistics.median(idle):.3f} s  worst {max(idle):.3f} s")
    print(f"loaded stop  median {statistics.median(loaded):.3f} s  worst {max(loaded):.3f} s")
    print(f"loaded/idle  {statistics.median(loaded) / statistics.median(idle):.2f}x")
    print(f"POSTs answered while stopping: {[r[2] for r in results]} of 20 each")
    print("under 2 s:", "yes" if max(loaded) < 2.0 else "NO")


if __name__ == "__main__":
    main()
