"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest

from lumenlater_sdk.backend.testing import SandboxHandle


@pytest.fixture(params=["sqlite", "postgresql"])
def any_sandbox(request: pytest.FixtureRequest) -> SandboxHandle:
    """The ``sandbox`` fixture, once on SQLite and once on PostgreSQL."""
    name = "sandbox" if request.param == "sqlite" else "sandbox_pg"
    handle: SandboxHandle = request.getfixturevalue(name)
    return handle
