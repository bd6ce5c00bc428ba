"""A chain: a sandbox with its Soroban RPC endpoint on; a SorobanGateway pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stellar_sdk import Keypair, Network

from lumenlater_sdk.backend.chain.soroban import SorobanGateway
from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

PASSPHRASE = Network.STANDALONE_NETWORK_PASSPHRASE


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    db: Path = tmp_path_factory.mktemp("chain") / "chain.db"
    with run_sandbox(f"sqlite:///{db}", webhook_url=None, soroban_rpc=True) as sb:
        yield sb


def friend(chain: SandboxHandle) -> Keypair:
    """A new account, funded by the chain's friendbot."""
    kp = Keypair.random()
    r = httpx.get(f"{chain.base_url}/friendbot", params={"addr": kp.public_key})
    assert r.status_code == 200, r.text
    return kp


def contracts(chain: SandboxHandle) -> dict[str, str]:
    genesis = chain.backend.genesis
    assert genesis is not None
    return dict(genesis.contract_ids)


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = connect(f"sqlite:///{tmp_path_factory.mktemp('gw') / 'backend.db'}")
    yield db
    db.close()


@pytest.fixture(scope="module")
def source(chain: SandboxHandle) -> Keypair:
    return friend(chain)


@pytest.fixture(scope="module")
def gateway(chain: SandboxHandle, journal: Database, source: Keypair) -> SorobanGateway:
    return SorobanGateway(
        rpc_url=f"{chain.base_url}/soroban/rpc",
        network_passphrase=PASSPHRASE,
        contracts=contracts(chain),
        source=source,
        db=journal,
        poll_interval=0.05,
    )
