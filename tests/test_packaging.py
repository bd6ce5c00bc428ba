"""What each install brings: declared imports, the extras table, and the built wheel alone.

The wheel test builds the package, installs it with nothing but its own dependencies
into a new virtualenv (from the package index, as a merchant would), and drives the
client, webhook verification and the CLI there.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib

from lumenlater_sdk._extras import EXTRA_OF_MODULE, install_hint

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lumenlater_sdk"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

# Modules a plain install must import: everything except the backend, the framework
# adapters and the CLI modules that start servers (those import their extras lazily).
EXTRA_MODULES = {
    "backend": "backend",
    "webhooks/flask.py": "flask",
    "webhooks/django.py": "django",
    "checkout/django": "django",
}


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared(group: list[str]) -> set[str]:
    return {_requirement_name(r) for r in group}


BASE = _declared(PROJECT["dependencies"])
EXTRAS = {name: _declared(reqs) for name, reqs in PROJECT["optional-dependencies"].items()}


def _distribution(module: str) -> str:
    names = importlib.metadata.packages_distributions().get(module)
    assert names, f"{module} is imported but no installed distribution provides it"
    return names[0].lower().replace("_", "-")


def _imports() -> Iterator[tuple[Path, str, bool]]:
    """(file, third-party top-level module, imported at module level) for every import."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top in sys.stdlib_module_names or top in ("lumenlater_sdk", "__future__"):
                    continue
                yield path, top, id(node) in top_level


def _extra_of(path: Path) -> str | None:
    relative = path.relative_to(PACKAGE).as_posix()
    for prefix, extra in EXTRA_MODULES.items():
        if relative == prefix or relative.startswith(prefix + "/"):
            return extra
    return None


def test_every_imported_package_is_declared() -> None:
    everything = BASE.union(*EXTRAS.values())
    undeclared = sorted(
        f"{path.relative_to(ROOT)}: {module} ({_distribution(module)})"
        for path, module, _ in _imports()
        if _distribution(module) not in everything
    )
    assert not undeclared


def test_plain_modules_import_only_the_base_dependencies_at_module_level() -> None:
    # An extra's package imported at module level would break `import lumenlater_sdk`
    # (or the CLI) on a plain install; inside the function that needs it, it is fine.
    offending = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path, module, module_level in _imports()
        if module_level
        and _extra_of(path) is None
        and _distribution(module) not in BASE
        and not (path.name == "_http.py" and module == "httpx")
    )
    assert not offending


def test_extra_modules_import_only_their_extra() -> None:
    for path, module, _ in _imports():
        extra = _extra_of(path)
        if extra is not None and extra != "backend":
            assert _distribution(module) in BASE | EXTRAS[extra], (path, module)


def test_the_missing_extra_table_matches_pyproject() -> None:
    for module, extra in EXTRA_OF_MODULE.items():
        assert _distribution(module) in EXTRAS[extra], (module, extra)
    listed = {_distribution(module) for module in EXTRA_OF_MODULE}
    for extra in ("backend", "stellar", "flask", "django", "redis"):
        assert EXTRAS[extra] <= listed, f"{extra}: {EXTRAS[extra] - listed} missing"


def test_the_stellar_extra_is_what_signing_names() -> None:
    # Self-custody signing needs stellar-sdk alone; the backend keeps its own copy.
    from lumenlater_sdk._signing import SIGNING_EXTRA

    assert EXTRAS[SIGNING_EXTRA] == {"stellar-sdk"}
    assert "stellar-sdk" in EXTRAS["backend"]
    assert "stellar-sdk" not in BASE


def test_only_the_transport_module_imports_httpx() -> None:
    # A move to another HTTP library is then one file (the guide's rule).
    importers = {path.relative_to(PACKAGE).as_posix() for path, m, _ in _imports() if m == "httpx"}
    assert importers == {"_http.py"}


def test_package_data_patterns_match_files() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package, patterns in setuptools["package-data"].items():
        for pattern in patterns:
            assert list((ROOT / package).glob(pattern)), f"{package}/{pattern} matches nothing"


# --- the wheel, installed alone -----------------------------------------------------


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and egg-info beside the sources.
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        PACKAGE, source / "lumenlater_sdk", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("lumenlater_sdk-*.whl")
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(work / "home")
    return {"wheel": wheel, "bin": bin_dir, "env": env, "cwd": work}


def _run(install: dict[str, Any], *argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env={**install["env"], **kwargs.pop("env", {})},
        cwd=install["cwd"],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_the_wheel_holds_the_package_and_its_data_only(plain_install: dict[str, Any]) -> None:
    names = zipfile.ZipFile(plain_install["wheel"]).namelist()
    assert "lumenlater_sdk/py.typed" in names
    assert "lumenlater_sdk/backend/static/lumenlater.js" in names
    assert all(n.startswith(("lumenlater_sdk/", "lumenlater_sdk-")) for n in names), names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(plain_install["wheel"]).read(metadata).decode()
    required = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    plain = [line for line in required if "extra ==" not in line]
    assert {_requirement_name(line.split(":", 1)[1].strip()) for line in plain} == BASE


_PLAIN_SCRIPT = """
import importlib.util, json, sys
from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk.webhooks import construct_event, BillPaidEvent
from lumenlater_sdk.webhooks.testing import signed_request, random_address

missing = [m for m in ("stellar_sdk", "starlette", "flask", "django", "redis", "cryptography")
           if importlib.util.find_spec(m) is not None]
assert not missing, missing

request = signed_request("bill.paid", secret="whsec_plain")
event = construct_event(request.body, request.headers["X-LumenLater-Signature"], "whsec_plain")
assert isinstance(event, BillPaidEvent), type(event)

with LumenLater(api_key=sys.argv[1], base_url=sys.argv[2], max_retries=0) as ll:
    bill = ll.bills.create(amount=usdc("12.50"), customer=random_address(), order_id="plain-1")
    print(json.dumps({"bill": bill.id, "amount": bill.amount, "event": event.type}))
"""


def test_a_plain_install_runs_the_client_and_verifies_webhooks(
    plain_install: dict[str, Any], sandbox: Any
) -> None:
    python = str(plain_install["bin"] / "python")
    done = _run(plain_install, python, "-c", _PLAIN_SCRIPT, sandbox.secret_key, sandbox.base_url)
    assert done.returncode == 0, done.stderr
    assert '"amount": 125000000' in done.stdout and '"event": "bill.paid"' in done.stdout


_SIGNING_SCRIPT = """
import json, sys
from lumenlater_sdk import AuthorizationRequiredError, LumenLater, MissingExtraError
from lumenlater_sdk._signing import authorization_body
from lumenlater_sdk.types import Bill

bill = Bill.model_validate(json.loads(sys.argv[1]))
client = LumenLater(api_key="sk_test_plain", stellar_signer=lambda payload: bytes(64))
try:
    authorization_body(bill, client._core.signer)
except MissingExtraError as exc:
    print(exc)
try:
    authorization_body(bill, None)
except AuthorizationRequiredError as exc:
    print("required", exc.bill.id)
"""


def test_signing_on_a_plain_install_names_the_stellar_extra(
    plain_install: dict[str, Any],
) -> None:
    bill = {
        "id": "bill_plain", "created": 1, "customer": "G" + "A" * 55, "merchant": "G" + "B" * 55,
        "amount": 1, "status": "requires_authorization", "expires_at": 2, "chain": None,
        "authorization": {
            "address": "G" + "B" * 55, "contract_id": "C" + "A" * 55, "function": "create_bill",
            "entry_xdr": "AAAA", "nonce": "1", "signature_expiration_ledger": 9,
            "network_passphrase": "Standalone Network ; February 2017",
        },
    }  # fmt: skip
    python = str(plain_install["bin"] / "python")
    done = _run(plain_install, python, "-c", _SIGNING_SCRIPT, json.dumps(bill))
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.strip().splitlines()
    assert first.endswith(f"pip install '{plain_install['wheel']}[stellar]'"), first
    assert second == "required bill_plain"


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["lumenlater", "sandbox"], "lumenlater sandbox"),
        (["lumenlater", "worker"], "lumenlater worker"),
        (["python", "-m", "lumenlater_sdk.backend"], "python -m lumenlater_sdk.backend"),
    ],
)
def test_backend_commands_on_a_plain_install_print_a_one_line_hint(
    plain_install: dict[str, Any], argv: list[str], command: str
) -> None:
    done = _run(plain_install, *argv)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{command}: needs the 'backend' extra (")
    # The wheel's own file: the package is not on PyPI yet, so that is what installs it.
    assert lines[0].endswith(f"pip install '{plain_install['wheel']}[backend]'")


def test_the_hint_of_a_checkout_installs_from_the_checkout() -> None:
    # This suite runs from `pip install -e '.[dev]'` (scripts/_setup.sh).
    assert install_hint("flask") == f"pip install -e '{ROOT}[flask]'"


def test_the_cli_lists_every_command_on_a_plain_install(plain_install: dict[str, Any]) -> None:
    done = _run(plain_install, "lumenlater", "--help")
    assert done.returncode == 0, done.stderr
    for command in ("sandbox", "worker", "demo", "listen", "trigger", "clock", "bills"):
        assert command in done.stdout


_BLOCKED_IMPORT_SCRIPT = """
import importlib, importlib.abc, pkgutil, sys
blocked = set(sys.argv[1].split(","))

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
for name in sys.argv[2:]:
    importlib.import_module(name)
"""


def test_plain_modules_import_with_every_extra_missing() -> None:
    # Transitive imports too (a CLI module importing the backend at module level): the
    # wheel test proves the same on a real plain install, this names the module.
    plain = sorted(
        ".".join(("lumenlater_sdk", *path.relative_to(PACKAGE).with_suffix("").parts))
        .removesuffix(".__init__")
        .removesuffix(".__main__")
        for path in PACKAGE.rglob("*.py")
        if _extra_of(path) is None and path.name != "__main__.py"
    )
    done = subprocess.run(
        [sys.executable, "-c", _BLOCKED_IMPORT_SCRIPT, ",".join(EXTRA_OF_MODULE), *plain],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
