"""PostgreSQL: what one request costs, counted rather than timed under load.

The bench server of ``backend_load.py`` (a child process) on a throwaway cluster
(``fsync=off``), and per request, sequential (one at a time: no lock or pool waits)
and under ``wrk`` (32 connections, closed loop):

* **server CPU**: the scheduler's count of the server process's threads on a CPU
  (/proc/<pid>/task/*/schedstat, nanoseconds);
* **PostgreSQL CPU**: the same for every process of the cluster (the postmaster and
  its children: the backends serving the pool, and the background writers).

Routes: GET /v1/bills/{id}, POST /v1/bills bare and with a fresh Idempotency-Key (as
the SDK sends). Round trips are counted on the wire by
tests/backend/test_round_trips_per_request.py. ``--against DIR`` alternates, round by
round and which side first, with a server imported from another checkout and prints
this/baseline ratios of the medians: the machine is shared, so only figures from the
same run compare; the load is printed beside them.

    python bench/pg_request_cost.py [--rounds 3] [--requests 400] [--against DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import statistics
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from backend_load import _fresh_database, _postgres, _server, _wrk


def _sched_ns(pid: int) -> int:
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that ended
            total += int(Path(path).read_text().split()[0])
    return total


def _children(ppid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
                found.append(int(entry))
    return found


def _server_pid(port: int) -> int:
    """The process listening on *port* (the bench server), from /proc/net/tcp."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # LISTEN
            inodes.add(fields[9])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fds = os.listdir(f"/proc/{entry}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink(f"/proc/{entry}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry)
    sys.exit(f"no process listens on port {port}")


class _Meter:
    """CPU of the server and of the cluster."""

    def __init__(self, server: int, postmaster: int) -> None:
        self.server, self.postmaster = server, postmaster

    def read(self) -> tuple[int, int]:
        pg = sum(_sched_ns(p) for p in [self.postmaster, *_children(self.postmaster)])
        return _sched_ns(self.server), pg


def _cost(meter: _Meter, run: Callable[[], float]) -> dict[str, float]:
    """Per request of *run* (which returns how many it made)."""
    s0, p0 = meter.read()
    n = run()
    s1, p1 = meter.read()
    return {"server us": (s1 - s0) / n / 1e3, "pg us": (p1 - p0) / n / 1e3}


def _bench(
    db_url: str, postmaster: int, path: str | None, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with _server(db_url, 1, path) as (base, creds):
        meter = _Meter(_server_pid(int(base.rsplit(":", 1)[1])), postmaster)
        body = f'{{"customer":"{creds["customer"]}","amount":10000000}}'
        auth = {"Authorization": f"Bearer {creds['key']}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, headers=auth) as client:
            bill = client.post("/v1/bills", content=body).json()
            cases: dict[str, Callable[[], httpx.Response]] = {
                "GET": lambda: client.get(f"/v1/bills/{bill['id']}"),
                "POST": lambda: client.post("/v1/bills", content=body),
                "POST key": lambda: client.post(
                    "/v1/bills", content=body, headers={"Idempotency-Key": str(uuid.uuid4())}
                ),
            }
            for name, call in cases.items():
                for _ in range(20):  # warm: keys cached, statements prepared
                    call().raise_for_status()

                def sequential(call: Callable[[], httpx.Response] = call) -> float:
                    for _ in range(args.requests):
                        call().raise_for_status()
                    return args.requests

                out[f"seq {name}"] = _cost(meter, sequential)
        for name, method, url, payload in (
            ("GET", "GET", f"{base}/v1/bills/{bill['id']}", ""),
            ("POST key", "POST", f"{base}/v1/bills", body),
        ):
            rate: dict[str, float] = {}

            def loaded(
                method: str = method,
                url: str = url,
                payload: str = payload,
                rate: dict[str, float] = rate,
            ) -> float:
                rate["req/s"] = _wrk(url, method, creds["key"], payload, args.duration, 0, True)[
                    "rps"
                ]
                return rate["req/s"] * args.duration

            cost = _cost(meter, loaded)
            out[f"wrk {name}"] = {**rate, **cost}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400, help="sequential requests per route")
    parser.add_argument("--duration", type=int, default=6, help="seconds of wrk per route")
    parser.add_argument("--against", metavar="DIR", help="baseline checkout to alternate with")
    args = parser.parse_args()
    sides = [("this", None)] + ([("baseline", args.against)] if args.against else [])
    runs: dict[str, list[dict[str, dict[str, float]]]] = {side: [] for side, _ in sides}
    with _postgres(["fsync=off"]) as url:
        port = url.rsplit(":", 1)[1].split("/")[0]
        data = next(
            d
            for d in glob.glob("/tmp/ll-bench-pg-*/data")
            if Path(d, "postmaster.pid").exists()
            and Path(d, "postmaster.pid").read_text().splitlines()[3].strip() == port
        )
        postmaster = int(Path(data, "postmaster.pid").read_text().split()[0])
        for round_ in range(args.rounds):
            for side, path in sides[:: 1 if round_ % 2 == 0 else -1]:
                load = os.getloadavg()[0]
                got = _bench(_fresh_database(url), postmaster, path, args)
                runs[side].append(got)
                for case, figures in got.items():
                    shown = "  ".join(f"{k} {v:8.1f}" for k, v in figures.items())
                    print(
                        f"round {round_} {side:8} {case:9} {shown}  (load {load:.1f})", flush=True
                    )
    for case in runs["this"][0]:
        for metric in runs["this"][0][case]:
            med = {s: statistics.median(r[case][metric] for r in rs) for s, rs in runs.items()}
            line = f"median {case:9} {metric:9} this {med['this']:8.1f}"
            if "baseline" in med:
                line += (
                    f"  baseline {med['baseline']:8.1f}  ratio {med['this'] / med['baseline']:.2f}"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
