"""Every resource method's wire request, list pagination, parsing and client-side checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_support import CUSTOMER, Api, Server, bill_json, list_json

from lumenlater_sdk import usdc
from lumenlater_sdk.types import (
    Account,
    Bill,
    BillPaidEvent,
    Chain,
    CheckoutSession,
    DeletedObject,
    Event,
    Metrics,
    TestClock,
    Wallet,
    WebhookEndpoint,
)

# (call, method, path, query, json body or None)
CALLS: list[tuple[str, Any, str, str, dict[str, Any], dict[str, Any] | None]] = [
    ("bills.create", lambda c: c.bills.create(customer=CUSTOMER, amount=usdc("99.99"),
        currency="usdc", description="d", metadata={"k": "v"}),
     "POST", "/v1/bills", {}, {"customer": CUSTOMER, "amount": 999900000, "currency": "usdc",
                               "description": "d", "metadata": {"k": "v"}}),
    ("bills.retrieve", lambda c: c.bills.retrieve("bill_1"), "GET", "/v1/bills/bill_1", {}, None),
    ("bills.cancel", lambda c: c.bills.cancel("bill_1"), "POST", "/v1/bills/bill_1/cancel", {}, {}),
    ("sessions.create", lambda c: c.checkout.sessions.create(
        success_url="https://s/ok?cs={SESSION_ID}", cancel_url="https://s/no",
        line_items=[{"name": "Mug", "quantity": 2, "unit_amount": usdc(5)}], expires_in=1800),
     "POST", "/v1/checkout/sessions", {},
     {"success_url": "https://s/ok?cs={SESSION_ID}", "cancel_url": "https://s/no",
      "line_items": [{"name": "Mug", "quantity": 2, "unit_amount": 50000000}], "expires_in": 1800}),
    ("sessions.retrieve", lambda c: c.checkout.sessions.retrieve("cs_1"),
     "GET", "/v1/checkout/sessions/cs_1", {}, None),
    ("sessions.expire", lambda c: c.checkout.sessions.expire("cs_1"),
     "POST", "/v1/checkout/sessions/cs_1/expire", {}, {}),
    ("analytics.metrics", lambda c: c.analytics.metrics(start=10, end=20, interval="day"),
     "GET", "/v1/analytics/metrics", {"start": "10", "end": "20", "interval": "day"}, None),
    ("events.retrieve", lambda c: c.events.retrieve("evt_1"), "GET", "/v1/events/evt_1", {}, None),
    ("events.resend", lambda c: c.events.resend("evt_1", endpoint="we_1"),
     "POST", "/v1/events/evt_1/resend", {}, {"endpoint": "we_1"}),
    ("endpoints.create", lambda c: c.webhook_endpoints.create(
        url="https://s/hook", enabled_events=["bill.paid"]),
     "POST", "/v1/webhook_endpoints", {},
     {"url": "https://s/hook", "enabled_events": ["bill.paid"]}),
    ("endpoints.retrieve", lambda c: c.webhook_endpoints.retrieve("we_1"),
     "GET", "/v1/webhook_endpoints/we_1", {}, None),
    ("endpoints.update", lambda c: c.webhook_endpoints.update("we_1", disabled=True),
     "POST", "/v1/webhook_endpoints/we_1", {}, {"disabled": True}),
    ("endpoints.delete", lambda c: c.webhook_endpoints.delete("we_1"),
     "DELETE", "/v1/webhook_endpoints/we_1", {}, None),
    ("endpoints.rotate", lambda c: c.webhook_endpoints.rotate_secret("we_1", expire_old_after=60),
     "POST", "/v1/webhook_endpoints/we_1/rotate_secret", {}, {"expire_old_after": 60}),
    ("account.retrieve", lambda c: c.account.retrieve(), "GET", "/v1/account", {}, None),
    ("chain.retrieve", lambda c: c.chain.retrieve(), "GET", "/v1/chain", {}, None),
    ("clock.retrieve", lambda c: c.test_helpers.clock.retrieve(),
     "GET", "/v1/test_helpers/clock", {}, None),
    ("clock.advance", lambda c: c.test_helpers.clock.advance(seconds=86400),
     "POST", "/v1/test_helpers/clock/advance", {}, {"seconds": 86400}),
    ("wallets.create", lambda c: c.test_helpers.wallets.create(name="amy"),
     "POST", "/v1/test_helpers/wallets", {}, {"name": "amy"}),
    ("wallets.retrieve", lambda c: c.test_helpers.wallets.retrieve("approve"),
     "GET", "/v1/test_helpers/wallets/approve", {}, None),
    ("tbills.pay", lambda c: c.test_helpers.bills.pay("bill_1", wallet="approve"),
     "POST", "/v1/test_helpers/bills/bill_1/pay", {}, {"wallet": "approve"}),
    ("tbills.repay", lambda c: c.test_helpers.bills.repay("bill_1"),
     "POST", "/v1/test_helpers/bills/bill_1/repay", {}, {}),
    ("tbills.liquidate", lambda c: c.test_helpers.bills.liquidate("bill_1"),
     "POST", "/v1/test_helpers/bills/bill_1/liquidate", {}, {}),
    ("events.trigger", lambda c: c.test_helpers.events.trigger(type="bill.paid"),
     "POST", "/v1/test_helpers/events/trigger", {}, {"type": "bill.paid"}),
]  # fmt: skip

SESSION = {
    "id": "cs_1", "object": "checkout.session", "created": 1, "url": "http://127.0.0.1:8787/pay/cs_1",
    "client_secret": "cs_1_secret_x", "status": "open", "payment_status": "unpaid",
    "amount": 100, "success_url": "https://s/ok", "cancel_url": "https://s/no", "expires_at": 2,
}  # fmt: skip
EVENT = {
    "id": "evt_1", "object": "event", "type": "bill.paid", "created": 1,
    "api_version": "2026-11-01", "data": {"object": bill_json(status="paid")},
}  # fmt: skip
ENDPOINT = {"id": "we_1", "object": "webhook_endpoint", "created": 1, "url": "https://s/hook",
            "enabled_events": ["bill.paid"], "secret": "whsec_x"}  # fmt: skip
WALLET = {"id": "wal_1", "object": "test_helpers.wallet", "name": "amy", "address": CUSTOMER,
          "lp_balance": 5, "available_borrowing": 4}  # fmt: skip
METRICS = {
    "object": "analytics.metrics", "start": 10, "end": 20, "volume": 1, "net_volume": 1,
    "fees": 0, "bills_created": 1, "bills_paid": 1, "sessions_created": 1,
    "sessions_completed": 1, "conversion_rate": "0.8333", "average_order_value": 1,
    "repaid_count": 0, "overdue_count": 0, "liquidated_count": 0, "repayment_rate": "1",
    "default_rate": "0", "series": [{"start": 10, "volume": 1, "bills_paid": 1}],
}  # fmt: skip

CHAIN = {
    "object": "chain", "gateway": "local",
    "network_passphrase": "Standalone Network ; February 2017", "rpc_url": None,
    "contracts": {"bnpl_core": "CB", "lp_token": "CL", "usdc": "CU"}, "latest_ledger": 12,
}  # fmt: skip


def canned(request: httpx.Request) -> httpx.Response:
    """A plausible answer for any route, by path."""
    p = request.url.path
    if request.method == "DELETE":
        return httpx.Response(
            200, json={"id": "we_1", "object": "webhook_endpoint", "deleted": True}
        )
    for prefix, body in [
        ("/v1/checkout", SESSION), ("/v1/events", EVENT), ("/v1/test_helpers/events", EVENT),
        ("/v1/webhook_endpoints", ENDPOINT), ("/v1/test_helpers/wallets", WALLET),
        ("/v1/analytics/metrics", METRICS),
        ("/v1/account", {"object": "account", "id": "G1", "status": "approved"}),
        ("/v1/chain", CHAIN),
        ("/v1/test_helpers/clock", {"object": "test_helpers.clock", "now": 5}),
    ]:  # fmt: skip
        if p.startswith(prefix):
            return httpx.Response(200, json=body)
    return httpx.Response(200, json=bill_json())


RESULT_TYPES = {
    "bills": Bill, "tbills": Bill, "sessions": CheckoutSession, "events": BillPaidEvent,
    "endpoints": WebhookEndpoint, "account": Account, "clock": TestClock, "wallets": Wallet,
    "analytics": Metrics, "chain": Chain,
}  # fmt: skip


@pytest.mark.parametrize(("name", "call", "method", "path", "query", "body"), CALLS,
                         ids=[c[0] for c in CALLS])  # fmt: skip
async def test_wire_request_of_every_method(
    api: Api, server: Server, name: str, call: Any, method: str, path: str,
    query: dict[str, str], body: dict[str, Any] | None,
) -> None:  # fmt: skip
    server.default = canned
    result = await api(call)
    req = server.last
    assert (req.method, req.url.path, dict(req.url.params)) == (method, path, query)
    if body is None:
        assert req.content == b""
    else:
        assert json.loads(req.content) == body
    expected = DeletedObject if method == "DELETE" else RESULT_TYPES[name.split(".")[0]]
    assert isinstance(result, expected)


async def test_ids_cannot_change_the_route(api: Api, server: Server) -> None:
    await api(lambda c: c.bills.retrieve("../account"))
    assert server.last.url.raw_path == b"/v1/bills/..%2Faccount"
    with pytest.raises(ValueError):
        await api(lambda c: c.bills.retrieve(""))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.bills.create(customer=CUSTOMER, amount=9.99),
        lambda c: c.bills.create(customer=CUSTOMER, amount=True),
        lambda c: c.checkout.sessions.create(amount=1.5, success_url="a", cancel_url="b"),
        lambda c: c.checkout.sessions.create(
            success_url="a",
            cancel_url="b",
            line_items=[{"name": "x", "quantity": 1, "unit_amount": 2.0}],
        ),
        lambda c: c.test_helpers.wallets.create(collateral=10.0),
    ],
)
async def test_float_amount_is_a_type_error_before_any_request(
    api: Api, server: Server, call: Any
) -> None:
    with pytest.raises(TypeError):
        await api(call)
    assert server.requests == []


@pytest.mark.parametrize("customer", ["GABC", "not-an-address", CUSTOMER.lower(), ""])
async def test_invalid_customer_is_a_value_error_before_any_request(
    api: Api, server: Server, customer: str
) -> None:
    with pytest.raises(ValueError, match="Stellar"):
        await api(lambda c: c.bills.create(customer=customer, amount=1))
    assert server.requests == []


async def test_unknown_fields_and_enum_values_are_kept(api: Api, server: Server) -> None:
    server.queue(httpx.Response(200, json=bill_json(status="disputed", dispute={"id": "dp_1"})))
    bill = await api(lambda c: c.bills.retrieve("bill_1"))
    assert bill.status == "disputed"
    assert bill.model_extra == {"dispute": {"id": "dp_1"}}
    assert bill.to_dict()["dispute"] == {"id": "dp_1"}


async def test_the_chain_keeps_other_gateways_and_unknown_fields(api: Api, server: Server) -> None:
    soroban = {**CHAIN, "gateway": "soroban", "rpc_url": "https://rpc.example/soroban/rpc",
               "network_passphrase": "Test SDF Network ; September 2015",
               "contracts": {**CHAIN["contracts"], "oracle": "CO"},
               "protocol_version": 22}  # fmt: skip
    server.queue(httpx.Response(200, json=soroban))
    chain = await api(lambda c: c.chain.retrieve())
    assert isinstance(chain, Chain) and chain.object == "chain"
    assert (chain.gateway, chain.rpc_url) == ("soroban", "https://rpc.example/soroban/rpc")
    assert (chain.contracts.bnpl_core, chain.contracts.lp_token, chain.contracts.usdc) == (
        "CB", "CL", "CU",
    )  # fmt: skip
    assert chain.contracts.model_extra == {"oracle": "CO"}
    assert chain.model_extra == {"protocol_version": 22}
    assert chain.latest_ledger == 12


async def test_events_parse_into_typed_classes(api: Api, server: Server) -> None:
    server.queue(httpx.Response(200, json=EVENT))
    server.queue(
        httpx.Response(200, json={**EVENT, "type": "bill.disputed", "data": {"object": {"x": 1}}})
    )
    typed = await api(lambda c: c.events.retrieve("evt_1"))
    assert isinstance(typed, BillPaidEvent) and isinstance(typed.data.object, Bill)
    generic = await api(lambda c: c.events.retrieve("evt_2"))
    assert type(generic) is Event and generic.data.object == {"x": 1}


def _paged(server: Server, pages: int, per_page: int = 2) -> None:
    """Serve bills bill_0..bill_{pages*per_page-1} newest first, honouring starting_after."""
    ids = [f"bill_{i}" for i in range(pages * per_page)]

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        start = ids.index(after) + 1 if after else 0
        chunk = ids[start : start + per_page]
        return httpx.Response(
            200, json=list_json([bill_json(i) for i in chunk], start + per_page < len(ids))
        )

    server.default = handler


async def test_list_auto_paginates_lazily(api: Api, server: Server) -> None:
    _paged(server, pages=3)
    seen = []
    if api.kind == "sync":
        it = iter(api.client.bills.list(status="paid", limit=2))
        assert len(server.requests) == 1  # the first page is fetched by list()
        for bill in it:
            seen.append(bill.id)
            if bill.id == "bill_1":  # end of page 1: nothing more fetched yet
                assert len(server.requests) == 1
    else:
        async for bill in api.client.bills.list(status="paid", limit=2):
            seen.append(bill.id)
            if bill.id == "bill_1":
                assert len(server.requests) == 1
    assert seen == [f"bill_{i}" for i in range(6)]
    assert len(server.requests) == 3
    params = [dict(r.url.params) for r in server.requests]
    assert params[0] == {"status": "paid", "limit": "2"}
    assert params[1] == {"status": "paid", "limit": "2", "starting_after": "bill_1"}
    assert params[2] == {"status": "paid", "limit": "2", "starting_after": "bill_3"}


async def test_first_page_exposes_data_and_has_more(api: Api, server: Server) -> None:
    _paged(server, pages=2)
    page = await api(lambda c: c.bills.list())
    assert [b.id for b in page.data] == ["bill_0", "bill_1"] and page.has_more is True
    assert page.url == "/v1/bills"
    nxt = await api(lambda c: page.next_page())
    assert [b.id for b in nxt.data] == ["bill_2", "bill_3"] and nxt.has_more is False
    assert await api(lambda c: nxt.next_page()) is None
    assert len(server.requests) == 2


async def test_ending_before_paginates_backwards(api: Api, server: Server) -> None:
    server.queue(
        httpx.Response(200, json=list_json([bill_json("bill_5"), bill_json("bill_4")], True)),
        httpx.Response(200, json=list_json([bill_json("bill_7"), bill_json("bill_6")], False)),
    )
    items = await api.collect(lambda c: c.bills.list(ending_before="bill_3"))
    assert [b.id for b in items] == ["bill_5", "bill_4", "bill_7", "bill_6"]
    assert dict(server.requests[1].url.params) == {"ending_before": "bill_5"}


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c: c.analytics.transactions(type="fee"), "/v1/analytics/transactions"),
        (lambda c: c.events.list(type="bill.paid"), "/v1/events"),
        (lambda c: c.checkout.sessions.list(status="open"), "/v1/checkout/sessions"),
        (lambda c: c.webhook_endpoints.list(), "/v1/webhook_endpoints"),
        (lambda c: c.webhook_endpoints.deliveries("we_1"), "/v1/webhook_endpoints/we_1/deliveries"),
        (lambda c: c.test_helpers.wallets.list(), "/v1/test_helpers/wallets"),
    ],
)
async def test_other_lists_paginate(api: Api, server: Server, call: Any, path: str) -> None:
    items = {
        "/v1/analytics/transactions": lambda i: {"id": f"txn_{i}", "type": "fee", "amount": 1,
                                                 "fee": 1, "net": 0, "created": 1},
        "/v1/events": lambda i: {**EVENT, "id": f"evt_{i}"},
        "/v1/checkout/sessions": lambda i: {**SESSION, "id": f"cs_{i}"},
        "/v1/webhook_endpoints": lambda i: {**ENDPOINT, "id": f"we_{i}"},
        "/v1/webhook_endpoints/we_1/deliveries": lambda i: {"id": f"whd_{i}", "event": "evt_1",
                                                            "attempt": 1, "created": 1},
        "/v1/test_helpers/wallets": lambda i: {**WALLET, "id": f"wal_{i}"},
    }[path]  # fmt: skip
    server.queue(
        httpx.Response(200, json=list_json([items(1), items(2)], True, path)),
        httpx.Response(200, json=list_json([items(3)], False, path)),
    )
    got = await api.collect(call)
    assert [x.id for x in got][-1].endswith("_3") and len(got) == 3
    assert [r.url.path for r in server.requests] == [path, path]
    assert server.requests[1].url.params["starting_after"].endswith("_2")


class ChunkedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body produced chunk by chunk, counting how many chunks were handed out."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.produced = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for c in self.chunks:
            self.produced += 1
            yield c

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for c in self.chunks:
            self.produced += 1
            yield c


async def test_export_streams_to_a_path_with_progress(
    api: Api, server: Server, tmp_path: Path
) -> None:
    chunks = [b"id,type,amount\n", b"txn_1,fee,1\n", b"txn_2,payment,2\n"]
    stream = ChunkedStream(chunks)
    server.queue(httpx.Response(200, stream=stream, headers={"Content-Type": "text/csv"}))
    progress: list[tuple[int, int]] = []
    target = tmp_path / "tx.csv"

    def on_progress(n: int) -> None:
        progress.append((n, stream.produced))

    out = await api(
        lambda c: c.analytics.export(format="csv", start=1, path=target, on_progress=on_progress)
    )
    assert out == target
    assert target.read_bytes() == b"".join(chunks)
    # Each chunk was reported before the next one was produced: the body was streamed.
    sizes = [len(chunks[0]), len(chunks[0] + chunks[1]), len(b"".join(chunks))]
    assert progress == [(sizes[0], 1), (sizes[1], 2), (sizes[2], 3)]
    assert dict(server.last.url.params) == {"format": "csv", "start": "1"}


async def test_export_returns_bytes_without_a_path(api: Api, server: Server) -> None:
    server.queue(httpx.Response(200, content=b'[{"id":"txn_1"}]'))
    data = await api(lambda c: c.analytics.export(format="json"))
    assert data == b'[{"id":"txn_1"}]'


async def test_export_error_leaves_no_file(api: Api, server: Server, tmp_path: Path) -> None:
    from lumenlater_sdk import BadRequestError

    server.queue(httpx.Response(400, json={"error": {"type": "invalid_request_error"}}))
    target = tmp_path / "tx.csv"
    with pytest.raises(BadRequestError):
        await api(lambda c: c.analytics.export(path=str(target)))
    assert not target.exists()


async def test_export_retries_and_restarts_the_file(
    api: Api, server: Server, tmp_path: Path
) -> None:
    server.queue(httpx.Response(503), httpx.Response(200, content=b"a,b\n1,2\n"))
    target = str(tmp_path / "tx.csv")
    assert await api(lambda c: c.analytics.export(path=target)) == target
    assert Path(target).read_bytes() == b"a,b\n1,2\n"
    assert len(server.requests) == 2


async def test_export_rejects_unknown_format(api: Api, server: Server) -> None:
    with pytest.raises(ValueError):
        await api(lambda c: c.analytics.export(format="xlsx"))
    assert server.requests == []


async def test_enabled_events_must_be_a_list(api: Api, server: Server) -> None:
    with pytest.raises(TypeError):
        await api(lambda c: c.webhook_endpoints.create(url="https://x", enabled_events="bill.paid"))
    assert server.requests == []
