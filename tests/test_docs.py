"""The Sphinx site in ``docs/`` builds without a warning, and its Python samples run.

Every ``.. code-block:: python`` of a page runs, in page order and in one namespace,
against a fresh sandbox (the repo-root ``sandbox`` fixture). The environment is what
the quickstart tells a reader to export after ``lumenlater sandbox``. Shell sessions
and anything that starts a server or blocks are ``console`` / ``text`` blocks and do
not run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

# A directive line, then its options, then a blank line, then the indented body.
_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)\.\. (?:code-block|code|sourcecode)::[ \t]*(?P<lang>\S*)"
)
# Languages a block may be marked with. Only ``python`` runs; every other marker is
# for text that must not run (shell sessions, configuration, HTML, output).
LANGUAGES = {"python", "console", "text", "html", "ini", "toml", "jinja", "pycon"}


@dataclass(frozen=True)
class Block:
    """One code block of a page: its language, first body line (1-based) and code."""

    lang: str
    line: int
    code: str


def page_blocks(page: Path) -> list[Block]:
    """Every code block of *page*, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        i += 1
        if not match:
            continue
        indent = len(match.group("indent"))
        while i < len(lines) and re.match(r"^\s+:[\w-]+:", lines[i]):
            i += 1  # directive options (:caption:, :emphasize-lines: …)
        body: list[str] = []
        start = i + 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        while body and not body[0].strip():
            body.pop(0)
            start += 1
        code = textwrap.dedent("\n".join(body)).rstrip() + "\n"
        blocks.append(Block(match.group("lang"), start, code))
    return blocks


def python_pages() -> list[Path]:
    """The pages with at least one Python sample."""
    pages = sorted(DOCS.rglob("*.rst"))
    return [p for p in pages if any(b.lang == "python" for b in page_blocks(p))]


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).with_suffix("").as_posix()


def test_sphinx_build_has_no_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("index", "quickstart", "guides/client", "guides/webhooks", "reference/types"):
        assert (tmp_path / "html" / f"{name}.html").is_file()


def test_code_blocks_are_marked_with_a_known_language() -> None:
    for page in sorted(DOCS.rglob("*.rst")):
        for block in page_blocks(page):
            assert block.lang in LANGUAGES, f"{page}:{block.line}: unknown language {block.lang!r}"
            if block.lang == "python":
                compile(block.code, f"{page}:{block.line}", "exec")


def test_every_guide_has_samples() -> None:
    names = {_page_id(p) for p in python_pages()}
    assert names >= {
        "quickstart",
        "guides/client",
        "guides/checkout",
        "guides/webhooks",
        "guides/sandbox",
        "guides/backend",
    }


@pytest.mark.parametrize("page", python_pages(), ids=_page_id)
def test_python_samples_run_against_the_sandbox(
    page: Path, sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMENLATER_API_KEY", sandbox.secret_key)
    monkeypatch.setenv("LUMENLATER_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("LUMENLATER_PUBLISHABLE_KEY", sandbox.publishable_key)
    monkeypatch.setenv("LUMENLATER_WEBHOOK_SECRET", sandbox.webhook_secret)
    monkeypatch.chdir(tmp_path)  # samples may write files (event stores, exports)
    # Not "__main__": a sample's ``if __name__ == "__main__":`` part (a server) stays off.
    namespace: dict[str, Any] = {"__name__": "docs_sample"}
    try:
        for block in page_blocks(page):
            if block.lang != "python":
                continue
            # Padded so that tracebacks point at the page's own line numbers.
            code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
            exec(code, namespace)
        # A sample may define a pytest-style test taking the page's client: run it too.
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                value(namespace["ll"])
    finally:
        client = namespace.get("ll")
        if client is not None and hasattr(client, "close"):
            client.close()
