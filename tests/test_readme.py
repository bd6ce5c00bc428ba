"""README.md works as written: its install line, its links, and its Python blocks.

Every ```python block runs, in order, against a real sandbox, in a separate Python
that can import only what the README's own ``pip install`` line brings: the
package's base requirements, the extras that line names, and everything those
require in turn. Any other installed distribution (the test suite's Flask, Django,
pytest…) is refused at import, so a block that needs an extra the README does not
install fails here as it would on a reader's fresh machine.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.DOTALL | re.MULTILINE)
# `pip install -e '.[a,b]'` (a checkout) or `pip install 'lumenlater-sdk[a,b]'` (PyPI).
INSTALL = re.compile(
    r"pip install (?P<editable>-e )?'(?P<target>\.|lumenlater-sdk)\[(?P<x>[\w,]+)\]'"
)
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SELF = canonicalize_name(PROJECT["name"])


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def readme_blocks() -> list[tuple[int, str]]:
    """``(line number, code)`` of each python block in the README."""
    text = readme_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def readme_extras() -> set[str]:
    """The extras of the README's install command (in a shell block before the first
    Python block; later ones, such as the docs build's, are not what the blocks run on)."""
    text = readme_text()
    before = text[: text.index("```python")]
    lines = [m for block in SHELL_BLOCK.findall(before) for m in INSTALL.finditer(block)]
    assert len(lines) == 1, "the quickstart has one install command: " + repr(lines)
    assert lines[0]["target"] == "." and lines[0]["editable"], "it installs this checkout"
    return set(lines[0]["x"].split(","))


def importable_distributions(extras: set[str]) -> set[str]:
    """This package with *extras*, and every distribution that requires in turn."""
    allowed: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(f"{SELF}[{','.join(sorted(extras))}]")]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in seen:
            continue
        seen.add((name, frozenset(req.extras)))
        allowed.add(name)
        if name == SELF:
            # pyproject.toml, not the installed metadata: it may be newer than the install.
            optional = PROJECT["optional-dependencies"]
            for extra in req.extras:
                assert extra in optional, f"the README installs an unknown extra {extra!r}"
            requires = [*PROJECT["dependencies"], *(r for e in req.extras for r in optional[e])]
            # Plain requirements here; their markers are platform checks.
            todo += [r for r in map(Requirement, requires) if _applies(r, set())]
            continue
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here, so nothing of it can be imported anyway
        todo += [r for r in map(Requirement, requires) if _applies(r, set(req.extras))]
    return allowed


def _applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in extras | {""})


def refused_modules(allowed: set[str]) -> list[str]:
    """Top-level modules of installed distributions outside *allowed*."""
    refused = set()
    for module, dists in importlib.metadata.packages_distributions().items():
        if module in sys.stdlib_module_names or module == "lumenlater_sdk":
            continue
        if not {canonicalize_name(d) for d in dists} & allowed:
            refused.add(module)
    return sorted(refused)


# Runs in a new interpreter: refuse the modules, then run the blocks in one namespace.
_RUNNER = """
import importlib.abc, json, sys

refused = set(json.loads(sys.argv[1]))
blocks = json.loads(sys.argv[2])


class NotInstalledByTheReadme(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in refused:
            raise ModuleNotFoundError(
                f"No module named {name!r} (not installed by the README's pip install line)",
                name=name,
            )
        return None


sys.meta_path.insert(0, NotInstalledByTheReadme())
namespace = {"__name__": "readme"}
for path, line, code in blocks:
    # Padded so tracebacks show README.md's own line numbers.
    exec(compile("\\n" * (line - 1) + code, path, "exec"), namespace)
namespace["ll"].close()
print("readme blocks ran:", len(blocks))
"""


def test_readme_has_a_quickstart() -> None:
    text = readme_text()
    # The two commands stay at the top, before anything else.
    assert text.index("./scripts/demo") < text.index("./scripts/test") < text.index("Quickstart")
    code = "\n".join(block for _, block in readme_blocks())
    for name in ("LumenLater(", "checkout.sessions.create(", "confirm_return(", "WebhookApp("):
        assert name in code


def test_the_pypi_form_names_the_same_extras_and_says_it_is_not_published() -> None:
    text = readme_text()
    pypi = [m for m in INSTALL.finditer(text) if m["target"] == "lumenlater-sdk"]
    assert pypi, "the README says how to install from PyPI once published"
    assert {frozenset(m["x"].split(",")) for m in pypi} == {frozenset(readme_extras())}
    assert "not on PyPI yet" in text


def test_the_readme_links_the_docs_and_both_shops() -> None:
    text = readme_text()
    for target in ("docs/index.rst", "examples/flask_shop", "examples/django_shop"):
        assert f"]({target}" in text, f"no link to {target}"
        assert (ROOT / target).exists(), target
    # How to build the docs, with the extra that brings Sphinx.
    assert "sphinx-build -W --keep-going -b html docs docs/_build/html" in text
    assert "docs" in PROJECT["optional-dependencies"]


def test_the_refusal_refuses() -> None:
    # The check below means something only if it refuses what the README leaves out.
    refused = set(refused_modules(importable_distributions({"backend"})))
    assert {"flask", "django", "redis", "pytest"} <= refused
    allowed = importable_distributions({"backend", "flask"})
    assert {"flask", "werkzeug", "starlette", "httpx", "pydantic"} <= allowed
    assert not {"flask", "werkzeug", "jinja2", "starlette"} & set(refused_modules(allowed))


def test_readme_python_blocks_run_with_only_the_readme_install(
    sandbox: Any, tmp_path: Path
) -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 5
    refused = refused_modules(importable_distributions(readme_extras()))
    env = {
        "LUMENLATER_API_KEY": sandbox.secret_key,
        "LUMENLATER_BASE_URL": sandbox.base_url,
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUNNER,
            json.dumps(refused),
            json.dumps([(str(README), line, code) for line, code in blocks]),
        ],
        cwd=tmp_path,  # the blocks may write files (a webhook event store)
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"readme blocks ran: {len(blocks)}" in done.stdout
    # A reader who pastes the blocks into a sandbox leaves no endpoint behind to be
    # retried for a day (nothing listens at shop.example).
    from lumenlater_sdk import LumenLater

    with LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as ll:
        left = [e.url for e in ll.webhook_endpoints.list() if "shop.example" in e.url]
    assert left == []
    assert "ll.webhook_endpoints.create(" in "".join(code for _, code in blocks)
