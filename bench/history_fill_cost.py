"""CPU per bill of bench/history.py's fill on PostgreSQL: this tree against another one.

Each round fills a fresh database of one throwaway cluster (history.py's settings) with
``--bills`` bills, once with this tree and once with ``--against DIR`` (a checkout of
the baseline), alternating which goes first. Per fill: wall time, the fill process's
CPU (whole process: merchants and shoppers included), the CPU of every process of the
cluster meanwhile (its backends, sampled every 0.5 s, so a backend's time counts until
its last sample), and bills per CPU second of both. CPU, not wall time: the machine is
shared, and wall time would measure the neighbours.

    python bench/history_fill_cost.py --against /tmp/base --bills 8000 [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from backend_load import _fresh_database, _postgres, pg_commits
from history import PG_SETTINGS

_TICK = os.sysconf("SC_CLK_TCK")


def _cluster_cpu(data_dir: Path) -> dict[int, float]:
    """CPU seconds so far of the postmaster of *data_dir* and each of its children."""
    postmaster = (data_dir / "postmaster.pid").read_text().split()[0]
    kids = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    out: dict[int, float] = {}
    for pid in [postmaster, *kids]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone since
            continue
        out[int(pid)] = (int(fields[11]) + int(fields[12])) / _TICK
    return out


def _fill(tree: str, url: str, data_dir: Path, bills: int) -> dict[str, float]:
    seen: dict[int, float] = {}
    before = _cluster_cpu(data_dir)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid, cpu in _cluster_cpu(data_dir).items():
                seen[pid] = max(seen.get(pid, 0.0), cpu)
            done.wait(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    env = {**os.environ, "PYTHONPATH": tree}
    cmd = [sys.executable, f"{tree}/bench/history.py", "fill", "--db", url]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "--bills", str(bills), "--no-deliver"], env=env, stdout=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    output = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        sys.exit(f"fill with {tree} failed:\n{output}")
    nan = float("nan")
    loop = re.search(r"fill to [\d,]+ bills: ([\d.]+) s .*?, ([\d.]+) s of this process", output)
    pg = sum(cpu - before.get(pid, 0.0) for pid, cpu in seen.items())
    return {
        "wall": wall,
        "loop wall": float(loop.group(1)) if loop else nan,
        "loop cpu": float(loop.group(2)) if loop else nan,
        "process cpu": usage.ru_utime + usage.ru_stime,
        "pg cpu": pg,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", required=True, help="a checkout of the baseline")
    p.add_argument("--bills", type=int, default=8000)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    sides = [("this", here), ("baseline", str(Path(args.against).resolve()))]
    print(f"PostgreSQL: {' '.join(PG_SETTINGS)}; {pg_commits(PG_SETTINGS)}", flush=True)
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in sides}
    with _postgres(PG_SETTINGS) as cluster:
        found = re.search(r" -D (\S+)", _cmdline(cluster))
        assert found is not None
        data_dir = Path(found.group(1))
        for round_ in range(args.rounds):
            for name, tree in sides[:: 1 if round_ % 2 == 0 else -1]:
                r = _fill(tree, _fresh_database(cluster), data_dir, args.bills)
                results[name].append(r)
                print(
                    f"round {round_} {name:8s}: wall {r['wall']:6.1f} s (fill loop"
                    f" {r['loop wall']:6.1f} s, its CPU {r['loop cpu']:5.1f} s), process CPU"
                    f" {r['process cpu']:5.1f} s, PostgreSQL CPU {r['pg cpu']:5.1f} s:"
                    f" {args.bills / (r['process cpu'] + r['pg cpu']):5.0f} bills per CPU s"
                    f" (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    for name, runs in results.items():
        cpu = sum(r["process cpu"] + r["pg cpu"] for r in runs) / len(runs)
        pg = sum(r["pg cpu"] for r in runs) / len(runs)
        loop = sum(r["loop cpu"] for r in runs) / len(runs)
        print(
            f"{name:8s}: {args.bills / cpu:5.0f} bills per CPU s (process + PostgreSQL,"
            f" mean of {len(runs)}); fill loop's own CPU {loop:.1f} s, PostgreSQL {pg:.1f} s",
            flush=True,
        )


def _cmdline(url: str) -> str:
    """The postmaster's command line of the cluster at *url* (its socket dir is -k)."""
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                line = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "postgres" in line and f"-p {port} " in line and " -D " in line:
                return line
    sys.exit(f"no postmaster on port {port}")


if __name__ == "__main__":
    main()
