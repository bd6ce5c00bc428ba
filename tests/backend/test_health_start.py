"""Honest health and a clean start: ``/healthz`` writes to the database, and a backend
whose PostgreSQL does not answer stops at start with one line and a non-zero exit."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from backend_helpers import Api
from backend_process import backend_command

from lumenlater_sdk._ports import free_port
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


def wait_until(
    probe: Callable[[], httpx.Response], done: Callable[[httpx.Response], bool]
) -> httpx.Response:
    """Poll until *done* (generous: the deadline only ends a test that would hang)."""
    deadline = time.monotonic() + 60
    while True:
        r = probe()
        if done(r) or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def assert_unhealthy(r: httpx.Response, reason: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["error"]["type"] == "api_error"
    assert body["error"]["code"] == "database_unavailable"
    assert body["error"]["request_id"] == r.headers["request-id"]
    assert reason in body["error"]["message"]


def test_healthz_fails_while_the_database_cannot_be_written(db_url: str) -> None:
    with run_sandbox(db_url, health_timeout=0.5, run_delivery=False, tick_interval=3600) as sb:
        health = lambda: httpx.get(sb.base_url + "/healthz", timeout=30)  # noqa: E731
        assert health().json() == {"status": "ok"}
        api = Api(sb.base_url, sb.secret_key)
        if db_url.startswith("sqlite"):
            _sqlite_writer_held(sb, health, api)
        else:
            _postgres_read_only(sb, health, api, db_url)
        assert wait_until(health, lambda r: r.status_code == 200).json() == {"status": "ok"}


def _sqlite_writer_held(sb: SandboxHandle, health: Callable[[], httpx.Response], api: Api) -> None:
    # Another process's write transaction holds the file's only writer slot.
    other = sqlite3.connect(sb.config.database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        r = wait_until(health, lambda r: r.status_code != 200)
        assert_unhealthy(r, "did not take a write within 0.5 s")
        assert api.get("/v1/account").status_code == 200  # reads still work: not a ping
    finally:
        other.execute("ROLLBACK")
        other.close()


def _postgres_read_only(
    sb: SandboxHandle, health: Callable[[], httpx.Response], api: Api, url: str
) -> None:
    def set_read_only(on: bool) -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SET default_transaction_read_only = off")  # this session only
            change = (
                f"{'SET' if on else 'RESET'} default_transaction_read_only{' = on' if on else ''}"
            )
            # The cluster's configuration, reloaded: the backend's open sessions take it
            # too (this test's own cluster, put back below).
            admin.execute(f"ALTER SYSTEM {change}")
            admin.execute("SELECT pg_reload_conf()")

    set_read_only(True)
    try:
        r = wait_until(health, lambda r: "ReadOnlySqlTransaction" in r.text)
        assert_unhealthy(r, "cannot be written (ReadOnlySqlTransaction)")
        assert api.get("/v1/account").status_code == 200  # reads still work: not a ping
    finally:
        set_read_only(False)


def test_unreachable_postgresql_ends_the_start_with_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://lumen:hunter2@127.0.0.1:{port}/shop"
    sandbox = backend_command(url, tmp_path / "secret.key", "--database-timeout", "1")
    worker = [*sandbox[:2], "lumenlater_sdk.cli", "worker", *sandbox[3:]]
    for command in (sandbox, worker):
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert f"PostgreSQL at 127.0.0.1:{port} did not accept a connection within 1 s" in last
        assert last.endswith("Connection refused")
        assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_requests_answer_after_postgresql_drops_every_session(pg_url: str) -> None:
    """A restart or failover of PostgreSQL closes the backend's pooled sessions: the
    request that meets a dead one fails with a JSON 500 (the pool then replaces it),
    it never spins or hangs, and health and reads recover."""
    with run_sandbox(pg_url, health_timeout=0.5, run_delivery=False, tick_interval=3600) as sb:
        api = Api(sb.base_url, sb.secret_key)
        for _ in range(4):  # several pooled sessions in use
            assert api.get("/v1/account").status_code == 200
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        answers = [api.get("/v1/account") for _ in range(20)]  # httpx times out a hang
        assert all(r.status_code in (200, 500) for r in answers), [r.text for r in answers]
        assert all(r.headers["content-type"].startswith("application/json") for r in answers)
        assert answers[-1].status_code == 200
        health = lambda: httpx.get(sb.base_url + "/healthz", timeout=30)  # noqa: E731
        assert wait_until(health, lambda r: r.status_code == 200).json() == {"status": "ok"}
