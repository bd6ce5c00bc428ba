"""Fixtures for the integration tests: the SDK clients against a real sandbox backend.

Every test that takes ``sb`` (or a client built on it) runs four times: against the
SQLite sandbox and the PostgreSQL one, and against both again with the ``soroban``
chain, relaying every chain call through a second sandbox's Soroban RPC endpoint (the
repo-root ``sandbox``, ``sandbox_pg``, ``sandbox_soroban`` and ``sandbox_soroban_pg``
fixtures).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from browser_wallet import stellar_base_init_script

from lumenlater_sdk import AsyncLumenLater, LumenLater
from lumenlater_sdk.backend.testing import SandboxHandle


@pytest.fixture(
    params=["sandbox", "sandbox_pg", "sandbox_soroban", "sandbox_soroban_pg"],
    ids=["sqlite", "postgresql", "soroban-sqlite", "soroban-postgresql"],
)
def sb(request: pytest.FixtureRequest) -> SandboxHandle:
    """A running backend with a fresh merchant: on SQLite and on PostgreSQL, over the
    local chain and over the soroban one."""
    handle: SandboxHandle = request.getfixturevalue(request.param)
    return handle


@pytest.fixture
def client(sb: SandboxHandle) -> Iterator[LumenLater]:
    """The blocking client with the sandbox merchant's secret key."""
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(sb: SandboxHandle) -> AsyncIterator[AsyncLumenLater]:
    """The asyncio client with the sandbox merchant's secret key."""
    async with AsyncLumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as c:
        yield c


@pytest.fixture(scope="session")
def stellar_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``@stellar/stellar-base``'s browser bundle as an init script, for the test wallet
    of the Chromium tests (``browser_wallet``)."""
    return stellar_base_init_script(tmp_path_factory.mktemp("js"))
