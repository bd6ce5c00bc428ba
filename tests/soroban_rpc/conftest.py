"""A sandbox with the Soroban RPC endpoint on, over loopback, for stellar-sdk's client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stellar_sdk import Keypair, SorobanServer

from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    db: Path = tmp_path_factory.mktemp("rpc") / "sandbox.db"
    with run_sandbox(f"sqlite:///{db}", webhook_url=None, soroban_rpc=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def server(sandbox: SandboxHandle) -> SorobanServer:
    return SorobanServer(f"{sandbox.base_url}/soroban/rpc")


def friend(sandbox: SandboxHandle) -> Keypair:
    """A new account, funded by friendbot."""
    kp = Keypair.random()
    r = httpx.get(f"{sandbox.base_url}/friendbot", params={"addr": kp.public_key})
    assert r.status_code == 200, r.text
    return kp
