"""SorobanGateway against a real Soroban RPC endpoint (the sandbox's), compared with local."""

from __future__ import annotations

import threading
import time

from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain import ContractError, TxRecord
from lumenlater_sdk.backend.chain.soroban import SorobanGateway
from lumenlater_sdk.backend.soroban_rpc._congestion import congestion
from lumenlater_sdk.backend.testing import SandboxHandle

from .conftest import friend

USDC = 10_000_000


def approved_merchant(chain: SandboxHandle, gateway: SorobanGateway) -> Keypair:
    """A merchant enrolled through the gateway (signed by itself) and approved by the chain's
    genesis admin through the chain sandbox's own backend."""
    merchant = friend(chain)
    record = gateway.invoke(
        "bnpl_core", "enroll_merchant", [merchant.public_key, "shop"], signer=merchant
    )
    assert record.result is None and [e.name for e in record.events] == ["m_enroll"]
    genesis = chain.backend.genesis
    assert genesis is not None
    admin = genesis.admin
    gateway.invoke(
        "bnpl_core",
        "update_merchant_status",
        [admin.public_key, merchant.public_key, "Approved"],
        signer=admin,
    )
    return merchant


def test_describe_and_constants(chain: SandboxHandle, gateway: SorobanGateway) -> None:
    info = gateway.describe()
    assert info.gateway_name == "soroban" and info.rpc_url == f"{chain.base_url}/soroban/rpc"
    assert gateway.constants() == chain.backend.gateway.constants()
    assert gateway.latest_ledger() >= 1 and gateway.now() > 0


def test_bill_flow_matches_local(chain: SandboxHandle, gateway: SorobanGateway) -> None:
    merchant = approved_merchant(chain, gateway)
    user = friend(chain)
    local = chain.backend.sandbox
    assert local is not None
    local.fund_wallet(user, usdc=500 * USDC, lp_deposit=1_000 * USDC)

    bill = gateway.invoke(
        "bnpl_core",
        "create_bill",
        [merchant.public_key, user.public_key, 100 * USDC, "ORD-1"],
        signer=merchant,
    )
    assert isinstance(bill.result, int) and [e.name for e in bill.events] == ["bill_new"]
    assert bill.events[0].data["amount"] == 100 * USDC
    paid = gateway.invoke("bnpl_core", "pay_bill_bnpl", [bill.result], signer=user)
    assert paid.result is None
    names = [e.name for e in paid.events]
    assert names[0] == "transfer" and names[1] == "borrow" and names[-1] == "payment"
    core = gateway.contract_id("bnpl_core")
    gateway.invoke("usdc", "approve", [user.public_key, core, 200 * USDC, 1000], signer=user)
    repaid = gateway.invoke("bnpl_core", "repay_bill", [bill.result], signer=user)
    assert [e.name for e in repaid.events][:4] == ["transfer", "approve", "transfer", "repay"]
    assert repaid.events[-1].name == "repayment"

    # Reads decode as the local engine's, for the same state.
    assert gateway.read("bnpl_core", "get_bill", [bill.result]) == chain.backend.gateway.read(
        "bnpl_core", "get_bill", [bill.result]
    )
    assert gateway.read("bnpl_core", "get_bill", [bill.result])["status"] == "Repaid"

    # Cursors increase strictly; events_after returns the invoke's events with the same cursors.
    seen = gateway.events_after(0, limit=1000)
    cursors = [e.cursor for e in seen]
    assert cursors == sorted(set(cursors))
    by_cursor = {e.cursor: e for e in seen}
    for record in (bill, paid, repaid):
        for e in record.events:
            assert by_cursor[e.cursor] == e


def test_refusals_map_like_local(chain: SandboxHandle, gateway: SorobanGateway) -> None:
    merchant = approved_merchant(chain, gateway)
    try:
        gateway.invoke("bnpl_core", "enroll_merchant", [merchant.public_key, "x"], signer=merchant)
    except ContractError as e:
        assert (e.code, e.name, e.trapped) == (110, "MerchantAlreadyEnrolled", False)
    else:
        raise AssertionError("enrolling twice was accepted")
    try:
        gateway.read("bnpl_core", "get_bill", [999_999])
    except ContractError as e:
        assert e.trapped and e.code == 0
    else:
        raise AssertionError("reading an unknown bill did not trap")


def test_now_is_never_before_the_gateways_own_last_call(
    chain: SandboxHandle, gateway: SorobanGateway, source: Keypair
) -> None:
    """A call applied in a ledger later than the gateway's cached one (here: held by the
    node while the chain's clock moved on) moves the gateway's clock with it."""
    user = friend(chain)
    node = congestion(chain.backend.gateway)  # type: ignore[arg-type]
    assert chain.backend.sandbox is not None
    node.hold()
    done: list[TxRecord] = []
    call = threading.Thread(
        target=lambda: done.append(
            gateway.invoke("usdc", "mint", [user.public_key, USDC], signer=user)
        )
    )
    call.start()
    try:
        deadline = time.monotonic() + 10
        while not node.source_queued(source.public_key):
            assert time.monotonic() < deadline, "the call never reached the node"
            time.sleep(0.01)
        before = gateway.now()
        chain.backend.sandbox.advance_clock(100)
    finally:
        node.release()
        call.join(30)
    (record,) = done
    assert record.timestamp >= before + 100
    assert gateway.now() >= record.timestamp
