"""``chain``: the same test over the ``local`` gateway and the ``soroban`` one.

``local`` is a LocalGateway on a fresh SQLite ledger (after genesis, on a fake wall
clock that moves only when the test moves it); ``soroban`` a SorobanGateway relaying
to the session's ``soroban_chain`` through its Soroban RPC endpoint, with that
chain's ``lumenlater_*`` methods as its sandbox (an RpcSandbox with a journal of its
own per test, so its built-in wallets and liquidator are new accounts each time).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stellar_sdk import Keypair, Network

from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.chain.soroban import Rpc, SorobanGateway, rpc_sandbox
from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.testing import SandboxHandle

from .parity_support import Chain

SEALER = SecretBox(bytes(range(32)))

T0 = 1_800_000_000
"""Where the local ledger's fake wall clock starts."""


class _FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def soroban_gateway(
    soroban_chain: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SorobanGateway]:
    """A SorobanGateway on the session's sandbox chain, its fee payer from the chain's
    ``lumenlater_fund`` and its journal in a database of its own."""
    rpc_url = f"{soroban_chain.base_url}/soroban/rpc"
    rpc = Rpc(rpc_url)
    listed = rpc.extension("lumenlater_sandbox", {})
    assert listed is not None
    source = Keypair.random()
    rpc.extension("lumenlater_fund", {"address": source.public_key})
    db = connect(f"sqlite:///{tmp_path_factory.mktemp('parity') / 'journal.db'}")
    try:
        yield SorobanGateway(
            rpc_url=rpc_url,
            network_passphrase=Network.STANDALONE_NETWORK_PASSPHRASE,
            contracts=dict(listed["contracts"]),
            source=source,
            db=db,
            poll_interval=0.01,
        )
    finally:
        db.close()


@pytest.fixture(params=["local", "soroban"])
def chain(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Chain]:
    """A chain with one newly enrolled and approved merchant, over each gateway."""
    merchant = Keypair.random()
    with connect(f"sqlite:///{tmp_path / 'ledger.db'}") as db:
        if request.param == "local":
            local = LocalGateway(db, clock=_FakeClock(T0), sealer=SEALER)
            local.genesis()
            gw, sandbox = local, local
        else:
            gw = request.getfixturevalue("soroban_gateway")
            found = rpc_sandbox(gw, db, SEALER)
            assert found is not None, "the session's chain lost its lumenlater_* methods"
            sandbox = found
        sandbox.enroll_and_approve_merchant(merchant, "mi_1")
        yield Chain(request.param, gw, sandbox, merchant)
