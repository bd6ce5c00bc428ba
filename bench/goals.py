"""The performance goals of issue 16, each measured by its own bench, in one command.

    python bench/goals.py [--quick] [--only NAME ...]

Runs each bench below as a subprocess (its output passes through), then prints every
goal the benches reported and whether it holds. A bench reports a goal with a line
``goal: <what, with the figure>: met`` (or ``NOT met``); bench/transport.py's
``<case> …: holds`` / ``DOES NOT HOLD`` lines count too. Nothing here asserts: the
figures come from this machine in this run (a shared 2-core machine moves them by
tens of percent), so read the ratios each bench prints beside its own baseline.

``--quick`` shortens every bench (a smoke run of the guard itself, figures rough).
Exit status 0 whatever the verdicts: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHES: dict[str, tuple[list[str], list[str]]] = {
    # name: (arguments of a full run, arguments of a --quick run)
    "webhook_verify": ([], ["--duration", "2"]),
    "transport": (["--calls", "200", "--rounds", "15"], ["--calls", "50", "--rounds", "4"]),
    "backend_load": (
        ["--postgres", "--rounds", "2", "--duration", "8"],
        ["--postgres", "--rounds", "1", "--duration", "3"],
    ),
    "backend_load_workers": (
        ["--postgres", "--no-sqlite", "--workers", "2", "--rounds", "1", "--duration", "8"],
        ["--postgres", "--no-sqlite", "--workers", "2", "--rounds", "1", "--duration", "3"],
    ),
}
"""Each goal's bench; ``backend_load_workers`` is the scale-out deployment (goal 5)."""

_GOAL = re.compile(r"^goal: (?P<what>.*): (?P<verdict>met|NOT met)\s*$")
_TRANSPORT = re.compile(r"^\s+(?P<what>.+?): (?P<verdict>holds|DOES NOT HOLD)\s*$")


def _script(name: str) -> Path:
    return HERE / f"{name.removesuffix('_workers')}.py"


def _run(name: str, quick: bool) -> list[tuple[str, bool]]:
    full, short = BENCHES[name]
    cmd = [sys.executable, str(_script(name)), *(short if quick else full)]
    print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
    found: list[tuple[str, bool]] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            match = _GOAL.match(line) or _TRANSPORT.match(line)
            if match:
                found.append((match["what"].strip(), match["verdict"] in ("met", "holds")))
    if proc.returncode:
        found.append((f"{name} ran to the end (exit {proc.returncode})", False))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (rough figures)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these")
    args = parser.parse_args()
    results: dict[str, list[tuple[str, bool]]] = {}
    for name in args.only or BENCHES:
        results[name] = _run(name, args.quick)
    print("\n=== goals (issue 16)")
    held = total = 0
    for name, goals in results.items():
        for what, ok in goals:
            total += 1
            held += ok
            print(f"{'holds ' if ok else 'MISSES'}  [{name}] {what}")
    print(f"{held} of {total} goals hold in this run")


if __name__ == "__main__":
    main()
