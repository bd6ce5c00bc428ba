"""Properties no behaviour can show, checked by reading the code.

A secret compared with ``==`` answers exactly like one compared in constant time;
only the time it takes differs. So instead of a (flaky) timing test, the source is
inspected: no ``==``/``!=``/``in`` on a value whose name says it is a secret, a
signature, a MAC, a digest or a key hash, and the functions that check such values
do call ``hmac.compare_digest``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lumenlater_sdk"
SECRETISH = re.compile(r"(secret|signature|^mac$|_mac$|digest|key_hash|expected|password)", re.I)


def _names(node: ast.AST) -> list[str]:
    """The identifiers an operand is made of (``row["key_hash"]`` counts as key_hash)."""
    out: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            out.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            out.append(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            out.append(sub.value)
    return out


def _is_secretish(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return False
    if isinstance(node, ast.Call):  # len(secret), isinstance(...), f(secret) are fine
        return False
    return any(SECRETISH.search(n) for n in _names(node))


def _comparisons() -> list[tuple[Path, int, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            for op, right in zip(node.ops, node.comparators, strict=True):
                if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
                    continue
                if isinstance(right, ast.Constant) and right.value is None:
                    continue
                if _is_secretish(node.left) and _is_secretish(right):
                    found.append((path, node.lineno, ast.unparse(node)))
    return found


def test_no_secret_is_compared_with_equality() -> None:
    offenders = [f"{p.relative_to(PACKAGE.parent)}:{n}: {src}" for p, n, src in _comparisons()]
    assert offenders == [], "compare secrets with hmac.compare_digest:\n" + "\n".join(offenders)


def _calls_compare_digest(path: Path, function: str) -> bool:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return any(
                isinstance(c, ast.Call)
                and isinstance(c.func, ast.Attribute)
                and c.func.attr == "compare_digest"
                for c in ast.walk(node)
            )
    raise AssertionError(f"{function} not found in {path}")


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("webhooks/_signature.py", "verify_signature"),
        ("webhooks/_signature.py", "_matches"),
        ("backend/services/api_keys.py", "authenticate"),
    ],
)
def test_checks_of_secrets_use_compare_digest(module: str, function: str) -> None:
    assert _calls_compare_digest(PACKAGE / module, function)


def test_the_lint_sees_an_equality_on_a_secret(tmp_path: Path) -> None:
    # The check itself must be able to fail.
    tree = ast.parse("ok = expected_mac == signature\nfine = len(secret) == 3\n")
    compares = [n for n in ast.walk(tree) if isinstance(n, ast.Compare)]
    flagged = [_is_secretish(c.left) and _is_secretish(c.comparators[0]) for c in compares]
    assert flagged == [True, False]
