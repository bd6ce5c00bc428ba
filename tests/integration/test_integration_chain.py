"""``client.chain.retrieve()``: the chain behind the sandbox, through both clients."""

from __future__ import annotations

import pytest
from integration_support import wallet

from lumenlater_sdk import AsyncLumenLater, LumenLater, PermissionDeniedError, usdc
from lumenlater_sdk.backend.chain import CONTRACTS
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import Chain, ChainContracts

STANDALONE = "Standalone Network ; February 2017"


def _expect_chain(chain: Chain, sb: SandboxHandle) -> None:
    assert isinstance(chain, Chain) and isinstance(chain.contracts, ChainContracts)
    # The soroban backend's chain is a second sandbox, reached through its RPC endpoint.
    rpc_url = sb.config.rpc_url
    assert (rpc_url is None) == (sb.config.chain == "local")
    assert (chain.object, chain.gateway, chain.network_passphrase, chain.rpc_url) == (
        "chain",
        sb.config.chain,
        STANDALONE,
        rpc_url,
    )
    ids = {name: sb.backend.gateway.contract_id(name) for name in CONTRACTS}
    assert chain.contracts.model_dump() == ids
    assert chain.model_extra == {} and chain.contracts.model_extra == {}
    assert isinstance(chain.latest_ledger, int) and chain.latest_ledger > 0


def test_chain_retrieve(client: LumenLater, sb: SandboxHandle) -> None:
    chain = client.chain.retrieve()
    _expect_chain(chain, sb)
    bill = client.bills.create(customer=wallet(client, "approve").address, amount=usdc(10))
    later = client.chain.retrieve()
    assert bill.chain is not None and bill.chain.contract_id == chain.contracts.bnpl_core
    assert bill.chain.ledger is not None
    assert chain.latest_ledger < bill.chain.ledger <= later.latest_ledger
    assert later.model_copy(update={"latest_ledger": 0}) == chain.model_copy(
        update={"latest_ledger": 0}
    )


def test_chain_retrieve_needs_a_secret_key(sb: SandboxHandle) -> None:
    pk = LumenLater(api_key=sb.publishable_key, base_url=sb.base_url, max_retries=0)
    with pk, pytest.raises(PermissionDeniedError) as info:
        pk.chain.retrieve()
    assert info.value.code == "secret_key_required"


async def test_async_chain_retrieve(aclient: AsyncLumenLater, sb: SandboxHandle) -> None:
    chain = await aclient.chain.retrieve()
    _expect_chain(chain, sb)
    wallets = [w async for w in aclient.test_helpers.wallets.list()]
    customer = next(w for w in wallets if w.name == "approve").address
    bill = await aclient.bills.create(customer=customer, amount=usdc(10))
    later = await aclient.chain.retrieve()
    assert bill.chain is not None and bill.chain.ledger is not None
    assert bill.chain.contract_id == later.contracts.bnpl_core
    assert chain.latest_ledger < bill.chain.ledger <= later.latest_ledger
