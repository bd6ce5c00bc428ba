"""Real servers for the whole test suite: a throwaway PostgreSQL cluster and Redis,
and the system's headless Chromium for the browser tests (``browser``, ``screenshot``).

Each is started once per session on a free loopback port and torn down at the end.
A missing server binary (or browser) is a test *failure*, never a skip: CI installs them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lumenlater_sdk._ports import free_port, wait_for_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["free_port"]

ROOT = Path(__file__).resolve().parent
# The browser tests drive Debian's Chromium, never one downloaded by playwright.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_tool(name: str) -> str:
    for d in PG_BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed (needed for the PostgreSQL tests)")
    return found


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; run them as the postgres user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A running PostgreSQL cluster; yields the DSN of its ``postgres`` database.

    ``LUMENLATER_TEST_POSTGRES`` (a DSN) names a cluster started by the caller instead:
    ``scripts/mutation`` runs the tests thousands of times and starts one for all.
    """
    external = os.environ.get("LUMENLATER_TEST_POSTGRES")
    if external:
        yield external
        return
    base = Path(tempfile.mkdtemp(prefix="ll-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [
                _pg_tool("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_postgres(
            [
                _pg_tool("pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(base / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([_pg_tool("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def _new_pg_database(server: str) -> str:
    """A fresh, empty database on the cluster at *server*: its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL cluster."""
    return _new_pg_database(pg_server)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A running redis-server on a free port (no persistence); ``LUMENLATER_TEST_REDIS``
    names one started by the caller instead."""
    external = os.environ.get("LUMENLATER_TEST_REDIS")
    if external:
        yield external
        return
    exe = shutil.which("redis-server")
    if not exe:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not wait_for_port(port, timeout=10):
        proc.kill()
        pytest.fail("redis-server did not start")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """:func:`db_url` made once per test module, for modules whose tests share one
    database they seed once (the seeding costs more than the tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('module_db') / 'test.db'}"
    return _new_pg_database(str(request.getfixturevalue("pg_server")))


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[object]:
    """A running backend on SQLite (loopback, free port) with a fresh merchant.

    The handle has ``base_url``, ``secret_key``, ``publishable_key``,
    ``webhook_secret``, ``merchant_id`` and ``create_merchant()``; see
    :func:`lumenlater_sdk.backend.testing.run_sandbox`.
    """
    from lumenlater_sdk.backend.testing import run_sandbox

    with run_sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}") as handle:
        yield handle


@pytest.fixture
def sandbox_pg(pg_url: str) -> Iterator[object]:
    """Like ``sandbox``, on a fresh PostgreSQL database."""
    from lumenlater_sdk.backend.testing import run_sandbox

    with run_sandbox(pg_url) as handle:
        yield handle


@pytest.fixture(scope="session")
def soroban_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A sandbox serving its Soroban RPC endpoint (``--soroban-rpc``): the chain that
    the ``sandbox_soroban`` backends relay to, shared by the session."""
    from lumenlater_sdk.backend.testing import run_sandbox

    db = tmp_path_factory.mktemp("soroban-chain") / "chain.db"
    with run_sandbox(f"sqlite:///{db}", soroban_rpc=True, webhook_url=None) as chain:
        yield chain


@pytest.fixture
def sandbox_soroban(tmp_path: Path, soroban_chain: object) -> Iterator[object]:
    """Like ``sandbox``, with the ``soroban`` chain gateway: every chain call is a real
    transaction through ``soroban_chain``'s RPC endpoint, and the test helpers use that
    chain's ``lumenlater_*`` methods."""
    from lumenlater_sdk.backend.testing import run_sandbox, soroban_options

    options = soroban_options(f"{soroban_chain.base_url}/soroban/rpc", tmp_path)  # type: ignore[attr-defined]
    with run_sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}", **options) as handle:
        yield handle


@pytest.fixture
def sandbox_soroban_pg(tmp_path: Path, pg_url: str, soroban_chain: object) -> Iterator[object]:
    """Like ``sandbox_soroban``, on a fresh PostgreSQL database (the gateway's journal in
    it too, through a pool of its own)."""
    from lumenlater_sdk.backend.testing import run_sandbox, soroban_options

    options = soroban_options(f"{soroban_chain.base_url}/soroban/rpc", tmp_path)  # type: ignore[attr-defined]
    with run_sandbox(pg_url, **options) as handle:
        yield handle


# The event loop of playwright's sync API while the session's Chromium runs. After every
# sync call playwright leaves it marked as the thread's running loop, which makes
# asyncio.run() and pytest-asyncio's runner refuse to start ("cannot be called from a
# running event loop"). So it is marked only during the phases of the tests that use
# ``browser`` (the hooks below) and cleared for every other test. A fixture built on
# ``browser`` (a module's shared page, say) may be torn down after a test that does
# not use it: it takes ``browser`` as an argument, and its teardown gets the loop too.
_playwright_loop: list[asyncio.AbstractEventLoop] = []


@contextmanager
def _playwright_loop_running(on: bool) -> Iterator[None]:
    if _playwright_loop:
        asyncio._set_running_loop(_playwright_loop[0] if on else None)
    try:
        yield
    finally:
        if _playwright_loop:
            asyncio._set_running_loop(None)


def _uses_browser(item: pytest.Item) -> bool:
    return "browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    with _playwright_loop_running(_uses_browser(item)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    with _playwright_loop_running(_uses_browser(item)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    with _playwright_loop_running(_uses_browser(item)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    value = yield
    if "browser" in fixturedef.argnames:
        # Finalizers run last-in first-out: this one runs before the fixture's own
        # teardown; the teardown hook clears the loop again afterwards.
        fixturedef.addfinalizer(_mark_playwright_loop_running)
    return value


def _mark_playwright_loop_running() -> None:
    if _playwright_loop:
        asyncio._set_running_loop(_playwright_loop[0])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The system Chromium (``/usr/bin/chromium``), headless, shared by the whole session.

    Missing it is a failure (``scripts/test`` installs it). Each test opens its own
    context or page and closes it.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    p = sync_playwright().start()
    try:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _playwright_loop.append(asyncio.get_running_loop())
        yield b
    finally:
        # Torn down by whichever test runs last, maybe one without ``browser``.
        if _playwright_loop:
            asyncio._set_running_loop(_playwright_loop.pop())
        try:
            p.stop()
        finally:
            asyncio._set_running_loop(None)


def screenshot_dir() -> Path:
    """Where screenshots go: ``$LUMENLATER_SCREENSHOTS``, else ``<repo>/screenshots``."""
    return Path(os.environ.get("LUMENLATER_SCREENSHOTS") or ROOT / "screenshots")


def _file_safe(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_")


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)``: save a full-page PNG of *page*, return its path.

    The file is ``<test id>--<name>.png`` in :func:`screenshot_dir` (the test id with
    anything but letters, digits, ``.``, ``_`` and ``-`` turned into ``_``), so a
    test's screenshots sort together and a rerun overwrites them. Open them before
    you call a page done.
    """
    test_id = _file_safe(request.node.nodeid)

    def take(page: Page, name: str) -> Path:
        folder = screenshot_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{test_id}--{_file_safe(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
