"""Account and bills through the SDK client against the real backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest
from integration_support import RequestCounter, assert_api_error, wallet

from lumenlater_sdk import (
    APIError,
    AsyncLumenLater,
    BadRequestError,
    ConflictError,
    IdempotencyError,
    LumenLater,
    usdc,
)
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import Account, Bill


def test_account_retrieve(client: LumenLater, sb: SandboxHandle) -> None:
    acct = client.account.retrieve()
    assert isinstance(acct, Account)
    assert acct.object == "account"
    assert acct.id == sb.merchant_id and acct.id.startswith("G")
    assert acct.business_name == "Sandbox Shop"
    assert acct.status == "approved"
    assert acct.fee_rate_bps == 150
    assert acct.settlement_currency == "usdc"


def test_bill_create_and_retrieve(client: LumenLater, sb: SandboxHandle) -> None:
    customer = wallet(client, "approve").address
    bill = client.bills.create(
        customer=customer,
        amount=usdc("99.99"),
        order_id="o-1",
        description="Two teas",
        metadata={"cart": "42"},
    )
    assert isinstance(bill, Bill)
    assert bill.id.startswith("bill_") and bill.object == "bill"
    assert bill.amount == 999_900_000 and bill.currency == "usdc"
    assert bill.customer == customer and bill.merchant == sb.merchant_id
    assert bill.status == "created" and bill.livemode is False
    assert bill.order_id == "o-1" and bill.description == "Two teas"
    assert bill.metadata == {"cart": "42"}
    assert bill.expires_at == bill.created + 86_400  # BILL_DURATION_DAYS = 1
    assert bill.paid_at is None and bill.repaid_at is None and bill.liquidated_at is None
    assert bill.late_fee == 0 and bill.amount_due == bill.amount
    assert bill.chain is not None and bill.chain.bill_number >= 1
    assert bill.chain.contract_id.startswith("C")

    again = client.bills.retrieve(bill.id)
    assert again.model_dump() == bill.model_dump()


def test_bill_list_filters(client: LumenLater) -> None:
    approve = wallet(client, "approve").address
    limited = wallet(client, "limited").address
    early = client.bills.create(customer=approve, amount=usdc(10), order_id="early")
    client.test_helpers.clock.advance(seconds=3600)  # a later `created`; bills live a day
    paid = client.bills.create(customer=approve, amount=usdc(20), order_id="paid")
    other = client.bills.create(customer=limited, amount=usdc(30), order_id="other")
    client.test_helpers.bills.pay(paid.id, wallet="approve")
    assert early.created < paid.created

    ids = [b.id for b in client.bills.list()]
    assert ids == [other.id, paid.id, early.id]  # newest first
    assert [b.id for b in client.bills.list(status="paid")] == [paid.id]
    assert {b.id for b in client.bills.list(status="created")} == {early.id, other.id}
    assert [b.id for b in client.bills.list(customer=limited)] == [other.id]
    assert {b.id for b in client.bills.list(customer=approve)} == {early.id, paid.id}
    assert [b.id for b in client.bills.list(order_id="early")] == [early.id]
    assert [b.id for b in client.bills.list(created_lte=early.created)] == [early.id]
    assert {b.id for b in client.bills.list(created_gte=paid.created)} == {paid.id, other.id}
    assert [
        b.id
        for b in client.bills.list(
            created_gte=paid.created, created_lte=paid.created, customer=approve
        )
    ] == [paid.id]
    assert list(client.bills.list(order_id="nope")) == []


def test_bill_list_auto_paginates(client: LumenLater) -> None:
    customer = wallet(client, "approve").address
    created = [
        client.bills.create(customer=customer, amount=usdc(1 + i), order_id=f"p-{i}").id
        for i in range(7)
    ]
    first = client.bills.list(limit=3)
    assert len(first.data) == 3 and first.has_more is True
    assert first.url == "/v1/bills"
    seen = [b.id for b in client.bills.list(limit=3)]
    assert seen == created[::-1]  # every bill once, newest first, across 3 pages
    last = first.next_page().next_page()  # type: ignore[union-attr]
    assert last is not None and len(last.data) == 1 and last.has_more is False
    assert last.next_page() is None


async def test_bill_list_auto_paginates_async(aclient: AsyncLumenLater) -> None:
    customer = (await aclient.test_helpers.wallets.retrieve("approve")).address
    created = [
        (await aclient.bills.create(customer=customer, amount=usdc(2), order_id=f"q-{i}")).id
        for i in range(5)
    ]
    first = await aclient.bills.list(limit=2)
    assert len(first.data) == 2 and first.has_more is True
    seen = [b.id async for b in aclient.bills.list(limit=2)]
    assert seen == created[::-1]


def test_bill_cancel(client: LumenLater) -> None:
    customer = wallet(client, "approve").address
    bill = client.bills.create(customer=customer, amount=usdc(5))
    cancelled = client.bills.cancel(bill.id)
    assert cancelled.id == bill.id and cancelled.status == "cancelled"
    assert client.bills.retrieve(bill.id).status == "cancelled"
    assert [b.id for b in client.bills.list(status="cancelled")] == [bill.id]
    assert [e.type for e in client.events.list(limit=2)] == ["bill.cancelled", "bill.created"]


def test_cancel_paid_bill_is_a_typed_error(client: LumenLater) -> None:
    customer = wallet(client, "approve").address
    bill = client.bills.create(customer=customer, amount=usdc(5))
    client.test_helpers.bills.pay(bill.id, wallet="approve")
    with pytest.raises(APIError) as info:
        client.bills.cancel(bill.id)
    err = info.value
    # "only while created": a state refusal, not a server fault and not an idempotency clash.
    assert isinstance(err, (BadRequestError, ConflictError)), type(err)
    assert not isinstance(err, IdempotencyError)
    assert err.status_code in (400, 409)
    # DESIGN §2 maps invalid_request_error to 400/404; 409 is idempotency_error only.
    assert_api_error(err, 400, "invalid_request_error")
    assert err.code
    assert client.bills.retrieve(bill.id).status == "paid"


def test_float_amount_is_refused_before_any_request(sandbox: SandboxHandle) -> None:
    counter = RequestCounter()
    sb = sandbox
    with (
        httpx.Client(event_hooks={"request": [counter]}) as http,
        LumenLater(api_key=sb.secret_key, base_url=sb.base_url, http_client=http) as client,
    ):
        customer = wallet(client, "approve").address
        sent = counter.count
        with pytest.raises(TypeError):
            client.bills.create(customer=customer, amount=9.99)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            client.bills.create(customer=customer, amount=True)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            client.checkout.sessions.create(
                amount=25.0,  # type: ignore[arg-type]
                success_url="https://shop.test/ok",
                cancel_url="https://shop.test/cart",
            )
        assert counter.count == sent
        assert list(client.bills.list()) == []


async def test_float_amount_is_refused_before_any_request_async(sandbox: SandboxHandle) -> None:
    counter = RequestCounter()
    sb = sandbox
    async with (
        httpx.AsyncClient(event_hooks={"request": [counter.async_hook]}) as http,
        AsyncLumenLater(api_key=sb.secret_key, base_url=sb.base_url, http_client=http) as client,
    ):
        customer = (await client.test_helpers.wallets.retrieve("approve")).address
        sent = counter.count
        with pytest.raises(TypeError):
            await client.bills.create(customer=customer, amount=1.5)  # type: ignore[arg-type]
        assert counter.count == sent


def test_invalid_customer_is_refused_before_any_request(sandbox: SandboxHandle) -> None:
    # Pure client-side checks: one database is enough.
    counter = RequestCounter()
    with (
        httpx.Client(event_hooks={"request": [counter]}) as http,
        LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url, http_client=http) as c,
    ):
        for customer in ["not-an-address", "", "GABC", "SB" + "A" * 54, 42]:
            with pytest.raises(ValueError):
                c.bills.create(customer=customer, amount=usdc(1))  # type: ignore[arg-type]
    assert counter.count == 0


_INVALID_BILLS: list[tuple[dict[str, object], str]] = [
    ({"amount": 0}, "amount"),
    ({"amount": -10_000_000}, "amount"),
    ({"currency": "eur"}, "currency"),
    ({"metadata": {"k" * 41: "v"}}, "metadata"),
    ({"metadata": {"k": "v" * 501}}, "metadata"),
    ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
]


def test_server_validation_errors_are_bad_request(client: LumenLater) -> None:
    customer = wallet(client, "approve").address
    for kwargs, param in _INVALID_BILLS:
        body: dict[str, object] = {"customer": customer, "amount": usdc(1), **kwargs}
        with pytest.raises(BadRequestError) as info:
            client.bills.create(**body)  # type: ignore[arg-type]
        err = info.value
        assert_api_error(err, 400, "invalid_request_error")
        assert isinstance(err.code, str) and err.code, kwargs
        assert err.param is not None, kwargs
        assert err.param.split("[")[0].split(".")[0] == param, (kwargs, err.param)
    assert list(client.bills.list()) == []


async def test_async_client_account_and_bills(aclient: AsyncLumenLater, sb: SandboxHandle) -> None:
    acct = await aclient.account.retrieve()
    assert acct.id == sb.merchant_id
    assert acct.status == "approved" and acct.fee_rate_bps == 150

    wallets = [w async for w in aclient.test_helpers.wallets.list()]
    customer = next(w for w in wallets if w.name == "approve").address
    bill = await aclient.bills.create(customer=customer, amount=usdc("12.5"), order_id="a-1")
    assert bill.amount == 125_000_000 and bill.status == "created"
    got = await aclient.bills.retrieve(bill.id)
    assert got.id == bill.id and got.order_id == "a-1"
    assert (await aclient.bills.cancel(bill.id)).status == "cancelled"

    with pytest.raises(BadRequestError) as info:
        await aclient.bills.create(customer=customer, amount=0)
    assert_api_error(info.value, 400, "invalid_request_error")
    assert info.value.param == "amount" and info.value.code
