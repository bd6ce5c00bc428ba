"""``GET /v1/chain``: which gateway, network and contracts the backend relays to, and
its latest ledger, the same for every merchant and key mode; secret keys only."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from backend_helpers import Api, new_bill_body
from stellar_sdk import StrKey

from lumenlater_sdk.backend.chain import CONTRACTS, ChainInfo, ChainUnavailableError
from lumenlater_sdk.backend.testing import SandboxHandle

STANDALONE = "Standalone Network ; February 2017"


def test_the_chain_on_the_wire(sb: SandboxHandle, api: Api) -> None:
    chain = api.ok("GET", "/v1/chain")
    gateway = sb.backend.gateway
    ids = {name: gateway.contract_id(name) for name in CONTRACTS}
    assert chain == {
        "object": "chain",
        "gateway": "local",
        "network_passphrase": STANDALONE,
        "rpc_url": None,
        "contracts": ids,
        "latest_ledger": chain["latest_ledger"],
    }
    assert list(chain["contracts"]) == ["bnpl_core", "lp_token", "usdc"]
    assert all(StrKey.is_valid_contract(cid) for cid in ids.values())
    assert len(set(ids.values())) == 3
    assert sb.backend.genesis is not None and sb.backend.genesis.contract_ids == ids
    latest = chain["latest_ledger"]
    assert type(latest) is int and latest == gateway.latest_ledger()
    assert latest > 0  # genesis closed ledgers (initialise, fund the pool and wallets)


def test_the_latest_ledger_grows_with_a_state_change(sb: SandboxHandle, api: Api) -> None:
    before = api.ok("GET", "/v1/chain")
    bill = api.ok("POST", "/v1/bills", json=new_bill_body(api))
    after = api.ok("GET", "/v1/chain")
    assert bill["chain"]["contract_id"] == before["contracts"]["bnpl_core"]
    assert before["latest_ledger"] < bill["chain"]["ledger"] <= after["latest_ledger"]
    # Reads close no ledger.
    api.ok("GET", f"/v1/bills/{bill['id']}")
    assert api.ok("GET", "/v1/chain")["latest_ledger"] == after["latest_ledger"]
    events = api.ok("GET", "/v1/events", params={"type": "bill.created"})["data"]
    chained = [e["chain"] for e in events if e.get("chain")]
    assert all(c["contract_id"] in after["contracts"].values() for c in chained)


def test_only_a_secret_key_reads_the_chain(sb: SandboxHandle) -> None:
    with Api(sb.base_url, sb.publishable_key) as pk:
        r = pk.get("/v1/chain")
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("permission_error", "secret_key_required")
    with Api(sb.base_url, "sk_test_not_a_real_key") as bad:
        assert bad.get("/v1/chain").status_code == 401


def test_every_merchant_and_mode_sees_the_same_chain(sb: SandboxHandle, api: Api) -> None:
    mine = api.ok("GET", "/v1/chain")
    other = sb.create_merchant("Chain Shop")
    live = sb.backend.create_merchant("Live Chain Shop", livemode=True)
    for creds in (other, live):
        with Api(sb.base_url, creds.secret_key) as theirs:
            seen = theirs.ok("GET", "/v1/chain")
        # Enrolling and approving the merchants closed ledgers; nothing else differs.
        assert seen["latest_ledger"] > mine["latest_ledger"]
        assert {**seen, "latest_ledger": 0} == {**mine, "latest_ledger": 0}


def test_an_unreachable_chain_is_a_retryable_chain_error(
    sb_sqlite: SandboxHandle, api1: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(**kw: object) -> int:
        raise ChainUnavailableError("rpc down")

    monkeypatch.setattr(sb_sqlite.backend.gateway, "latest_ledger", unreachable)
    r = api1.get("/v1/chain")
    assert r.status_code == 503, r.text
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("chain_error", "chain_unavailable")


def test_the_openapi_document_describes_the_route(sb_sqlite: SandboxHandle) -> None:
    with Api(sb_sqlite.base_url, sb_sqlite.secret_key) as api:
        doc = api.ok("GET", "/v1/openapi.json")
    op = doc["paths"]["/v1/chain"]["get"]
    assert op["operationId"] == "retrieveChain"
    assert set(op["responses"]) == {"200", "400", "401", "403", "429", "503"}
    schemas = doc["components"]["schemas"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Chain"
    }
    assert {"gateway", "network_passphrase", "contracts", "latest_ledger"} <= set(
        schemas["Chain"]["required"]
    )
    assert set(schemas["ChainContracts"]["required"]) == set(CONTRACTS)


def test_chain_info_names_exactly_the_contracts() -> None:
    ids = {"usdc": "CU", "bnpl_core": "CB", "lp_token": "CL"}
    info = ChainInfo("soroban", "Test SDF Network ; September 2015", "https://rpc.example", ids)
    assert (info.gateway_name, info.rpc_url) == ("soroban", "https://rpc.example")
    assert list(info.contracts) == list(CONTRACTS)  # in CONTRACTS' order
    assert isinstance(info.contracts, MappingProxyType)  # read-only
    ids["usdc"] = "changed"
    assert info.contracts["usdc"] == "CU"  # a copy, not the caller's dict
    with pytest.raises(ValueError, match="contracts must name exactly bnpl_core, lp_token, usdc"):
        ChainInfo("local", STANDALONE, None, {"bnpl_core": "CB"})
    with pytest.raises(ValueError, match="contracts must name exactly"):
        ChainInfo("local", STANDALONE, None, {**ids, "extra": "CX"})
