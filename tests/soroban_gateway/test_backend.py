"""A whole backend with ``chain="soroban"``, over loopback, on the chain sandbox's RPC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lumenlater_sdk.backend.app import Backend
from lumenlater_sdk.backend.chain.soroban import RpcSandbox
from lumenlater_sdk.backend.config import NETWORKS, BackendConfig, parse_contracts
from lumenlater_sdk.backend.testing import SandboxHandle

from .backend_support import serve_backend, soroban_config
from .conftest import PASSPHRASE, contracts, friend
from .test_gateway import USDC


@pytest.fixture(scope="module")
def served(
    chain: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, Backend]]:
    with serve_backend(chain, tmp_path_factory.mktemp("soroban-backend")) as running:
        yield running.client, running.backend


def test_the_api_over_a_soroban_chain(
    chain: SandboxHandle, served: tuple[httpx.Client, Backend]
) -> None:
    client, backend = served
    # The chain is a sandbox's RPC endpoint, so the backend has its powers over RPC.
    assert isinstance(backend.sandbox, RpcSandbox)
    info = client.get("/v1/chain").json()
    assert info["gateway"] == "soroban" and info["rpc_url"] == f"{chain.base_url}/soroban/rpc"
    assert info["network_passphrase"] == PASSPHRASE and info["contracts"] == contracts(chain)

    customer = friend(chain).public_key
    made = client.post("/v1/bills", json={"customer": customer, "amount": 25 * USDC})
    assert made.status_code == 200, made.text
    bill = made.json()
    got = client.get(f"/v1/bills/{bill['id']}")
    assert got.status_code == 200 and got.json()["status"] == "created"
    on_chain = chain.backend.gateway.read("bnpl_core", "get_bill", [bill["chain"]["bill_number"]])
    assert on_chain["principal"] == 25 * USDC and on_chain["user"] == customer
    assert bill["chain"]["tx_hash"] in {s.hash for s in backend.gateway.submissions()}  # type: ignore[attr-defined]
    # Its event came back through the gateway with the cursor events_after gives it.
    names = [(e.name, e.tx_hash) for e in backend.gateway.events_after(0, limit=1000)]
    assert ("bill_new", bill["chain"]["tx_hash"]) in names


def test_missing_soroban_options_are_named(chain: SandboxHandle, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--rpc-url"):
        Backend(soroban_config(chain, tmp_path, rpc_url=None))
    with pytest.raises(ValueError, match="does not hold a Stellar secret seed"):
        bad = tmp_path / "bad.secret"
        bad.write_text("not a seed")
        Backend(soroban_config(chain, tmp_path, source_secret_file=str(bad)))
    with pytest.raises(ValueError, match="bnpl_core, lp_token and usdc"):
        Backend(soroban_config(chain, tmp_path, contracts={"usdc": contracts(chain)["usdc"]}))


def test_the_testnet_preset_and_contract_lists() -> None:
    cfg = BackendConfig(chain="soroban", network="testnet", source_secret_file="/k")
    settings = cfg.soroban()
    assert settings.rpc_url == "https://soroban-testnet.stellar.org"
    assert settings.network_passphrase == "Test SDF Network ; September 2015"
    assert dict(settings.contracts) == NETWORKS["testnet"]["contracts"]
    ids = NETWORKS["testnet"]["contracts"]
    text = ",".join(f"{k}={v}" for k, v in ids.items())
    assert parse_contracts(text) == ids
    with pytest.raises(ValueError, match="name=C"):
        parse_contracts("bnpl_core=GABC")


def test_the_cli_names_what_the_soroban_chain_lacks(tmp_path: Path) -> None:
    from lumenlater_sdk.cli._sandbox import main

    base = ["--database-url", f"sqlite:///{tmp_path / 'b.db'}"]
    base += ["--secret-key-file", str(tmp_path / "k"), "--chain", "soroban"]
    with pytest.raises(SystemExit) as stopped:
        main(base)
    assert str(stopped.value).startswith("lumenlater sandbox: the soroban chain needs --rpc-url")
    with pytest.raises(SystemExit) as stopped:
        main([*base, "--network", "testnet", "--contracts", "usdc=nope"])
    assert "name=C" in str(stopped.value)
