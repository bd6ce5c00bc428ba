"""Fixtures for the backend tests: a sandbox on each database and HTTP helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


@pytest.fixture(params=["sqlite", "postgresql"])
def sb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SandboxHandle]:
    """A running sandbox, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sb.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    with run_sandbox(url, run_delivery=False, tick_interval=3600) as handle:
        yield handle


@pytest.fixture
def sb_sqlite(tmp_path: Path) -> Iterator[SandboxHandle]:
    """A running sandbox on SQLite only (for slower, database-neutral checks)."""
    with run_sandbox(
        f"sqlite:///{tmp_path / 'sb.db'}", run_delivery=False, tick_interval=3600
    ) as handle:
        yield handle


@pytest.fixture
def api(sb: SandboxHandle) -> Iterator[Api]:
    a = Api(sb.base_url, sb.secret_key)
    yield a
    a.http.close()


@pytest.fixture
def api1(sb_sqlite: SandboxHandle) -> Iterator[Api]:
    a = Api(sb_sqlite.base_url, sb_sqlite.secret_key)
    yield a
    a.http.close()
