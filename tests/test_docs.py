"""The Sphinx site in ``docs/`` builds without a warning, its Python samples run, and
every page of the built site works in headless Chromium.

Every ``.. code-block:: python`` of a page runs, in page order and in one namespace,
against a fresh sandbox (the repo-root ``sandbox`` fixture). The environment is what
the quickstart tells a reader to export after ``lumenlater sandbox``. Shell sessions
and anything that starts a server or blocks are ``console`` / ``text`` blocks and do
not run.

The browser tests serve the built site on loopback and open every page (all ``*.html``
but the generated index, search and module index): no console error, no failed or
4xx/5xx request, a visible ``h1``, every same-origin link answering 200, and a
screenshot (the repo-root ``screenshot`` fixture).
"""

from __future__ import annotations

import argparse
import functools
import html
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, expect

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


@dataclass(frozen=True)
class Build:
    """One ``sphinx-build -W --keep-going -b html`` of ``docs/``."""

    result: subprocess.CompletedProcess[str]
    html: Path


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The HTML site, built once for this module's tests."""
    out = tmp_path_factory.mktemp("docs")
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
            str(out / "doctrees"),
            str(DOCS),
            str(out / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    return Build(result, out / "html")


def test_sphinx_build_has_no_warnings(built_docs: Build) -> None:
    result = built_docs.result
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("index", "quickstart", "guides/client", "guides/webhooks", "reference/types"):
        assert (built_docs.html / f"{name}.html").is_file()


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


def _cli_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _cli_parsers(sub)


def test_the_cli_reference_shows_every_command_and_option(built_docs: Build) -> None:
    """``reference/cli`` is generated from ``build_parser()`` (docs/_ext/lumenlater_cli.py):
    every command and option of the CLI is on the page as the CLI spells it."""
    from lumenlater_sdk.cli import build_parser

    page = (built_docs.html / "reference" / "cli.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    parsers = list(_cli_parsers(build_parser()))
    assert len(parsers) > 20
    for parser in parsers:
        assert f"{parser.prog}¶" in text, f"no section for {parser.prog}"
        options = {o for a in parser._actions for o in a.option_strings} - {"-h", "--help"}
        for option in sorted(options):  # not typeset into "–option"
            assert option in text, f"{parser.prog}: {option} missing"


def test_the_guides_of_the_issue_are_in_the_table_of_contents(built_docs: Build) -> None:
    index = (built_docs.html / "index.html").read_text(encoding="utf-8")
    for page in ("guides/flask", "guides/django", "guides/troubleshooting", "reference/cli"):
        assert f'href="{page}.html"' in index, page


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


# Generated pages that are not written pages (and sphinx's folders of non-pages).
NOT_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
NOT_PAGE_DIRS = {"_static", "_sources"}


def built_pages(html: Path) -> list[str]:
    """Every page of the built site, relative to its root (``guides/client.html``)."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.as_posix() in NOT_PAGES or NOT_PAGE_DIRS & set(rel.parts[:-1]):
            continue
        pages.append(rel.as_posix())
    return pages


def written_pages() -> list[str]:
    """The pages written in ``docs/`` (one per ``.rst``), as built-site paths."""
    return [p.relative_to(DOCS).with_suffix(".html").as_posix() for p in DOCS.rglob("*.rst")]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    """The built site served on loopback, and one browser page that visits it."""

    url: str
    page: Page
    problems: list[str] = field(default_factory=list)
    link_status: dict[str, int] = field(default_factory=dict)

    def same_origin(self, url: str) -> bool:
        return url.startswith(self.url + "/")

    def by_the_page(self, url: str) -> bool:
        """Not Chromium's own ``/favicon.ico`` probe (sphinx's theme sets no icon)."""
        return urlsplit(url).path != "/favicon.ico"


@pytest.fixture(scope="module")
def docs_site(built_docs: Build, browser: Browser) -> Iterator[Site]:
    handler = functools.partial(_QuietHandler, directory=str(built_docs.html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-http", daemon=True)
    thread.start()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        site = Site(f"http://127.0.0.1:{server.server_address[1]}", context.new_page())

        def console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and site.by_the_page(msg.location.get("url", "")):
                site.problems.append(f"console error: {msg.text} ({msg.location})")

        def failed(request: Request) -> None:
            if site.by_the_page(request.url):
                site.problems.append(f"request failed: {request.url} ({request.failure})")

        def response(resp: Response) -> None:
            if resp.status >= 400 and site.same_origin(resp.url) and site.by_the_page(resp.url):
                site.problems.append(f"HTTP {resp.status}: {resp.url}")

        site.page.on("console", console)
        site.page.on("pageerror", lambda exc: site.problems.append(f"page error: {exc}"))
        site.page.on("requestfailed", failed)
        site.page.on("response", response)
        yield site
    finally:
        context.close()
        server.shutdown()
        server.server_close()
        thread.join(10)


def _check_page(site: Site, rel: str, screenshot: Callable[[Page, str], Path]) -> None:
    page = site.page
    site.problems.clear()
    answer = page.goto(f"{site.url}/{rel}", wait_until="load")
    assert answer is not None and answer.status == 200, rel
    expect(page.locator("h1").first).to_be_visible()
    screenshot(page, rel.removesuffix(".html"))
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    targets = {urldefrag(h).url for h in hrefs if site.same_origin(h)}
    for target in sorted(targets - site.link_status.keys()):
        # The HTTP server answers, not the browser: a link is not followed by a visit.
        site.link_status[target] = httpx.get(target, timeout=10).status_code
    broken = [f"link to {t}: HTTP {site.link_status[t]}" for t in sorted(targets)]
    problems = site.problems + [b for b in broken if not b.endswith("HTTP 200")]
    assert not problems, f"{rel}:\n" + "\n".join(problems)
    assert urlsplit(page.url).path == "/" + rel  # no redirect elsewhere


@pytest.mark.parametrize("rel", sorted(written_pages()))
def test_written_page_in_chromium(
    rel: str, docs_site: Site, screenshot: Callable[[Page, str], Path]
) -> None:
    _check_page(docs_site, rel, screenshot)


def test_every_other_built_page_in_chromium(
    built_docs: Build, docs_site: Site, screenshot: Callable[[Page, str], Path]
) -> None:
    """The pages sphinx generates besides the written ones (viewcode's ``_modules``)."""
    others = sorted(set(built_pages(built_docs.html)) - set(written_pages()))
    assert others, "no generated pages: did viewcode stop running?"
    for rel in others:
        _check_page(docs_site, rel, screenshot)


def test_every_written_page_is_built(built_docs: Build) -> None:
    assert set(written_pages()) <= set(built_pages(built_docs.html))
