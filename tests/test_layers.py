"""The backend's layers hold (DESIGN §6), checked by reading the code.

Every module under ``lumenlater_sdk/backend`` (and ``lumenlater_sdk/cli``, which
sits on top of it) is parsed; each ``import`` — at the top, inside a function, under
``TYPE_CHECKING`` alike — is resolved to the module it names, relative imports
included, and checked against three rules:

(a) **Layers.** Highest first; a module may import its own layer and the ones below,
    never one above, and never the few lower neighbours :data:`FORBIDDEN` names:

    ========  ===============================================================
    entry     ``app``, ``bootstrap``, ``testing``, ``__main__``, the
              ``lumenlater_sdk.backend`` package itself, ``lumenlater_sdk.cli``
    http      ``routes``, ``web``, ``http``: parse, authenticate, serialise
    rpc       ``soroban_rpc``: the sandbox's Soroban JSON-RPC endpoint, an HTTP
              surface over the ledger: it uses ``chain`` and ``db``, no services
    services  ``services``: the rules; no HTTP, no SQL
    engines   ``store`` (SQL), ``chain`` (the gateway), ``delivery`` (outbox,
              worker, sender, attempts)
    db        ``db``
    base      ``_crypto``, ``_ids``, ``_json_text``, ``_strkeys``, ``config``,
              ``observability``, ``paging``:
              plain values and helpers every layer may use; they import no layer
    ========  ===============================================================

    The HTTP modules call services only (no store, chain, delivery or db); ``store``,
    ``chain`` and ``delivery`` do not know one another, except that delivery may use
    the store's public names. Modules of the SDK outside the backend
    (``lumenlater_sdk.types``, ``.webhooks``, ...) belong to no layer. A new
    top-level backend module fails the test until :data:`LAYER_OF` gives it a layer.

(b) **No reaching into another package's privates.** A ``_name`` module or name
    (dunders aside) belongs to the package that holds it; that package and the
    packages inside it may import it, nobody else. So ``backend/_crypto`` is for
    all of the backend, ``store/_rows`` for the store alone.

(c) **SQL stays in the store.** No string constant (f-strings included; docstrings
    and other bare string statements excepted) looks like SQL (:data:`SQL`) outside
    :data:`SQL_HOMES`: the store, the db package, the delivery engine's private
    store modules and the local chain's storage.

(d) **One typed seam to the chain.** Services call the relay (``ctx.chain``) and the
    sandbox controls (``ctx.sandbox`` / ``ctx.require_sandbox(...)``) only: no module
    under ``services/`` but the relay itself touches a ``gateway`` attribute, none
    reads ``ctx.genesis``, and nothing there typed ``Any`` holds the chain, its
    gateway, the sandbox or the genesis.

``test_the_checker_*`` run the same checker on a small planted tree, so that a
checker that finds nothing cannot pass for one that was never able to.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "lumenlater_sdk"
SDK = "lumenlater_sdk"
BACKEND = f"{SDK}.backend"
CLI = f"{SDK}.cli"

RANK = {
    "base": 0,
    "db": 1,
    "store": 2,
    "chain": 2,
    "delivery": 2,
    "services": 3,
    "http": 4,
    "rpc": 4,
    "entry": 5,
}
"""Higher imports lower, never the other way round."""

LAYER_OF = {
    "__main__": "entry",
    "app": "entry",
    "bootstrap": "entry",
    "testing": "entry",
    "routes": "http",
    "web": "http",
    "http": "http",
    "soroban_rpc": "rpc",
    "services": "services",
    "store": "store",
    "chain": "chain",
    "delivery": "delivery",
    "db": "db",
    "_crypto": "base",
    "_ids": "base",
    "_json_text": "base",
    "_strkeys": "base",
    "config": "base",
    "observability": "base",
    "paging": "base",
}
"""The layer of each top-level name under ``lumenlater_sdk.backend``."""

FORBIDDEN = {
    ("http", "store"): "the HTTP layer calls services, not the store",
    ("http", "chain"): "the HTTP layer calls services, not the chain",
    ("http", "delivery"): "the HTTP layer calls services, not the delivery engine",
    ("http", "db"): "the HTTP layer calls services, not the database",
    ("rpc", "services"): "the Soroban RPC endpoint speaks to the ledger, not the services",
    ("rpc", "store"): "the Soroban RPC endpoint does not know the store",
    ("rpc", "delivery"): "the Soroban RPC endpoint does not know the delivery engine",
    ("rpc", "http"): "the Soroban RPC endpoint is its own HTTP surface",
    ("chain", "store"): "the chain gateway does not know the store",
    ("chain", "delivery"): "the chain gateway does not know the delivery engine",
    ("store", "chain"): "the store does not know the chain gateway",
    ("store", "delivery"): "the store does not know the delivery engine",
    ("delivery", "chain"): "the delivery engine does not know the chain gateway",
}
"""Imports of a same-or-lower layer that are still refused: (importer, imported)."""

SQL_HOMES = (
    f"{BACKEND}.store",  # the store: one module per table or concern
    f"{BACKEND}.db",  # connections, dialects, migrations
    f"{BACKEND}.delivery._store",  # the delivery engine's store: outbox upkeep
    f"{BACKEND}.delivery._outbox",  # enqueue, claims
    f"{BACKEND}.delivery._claims",  # claiming batches
    f"{BACKEND}.delivery._fair",  # which due rows a claim takes (caps per endpoint)
    f"{BACKEND}.delivery._attempts",  # recording attempts, disabling failing endpoints
    f"{BACKEND}.delivery._schema",  # the delivery tables
    f"{BACKEND}.chain.local._schema",  # the local chain's tables
    f"{BACKEND}.chain.local._storage",  # contract storage
    f"{BACKEND}.chain.local._genesis",  # genesis accounts
    f"{BACKEND}.chain.local._local_gateway",  # ledger, transactions, contract events
    f"{BACKEND}.chain.local._ledger_hold",  # a transaction's calls, written at its COMMIT
    f"{BACKEND}.chain.local._rpc_ledger",  # accounts, nonces, RPC transactions
    f"{BACKEND}.chain.soroban._journal",  # the soroban gateway's submissions and events
)
"""Where SQL may be written: these modules, and every module inside these packages."""

SQL = re.compile(
    r"\bSELECT\s+\S"
    r"|\bINSERT\s+INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|ALTER|DROP)\s+(?:TABLE|INDEX|UNIQUE|SEQUENCE|TRIGGER|VIEW)\b"
    r"|\bWHERE\s+\S"
    r"|\bORDER\s+BY\b"
    r"|\bON\s+CONFLICT\b"
    r"|\bFOR\s+UPDATE\b"
    r"|\bTRUNCATE\s+\w"
)
"""Upper-case SQL over tables, as this code base writes it (``DELETE`` alone, an HTTP
method, is not). ``LISTEN`` / ``NOTIFY`` are not counted: they are wake-up plumbing on a
connection (the delivery worker's ``LISTEN`` connection), not statements over tables."""


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package a relative import starts from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class Import:
    importer: Module
    line: int
    target: str  # the module imported, or holding the imported name
    name: str | None  # the imported name when ``from target import name``

    def where(self) -> str:
        text = f"from {self.target} import {self.name}" if self.name else f"import {self.target}"
        return f"{self.importer.path}:{self.line}: {self.importer.name}: {text}"


def modules(root: Path) -> dict[str, Module]:
    """Every module of the package at *root* (a directory named after it), by name."""
    found: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def imports(module: Module) -> Iterator[Import]:
    """Every import statement of *module*, anywhere in it, with relative ones resolved."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name, None)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                if alias.name != "*":
                    yield Import(module, node.lineno, target, alias.name)


def layer(name: str) -> str | None:
    """The layer of module *name*: ``None`` outside the layered code, ``"?"`` if unassigned."""
    parts = name.split(".")
    if name == CLI or name.startswith(CLI + "."):
        return "entry"
    if parts[:2] != BACKEND.split("."):
        return None
    if len(parts) == 2:
        return "entry"
    return LAYER_OF.get(parts[2], "?")


def _imported_module(imp: Import, known: dict[str, Module]) -> str:
    """The module an import makes this one depend on (``from pkg import mod`` → pkg.mod)."""
    if imp.name is not None and f"{imp.target}.{imp.name}" in known:
        return f"{imp.target}.{imp.name}"
    return imp.target


def _private_owners(imp: Import, known: dict[str, Module]) -> Iterator[str]:
    """For each ``_private`` part of what *imp* names, the package it is private to."""
    parts = imp.target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            yield ".".join(parts[:i])
    name = imp.name
    if name is not None and name.startswith("_") and not name.startswith("__"):
        holder = known.get(imp.target)
        # A submodule, or a name of a package, is private to that package; a name
        # defined in a plain module is private to the package around the module.
        if holder is None or holder.is_package or f"{imp.target}.{name}" in known:
            yield imp.target
        else:
            yield imp.target.rpartition(".")[0]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def layer_violations(known: dict[str, Module]) -> list[str]:
    """Rules (a) and (b) over every backend and CLI module of *known*."""
    problems: list[str] = []
    for module in known.values():
        mine = layer(module.name)
        if mine is None:
            continue
        if mine == "?":
            problems.append(
                f"{module.path}: {module.name} has no layer: add its top-level name to LAYER_OF"
            )
            continue
        for imp in imports(module):
            if not _within(imp.target, SDK):
                continue
            for owner in _private_owners(imp, known):
                if not _within(module.name, owner):
                    problems.append(
                        f"{imp.where()}  [private to {owner}: import a public name instead]"
                    )
            theirs = layer(_imported_module(imp, known))
            if theirs is None or theirs == "?" or theirs == mine:
                continue
            if mine == "base":
                problems.append(f"{imp.where()}  [base modules import no layer ({theirs})]")
            elif RANK[theirs] > RANK[mine]:
                problems.append(f"{imp.where()}  [{mine} may not import the higher layer {theirs}]")
            elif (mine, theirs) in FORBIDDEN:
                problems.append(f"{imp.where()}  [{FORBIDDEN[mine, theirs]}]")
    return problems


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of each string constant and f-string (its fields as ``{}``), leaving
    out docstrings and other bare string statements."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            skip.update(id(sub) for sub in ast.walk(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in skip:
            skip.update(id(sub) for sub in ast.walk(node))
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                for v in node.values
            )
            yield node.lineno, text
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            yield node.lineno, node.value


def sql_violations(known: dict[str, Module]) -> list[str]:
    """Rule (c) over every backend module of *known*."""
    problems: list[str] = []
    for module in known.values():
        if not _within(module.name, BACKEND) or any(_within(module.name, h) for h in SQL_HOMES):
            continue
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        for line, text in _strings(tree):
            if SQL.search(text):
                problems.append(
                    f"{module.path}:{line}: {module.name}: SQL outside the store: {text[:70]!r}"
                )
    return problems


SERVICES = f"{BACKEND}.services"
RELAY = f"{SERVICES}.relay"
CHAIN_WORDS = {"chain", "gateway", "_gateway", "gw", "sandbox", "genesis"}
"""Names that stand for the chain, its gateway or the sandbox controls."""


def _is_any(annotation: ast.expr | None) -> bool:
    """Whether an annotation is ``Any`` (``typing.Any``, ``"Any"``, ``Any | None``,
    ``Optional[Any]`` ...); ``dict[str, Any]`` is not."""
    a = annotation
    if isinstance(a, ast.Name):
        return a.id == "Any"
    if isinstance(a, ast.Attribute):
        return a.attr == "Any"
    if isinstance(a, ast.Constant) and isinstance(a.value, str):
        try:
            return _is_any(ast.parse(a.value, mode="eval").body)
        except SyntaxError:
            return False
    if isinstance(a, ast.BinOp) and isinstance(a.op, ast.BitOr):
        return _is_any(a.left) or _is_any(a.right)
    if isinstance(a, ast.Subscript) and ast.unparse(a.value) in (
        "Optional",
        "Union",
        "typing.Optional",
        "typing.Union",
    ):
        members = a.slice.elts if isinstance(a.slice, ast.Tuple) else [a.slice]
        return any(_is_any(m) for m in members)
    return False


def _mentions_chain(node: ast.AST | None) -> bool:
    """Whether an expression names the chain, a gateway, the sandbox or the genesis."""
    if node is None:
        return False
    return any(
        (isinstance(sub, ast.Name) and sub.id in CHAIN_WORDS)
        or (isinstance(sub, ast.Attribute) and sub.attr in CHAIN_WORDS)
        for sub in ast.walk(node)
    )


def _is_ctx(node: ast.expr) -> bool:
    """``ctx`` or ``<anything>.ctx``: the service context."""
    return (isinstance(node, ast.Name) and node.id == "ctx") or (
        isinstance(node, ast.Attribute) and node.attr == "ctx"
    )


def chain_seam_violations(known: dict[str, Module]) -> list[str]:
    """Rule (d) over every service module of *known*."""
    problems: list[str] = []
    for module in known.values():
        if not _within(module.name, SERVICES):
            continue
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        for node in ast.walk(tree):
            where = f"{module.path}:{getattr(node, 'lineno', 0)}: {module.name}"
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("gateway", "_gateway")
                and module.name != RELAY
            ):
                problems.append(
                    f"{where}: {ast.unparse(node)}  [services call the relay (ctx.chain),"
                    " never the gateway behind it]"
                )
            elif isinstance(node, ast.Attribute) and node.attr == "genesis" and _is_ctx(node.value):
                problems.append(
                    f"{where}: {ast.unparse(node)}  [the genesis is a sandbox power:"
                    " ctx.require_sandbox(...).genesis()]"
                )
            elif isinstance(node, ast.AnnAssign) and _is_any(node.annotation):
                if _mentions_chain(node.target) or _mentions_chain(node.value):
                    problems.append(
                        f"{where}: {ast.unparse(node)}  [the chain is typed: ChainRelay,"
                        " SandboxControls, Genesis]"
                    )
            elif isinstance(node, ast.arg) and node.arg in CHAIN_WORDS and _is_any(node.annotation):
                problems.append(
                    f"{where}: {ast.unparse(node)}  [the chain is typed: ChainRelay,"
                    " SandboxControls, Genesis]"
                )
    return problems


def _report(problems: list[str], rule: str) -> str:
    return f"{len(problems)} {rule}:\n  " + "\n  ".join(problems)


def test_no_layer_is_climbed_and_no_private_module_is_reached_into() -> None:
    problems = layer_violations(modules(ROOT))
    assert not problems, _report(problems, "layer violation(s) (see this test's docstring)")


def test_sql_is_written_only_in_the_store() -> None:
    problems = sql_violations(modules(ROOT))
    assert not problems, _report(problems, "SQL string(s) outside SQL_HOMES")


def test_services_reach_the_chain_through_the_relay_and_the_sandbox_only() -> None:
    problems = chain_seam_violations(modules(ROOT))
    assert not problems, _report(problems, "reach(es) past the chain seam")


def test_every_layer_of_the_table_exists() -> None:
    """The table names real packages, so a rename cannot quietly empty a rule."""
    known = modules(ROOT)
    for top in LAYER_OF:
        assert f"{BACKEND}.{top}" in known, f"LAYER_OF names {top}, which does not exist"
    for home in SQL_HOMES:
        assert home in known, f"SQL_HOMES names {home}, which does not exist"


# --- the checker on a planted tree -----------------------------------------------------

PLANTED = {
    "__init__.py": "",
    "types.py": "",
    "backend/__init__.py": "",
    "backend/paging.py": "from .db import Row\n",  # base importing a layer
    "backend/_ids.py": "",
    "backend/db/__init__.py": "Row = dict\n",
    "backend/store/__init__.py": "from . import bills\nfrom ._rows import update_row\n",
    "backend/store/_rows.py": 'def update_row():\n    return "UPDATE bills SET x = ?"\n',
    "backend/store/bills.py": (
        '"""Bills: SELECT * FROM bills WHERE id = ? (prose in a docstring)."""\n'
        "from ..services import rules\n"  # upward
        "from . import _rows\n"  # its own package's private module
        "from .._ids import new_id\n"  # the backend's private module, from inside it
    ),
    "backend/services/__init__.py": "",
    "backend/services/rules.py": (
        "from ... import types\n"
        "from ..store import bills\n"
        "def total(tx, table):\n"
        "    from ..store._rows import update_row\n"  # lazy reach into store's privates
        '    return tx.fetchone(f"SELECT count(*) FROM {table}")\n'  # SQL in services
    ),
    "backend/delivery/__init__.py": "from ..services.rules import total\n",  # upward
    "backend/chain/__init__.py": "from ..store import bills\n",  # sibling
    "backend/routes/__init__.py": (
        "from .. import store\n"  # HTTP skipping services
        "from ..services import rules\n"
        "from ..delivery import _private\n"  # a private name of another package
        'METHODS = ("GET", "POST", "DELETE")\n'
    ),
    "backend/services/relay.py": (
        "class ChainRelay:\n"
        "    def now(self, tx):\n"
        "        return self._gateway.now(tx=tx)\n"  # the relay holds the gateway
    ),
    "backend/services/reach.py": (
        "from typing import Any\n"
        "def advance(ctx, seconds):\n"
        "    gw: Any = ctx.chain.gateway\n"  # the gateway, typed Any
        "    gw.advance_clock(seconds)\n"
        "    ctx.chain.gateway.events_after(0)\n"  # the gateway, typed
        "    return ctx.genesis.admin\n"  # the genesis beside the sandbox
        "def fund(ctx, sandbox: Any, amount: int):\n"  # the sandbox, typed Any
        "    box: Any = ctx.box\n"  # Any, but not the chain
        "    chain: dict[str, Any] = {'ledger': 1}\n"  # an event's chain field: no Any
        "    relay: 'Optional[Any]' = ctx.chain\n"  # the relay, typed Any in a string
        "    return ctx.require_sandbox('x').genesis()\n"
    ),
    "backend/newthing.py": "",  # no layer
    "cli/__init__.py": "from ..backend.store import _rows\n",  # the CLI reaching in
}


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, Module]:
    root = tmp_path / SDK
    for rel, text in PLANTED.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return modules(root)


def _compact(problems: list[str]) -> set[str]:
    """``module: statement  [reason]`` without the path and line."""
    return {p.split(": ", 1)[1] for p in problems}


def test_the_checker_finds_planted_layer_and_private_violations(
    planted: dict[str, Module],
) -> None:
    b = BACKEND
    assert _compact(layer_violations(planted)) == {
        f"{b}.paging: from {b}.db import Row  [base modules import no layer (db)]",
        f"{b}.store.bills: from {b}.services import rules  [store may not import the higher"
        " layer services]",
        f"{b}.services.rules: from {b}.store._rows import update_row  [private to {b}.store:"
        " import a public name instead]",
        f"{b}.delivery: from {b}.services.rules import total  [delivery may not import the"
        " higher layer services]",
        f"{b}.chain: from {b}.store import bills  [the chain gateway does not know the store]",
        f"{b}.routes: from {b} import store  [the HTTP layer calls services, not the store]",
        f"{b}.routes: from {b}.delivery import _private  [private to {b}.delivery: import a"
        " public name instead]",
        f"{b}.routes: from {b}.delivery import _private  [the HTTP layer calls services, not the"
        " delivery engine]",
        f"{b}.newthing has no layer: add its top-level name to LAYER_OF",
        f"{SDK}.cli: from {b}.store import _rows  [private to {b}.store: import a public name"
        " instead]",
    }


def test_the_checker_finds_planted_reaches_past_the_chain_seam(
    planted: dict[str, Module],
) -> None:
    reach = f"{SERVICES}.reach"
    assert _compact(chain_seam_violations(planted)) == {
        f"{reach}: gw: Any = ctx.chain.gateway  [the chain is typed: ChainRelay,"
        " SandboxControls, Genesis]",
        f"{reach}: ctx.chain.gateway  [services call the relay (ctx.chain), never the gateway"
        " behind it]",
        f"{reach}: ctx.genesis  [the genesis is a sandbox power:"
        " ctx.require_sandbox(...).genesis()]",
        f"{reach}: sandbox: Any  [the chain is typed: ChainRelay, SandboxControls, Genesis]",
        f"{reach}: relay: 'Optional[Any]' = ctx.chain  [the chain is typed: ChainRelay,"
        " SandboxControls, Genesis]",
    }


def test_the_checker_finds_planted_sql(planted: dict[str, Module]) -> None:
    assert _compact(sql_violations(planted)) == {
        f"{BACKEND}.services.rules: SQL outside the store: 'SELECT count(*) FROM {{}}'"
    }
