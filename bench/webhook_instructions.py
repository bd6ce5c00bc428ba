"""webhook_verify.py's micro figures as instruction counts (valgrind), which the load of
a shared machine does not move.

    python bench/webhook_instructions.py                       # verify, limit, construct, 1 KB
    python bench/webhook_instructions.py --kinds handled duplicate --size 16KB
    python bench/webhook_instructions.py --against /tmp/base   # also a baseline checkout

Each kind runs in a process of its own under callgrind, beside the floor (``hmac.digest``
+ ``hmac.compare_digest``, as webhook_verify.py defines it): the floor is looped inside
``itertools.starmap`` and the kind inside ``iter(fn, sentinel)``, and instructions are
collected only inside those two C functions, so each loop's inclusive cost is its own,
both measured in the same process. Ratios are floor / kind, as the rate ratios are.

One part of the count says nothing about time: valgrind's CPU has no SHA extensions, so
OpenSSL hashes with its AVX2 code (about 40k instructions at 1 KB) where this machine's
CPU runs SHA-NI. Both loops hash the same message once a call, so that function's cost
(the hottest libcrypto function collected) is split evenly between them, and every
ratio is also printed without it: that one tracks the rate ratio.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))


def run_loops(kind: str, size: str, calls: int) -> None:
    """In the process valgrind runs: the floor loop, then *kind*'s."""
    from webhook_verify import BODIES, micro_functions

    fns = micro_functions(BODIES[size]())
    floor, fn = fns["floor"], fns[kind]
    for _ in range(50):  # warm caches and pydantic-core's lazy parts, uncollected
        floor()
        fn()
    collections.deque(itertools.starmap(floor, itertools.repeat((), calls)), maxlen=0)
    collections.deque(itertools.islice(iter(fn, object()), calls), maxlen=0)


def _costs(out: str, inclusive: bool) -> list[tuple[int, str]]:
    text = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", out],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            rows.append((int(m.group(1).replace(",", "")), m.group(2)))
    return rows


class Counts(NamedTuple):
    """Instructions per call."""

    floor: float
    kind: float
    sha: float  # of the SHA-256 block function, in each loop
    sha_name: str


def callgrind(
    toggles: list[str], command: list[str], sdk: str | None
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Run *command* under callgrind, collecting only inside the C functions *toggles*,
    with the SDK of checkout *sdk* (this one if ``None``) and a fixed hash seed: the
    inclusive and the own costs per function."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    root = sdk or str(HERE.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(
            [
                *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"),
                *(f"--toggle-collect={name}" for name in toggles),
                *command,
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        return _costs(out, inclusive=True), _costs(out, inclusive=False)


def count(kind: str, size: str, calls: int, sdk: str | None) -> Counts:
    """Instructions per call of the floor and of *kind*, and of the SHA block function."""
    inclusive, own = callgrind(
        ["starmap_next", "calliter_iternext"],
        [sys.executable, str(HERE), "--loops", kind, "--size", size, "--calls", str(calls)],
        sdk,
    )

    def loop(c_function: str) -> int:
        return next(cost for cost, name in inclusive if name.split(" ")[0].endswith(c_function))

    sha, sha_name = max((c, n) for c, n in own if "libcrypto" in n)
    return Counts(
        loop(":starmap_next") / calls,
        loop(":calliter_iternext") / calls,
        sha / (2 * calls),
        sha_name,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--kinds", nargs="+", default=["verify", "limit", "construct"])
    parser.add_argument("--size", default="1KB", choices=["1KB", "16KB"])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--against", metavar="DIR", help="baseline checkout, measured alike")
    parser.add_argument("--loops", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loops:
        run_loops(args.loops, args.size, args.calls)
        return
    sides = {"this": None} | ({"baseline": args.against} if args.against else {})
    jobs = [(side, kind, path) for side, path in sides.items() for kind in args.kinds]
    # Counts do not depend on what else runs, so the processes run side by side.
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        counted = pool.map(lambda j: count(j[1], args.size, args.calls, j[2]), jobs)
        got = {(side, kind): c for (side, kind, _), c in zip(jobs, counted, strict=True)}
    first = next(iter(got.values()))
    print(
        f"instructions per call at {args.size}, valgrind --tool=callgrind, {args.calls} calls "
        f"of each loop; 'outside SHA' leaves out {first.sha_name.split(' ')[0]} "
        f"({first.sha:,.0f} a call), the SHA-256 block function"
    )
    ratios: dict[tuple[str, str], tuple[float, float]] = {}
    for (side, kind), c in got.items():
        floor, cost, sha = c.floor, c.kind, c.sha
        ratios[(side, kind)] = (floor / cost, (floor - sha) / (cost - sha))
        print(
            f"  [{side}] {kind}: {cost:,.0f} (floor {floor:,.0f}) = {floor / cost:.3f}x the "
            f"floor; outside SHA {cost - sha:,.0f} (floor {floor - sha:,.0f}) = "
            f"{(floor - sha) / (cost - sha):.3f}x"
        )
    for side in sides:
        if (side, "construct") in ratios and (side, "limit") in ratios:
            (c_all, c_out), (l_all, l_out) = ratios[(side, "construct")], ratios[(side, "limit")]
            print(
                f"  [{side}] construct_event = {c_all / l_all:.3f} of the limit "
                f"({c_out / l_out:.3f} outside SHA)"
            )


if __name__ == "__main__":
    main()
