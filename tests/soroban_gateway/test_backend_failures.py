"""The API over a soroban chain when the chain fails: the RPC endpoint down then up (behind
a real TCP proxy), and a sent transaction whose outcome stays unknown (a congested node
holding it). Everything over loopback, nothing of the gateway or RPC client mocked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lumenlater_sdk import LumenLater
from lumenlater_sdk.backend.chain import ContractEvent
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.chain.soroban import SorobanGateway
from lumenlater_sdk.backend.services.events import sweep_chain_events
from lumenlater_sdk.backend.soroban_rpc._congestion import Congestion, congestion
from lumenlater_sdk.backend.testing import SandboxHandle

from .backend_support import Served, serve_backend, tcp_proxy
from .conftest import friend
from .test_gateway import USDC


@pytest.fixture
def held_node(chain: SandboxHandle) -> Iterator[Congestion]:
    ledger = chain.backend.gateway
    assert isinstance(ledger, LocalGateway)
    knob = congestion(ledger)
    try:
        yield knob
    finally:
        knob.release()


def soroban(served: Served) -> SorobanGateway:
    gateway = served.backend.gateway
    assert isinstance(gateway, SorobanGateway)
    return gateway


def bills_on_chain(served: Served) -> list[ContractEvent]:
    """Every ``bill_new`` the chain holds for the served merchant (read through getEvents)."""
    return [
        e
        for e in soroban(served).events_after(0, limit=100_000)
        if e.name == "bill_new" and e.topics[1] == served.merchant_id
    ]


def listed(served: Served, path: str) -> list[dict[str, Any]]:
    got = served.client.get(path, params={"limit": 100})
    assert got.status_code == 200, got.text
    data: list[dict[str, Any]] = got.json()["data"]
    return data


def test_rpc_down_then_up_answers_503_then_creates_one_bill(
    chain: SandboxHandle, tmp_path: Path
) -> None:
    with (
        tcp_proxy(f"{chain.base_url}/soroban/rpc") as proxy,
        serve_backend(chain, tmp_path, rpc_url=proxy.url) as served,
    ):
        sent_before = {s.hash for s in soroban(served).submissions()}
        body = {"customer": friend(chain).public_key, "amount": 7 * USDC, "order_id": "ORD-DOWN"}
        keyed = {"Idempotency-Key": "rpc-down-then-up"}

        proxy.close()
        time.sleep(1.1)  # past the gateway's one-second cache of the latest ledger
        down = served.client.post("/v1/bills", json=body, headers=keyed)
        assert down.status_code == 503, down.text
        error = down.json()["error"]
        assert (error["type"], error["code"]) == ("chain_error", "chain_unavailable")
        assert {s.hash for s in soroban(served).submissions()} == sent_before  # nothing sent
        # Reads that need the chain (ledger time, the latest ledger) say so too; the
        # event list does not need it.
        for path in ("/v1/bills", "/v1/chain"):
            read = served.client.get(path)
            assert read.status_code == 503, (path, read.text)
            assert read.json()["error"]["code"] == "chain_unavailable"
        # A bill read asks the clock before its row arrives (one round trip for both on
        # PostgreSQL), but an unknown bill needs no clock: 404 still.
        missing = served.client.get("/v1/bills/bill_unknown")
        assert missing.status_code == 404, missing.text
        assert listed(served, "/v1/events") == []

        proxy.open()
        assert listed(served, "/v1/bills") == []
        assert listed(served, "/v1/events") == []
        assert bills_on_chain(served) == []

        up = served.client.post("/v1/bills", json=body, headers=keyed)
        assert up.status_code == 200, up.text
        bill = up.json()
        assert [b["id"] for b in listed(served, "/v1/bills")] == [bill["id"]]
        assert [e.tx_hash for e in bills_on_chain(served)] == [bill["chain"]["tx_hash"]]
        assert [e["type"] for e in listed(served, "/v1/events")] == ["bill.created"]
        # The key now answers with the stored response, and nothing more happens.
        again = served.client.post("/v1/bills", json=body, headers=keyed)
        assert again.status_code == 200 and again.json()["id"] == bill["id"]
        assert len(bills_on_chain(served)) == 1


def test_the_sdk_retries_chain_unavailable_until_the_rpc_is_back(
    chain: SandboxHandle, tmp_path: Path
) -> None:
    with (
        tcp_proxy(f"{chain.base_url}/soroban/rpc") as proxy,
        serve_backend(chain, tmp_path, rpc_url=proxy.url) as served,
    ):
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 2:  # the RPC comes back during the second wait
                proxy.open()
            time.sleep(seconds)

        proxy.close()
        time.sleep(1.1)
        sdk = LumenLater(
            api_key=served.api_key, base_url=served.base_url, max_retries=5, _sleep=sleep
        )
        try:
            bill = sdk.bills.create(
                customer=friend(chain).public_key, amount=3 * USDC, order_id="ORD-SDK"
            )
        finally:
            sdk.close()
        assert len(waits) >= 2  # at least two 503 chain_unavailable answers were retried
        assert [b["id"] for b in listed(served, "/v1/bills")] == [bill.id]
        assert len(bills_on_chain(served)) == 1
        assert [e["type"] for e in listed(served, "/v1/events")] == ["bill.created"]


def test_outcome_unknown_then_a_retry_with_the_same_key(
    chain: SandboxHandle, tmp_path: Path, held_node: Congestion
) -> None:
    """The node accepts create_bill (PENDING) but has not applied it when the gateway stops
    polling, and reconciling by hash cannot settle it either: the API answers 503, and a
    retry with the same Idempotency-Key never sends a second create_bill: it gets the
    first one's bill once that applies."""
    with serve_backend(chain, tmp_path) as served:
        gateway = soroban(served)
        gateway.poll_timeout = 0.5
        body = {"customer": friend(chain).public_key, "amount": 5 * USDC, "order_id": "ORD-LIMBO"}
        keyed = {"Idempotency-Key": "outcome-unknown"}

        held_node.hold()
        first = served.client.post("/v1/bills", json=body, headers=keyed)
        assert first.status_code == 503, first.text
        assert first.json()["error"]["code"] == "chain_unavailable"
        [pending] = [s for s in gateway.submissions() if s.status == "sent"]
        assert gateway.reconcile() == {pending.hash: "sent"}  # still NOT_FOUND, in its bounds
        assert listed(served, "/v1/bills") == [] and listed(served, "/v1/events") == []

        # Retried while the first is still queued: the key names the transaction already
        # sent, so nothing new is sent; its outcome is still unknown.
        sent_before = len(gateway.submissions())
        second = served.client.post("/v1/bills", json=body, headers=keyed)
        assert second.status_code == 503, second.text
        assert second.json()["error"]["code"] == "chain_unavailable"
        assert len(gateway.submissions()) == sent_before

        # The node applies the first create_bill after all; the retry gets that bill.
        assert held_node.release() == [pending.hash]
        third = served.client.post("/v1/bills", json=body, headers=keyed)
        assert third.status_code == 200, third.text
        bill = third.json()
        assert bill["chain"]["tx_hash"] == pending.hash
        assert len(gateway.submissions()) == sent_before
        assert {s.hash: s.status for s in gateway.submissions()}[pending.hash] == "applied"

        # One bill on the API, one on the chain, one event.
        assert [b["id"] for b in listed(served, "/v1/bills")] == [bill["id"]]
        on_chain = bills_on_chain(served)
        assert [e.tx_hash for e in on_chain] == [pending.hash]
        assert bill["chain"]["bill_number"] == int(on_chain[0].topics[2])
        sweep_chain_events(served.backend.ctx)
        assert [b["id"] for b in listed(served, "/v1/bills")] == [bill["id"]]
        assert [e["type"] for e in listed(served, "/v1/events")] == ["bill.created"]
