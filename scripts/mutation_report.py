"""Summarise the last ``mutmut run``: the score per module and the survivors.

A survivor that matches an entry of ``scripts/mutation_equivalents.toml`` (same
module, function and mutated line) is counted as equivalent and shown with its
reason; every other survivor is listed with its diff. Exit status 1 when a module
scores under the goal (``--goal``, default 95).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "scripts" / "mutation_equivalents.toml"
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # failed test, pytest error, timeout, type error
NOT_RUN = {None, 2}  # never checked, or the check was interrupted (a stopped run)


@dataclass(frozen=True)
class Equivalent:
    module: str
    function: str
    mutated: str
    reason: str


@dataclass(frozen=True)
class CaseRule:
    """Survivors whose only change is the letter case of a string matching *pattern*."""

    name: str
    pattern: str
    reason: str

    def matches(self, removed: list[str], added: list[str]) -> bool:
        return (
            len(removed) == len(added) == 1
            and removed[0] != added[0]
            and removed[0].lower() == added[0].lower()
            and re.search(self.pattern, removed[0], re.IGNORECASE) is not None
        )


def _squash(line: str) -> str:
    return " ".join(line.split())


def load_equivalents() -> tuple[list[Equivalent], list[CaseRule]]:
    data = tomllib.loads(EQUIVALENTS.read_text("utf-8")) if EQUIVALENTS.exists() else {}
    listed = [
        Equivalent(e["module"], e["function"], _squash(e["mutated"]), e["reason"])
        for e in data.get("equivalent", [])
    ]
    rules = [CaseRule(r["name"], r["pattern"], r["reason"]) for r in data.get("case_rule", [])]
    return listed, rules


def function_of(name: str) -> str:
    # lumenlater_sdk._retry.x_parse_retry_after__mutmut_3 -> parse_retry_after;
    # methods: module.xǁClassǁmethod__mutmut_2 -> Class.method
    tail = name.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    tail = tail.removeprefix("x_").removeprefix("x")
    return ".".join(p for p in tail.split("ǁ") if p)


def diff_of(name: str, source: Path) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(name, path=source)


def changed_lines(diff: str, sign: str) -> list[str]:
    """The lines a diff adds ("+") or removes ("-"), without the file header."""
    return [
        _squash(line[1:])
        for line in diff.splitlines()
        if line.startswith(sign) and not line.startswith(sign * 3) and line[1:].strip()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goal", type=float, default=95.0)
    parser.add_argument("--show-equivalent", action="store_true")
    args = parser.parse_args()
    equivalents, rules = load_equivalents()
    used: set[Equivalent] = set()
    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        print("no mutation results: run scripts/mutation first", file=sys.stderr)
        return 2
    rows = []
    survivors: dict[str, list[tuple[str, str]]] = defaultdict(list)
    equivalent_shown: list[tuple[str, Equivalent]] = []
    for meta in metas:
        source = meta.relative_to(ROOT / "mutants").with_suffix("")  # drop .meta
        module = str(source)
        results = json.loads(meta.read_text())["exit_code_by_key"]
        counts: Counter[str] = Counter()
        for name, code in sorted(results.items()):
            if code in KILLED:
                counts["killed"] += 1
                continue
            if code in NOT_RUN:
                counts["not run"] += 1
                continue
            diff = diff_of(name, source)
            lines = changed_lines(diff, "+")
            rule = next((r for r in rules if r.matches(changed_lines(diff, "-"), lines)), None)
            if rule is not None:
                counts["equivalent"] += 1
                equivalent_shown.append((name, Equivalent(module, "*", rule.name, rule.reason)))
                continue
            match = next(
                (
                    e
                    for e in equivalents
                    if e.module == module and e.function == function_of(name) and e.mutated in lines
                ),
                None,
            )
            if match is not None:
                used.add(match)
                counts["equivalent"] += 1
                equivalent_shown.append((name, match))
                continue
            counts["survived" if code == 0 else "no tests" if code in (5, 33) else "other"] += 1
            survivors[module].append((name, diff))
        total = sum(counts.values()) - counts["equivalent"] - counts["not run"]
        # A module with no checked mutant has proven nothing: no score, below the goal.
        rows.append((module, 100.0 * counts["killed"] / total if total else None, counts))
    width = max(len(r[0]) for r in rows)
    print(f"{'module'.ljust(width)}  score   killed  equiv  survived  no-tests  not-run")
    failed = False
    for module, score, c in rows:
        below = score is None or score < args.goal
        flag = "  < goal" if below else ""
        failed |= below
        shown = "   n/a" if score is None else f"{score:5.1f}%"
        print(
            f"{module.ljust(width)}  {shown}  {c['killed']:6d}  {c['equivalent']:5d}"
            f"  {c['survived'] + c['other']:8d}  {c['no tests']:8d}  {c['not run']:7d}{flag}"
        )
    for module, items in survivors.items():
        print(f"\n## survivors in {module}")
        for name, diff in items:
            print(f"\n### {name}\n{diff}")
    if args.show_equivalent:
        print("\n## equivalent mutants")
        for name, e in equivalent_shown:
            print(f"- {name}: {e.reason}")
    stale = [e for e in equivalents if e not in used]
    if stale:
        print("\n## entries of mutation_equivalents.toml that matched nothing (remove them)")
        for e in stale:
            print(f"- {e.module} {e.function}: {e.mutated}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
