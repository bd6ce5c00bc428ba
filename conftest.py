"""Real servers for the whole test suite: a throwaway PostgreSQL cluster and Redis.

Each is started once per session on a free loopback port and torn down at the end.
A missing server binary is a test *failure*, never a skip: CI installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lumenlater_sdk._ports import free_port, wait_for_port

__all__ = ["free_port"]

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


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL cluster."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


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
