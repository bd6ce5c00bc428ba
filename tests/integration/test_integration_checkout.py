"""Checkout sessions and the checkout helpers against the real backend."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest
from integration_support import assert_api_error, parse_form, wallet

from lumenlater_sdk import AsyncLumenLater, BadRequestError, LumenLater, usdc
from lumenlater_sdk.checkout import CheckoutNotPaidError, confirm_return, redirect_url
from lumenlater_sdk.types import CheckoutSession

LINE_ITEMS = [
    {"name": "Green tea", "quantity": 2, "unit_amount": usdc(5)},
    {"name": "Teapot", "quantity": 1, "unit_amount": usdc("30.25")},
]
TOTAL = 2 * usdc(5) + usdc("30.25")


def _create(client: LumenLater, **extra: object) -> CheckoutSession:
    return client.checkout.sessions.create(
        line_items=LINE_ITEMS,
        success_url="https://shop.test/thanks?session={SESSION_ID}",
        cancel_url="https://shop.test/cart",
        order_id="ord-1",
        metadata={"cart": "c1"},
        **extra,  # type: ignore[arg-type]
    )


def _pay_on_hosted_page(base_url: str, session: CheckoutSession, wallet_id: str) -> httpx.Response:
    """Open the hosted page like a browser without JavaScript and submit its form."""
    with httpx.Client(base_url=base_url) as browser:
        page = browser.get(redirect_url(session))
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        form = parse_form(page.text)
        assert form.method == "post"
        assert wallet_id in form.radios.get("wallet", []), form.radios
        data = {**form.hidden, "wallet": wallet_id}
        return browser.post(urljoin(str(page.url), form.action or ""), data=data)


def test_session_create_retrieve_list(client: LumenLater) -> None:
    s = _create(client)
    assert s.id.startswith("cs_") and s.object == "checkout.session"
    assert s.amount == TOTAL and s.currency == "usdc"
    assert [(li.name, li.quantity, li.unit_amount) for li in s.line_items] == [
        (i["name"], i["quantity"], i["unit_amount"]) for i in LINE_ITEMS
    ]
    assert s.status == "open" and s.payment_status == "unpaid"
    assert s.bill is None and s.customer is None and s.completed_at is None
    assert s.url.endswith(f"/pay/{s.id}") and s.client_secret
    assert s.order_id == "ord-1" and s.metadata == {"cart": "c1"}
    assert s.expires_at == s.created + 3600  # default expires_in
    assert s.success_url == "https://shop.test/thanks?session={SESSION_ID}"

    got = client.checkout.sessions.retrieve(s.id)
    assert got.id == s.id and got.amount == TOTAL and got.line_items == s.line_items

    s2 = client.checkout.sessions.create(
        amount=usdc(25),
        success_url="https://shop.test/ok",
        cancel_url="https://shop.test/no",
        order_id="ord-2",
        expires_in=1800,
    )
    assert s2.expires_at == s2.created + 1800 and s2.line_items == []
    assert [x.id for x in client.checkout.sessions.list()] == [s2.id, s.id]
    assert [x.id for x in client.checkout.sessions.list(order_id="ord-1")] == [s.id]
    assert [x.id for x in client.checkout.sessions.list(limit=1)] == [s2.id, s.id]


def test_session_validation(client: LumenLater) -> None:
    with pytest.raises(BadRequestError) as info:
        _create(client, amount=TOTAL + 1)  # must equal the line items' sum
    assert_api_error(info.value, 400, "invalid_request_error")
    assert info.value.param in ("amount", "line_items"), info.value.param
    for expires_in in (1799, 86401):
        with pytest.raises(BadRequestError) as info:
            _create(client, expires_in=expires_in)
        assert info.value.param == "expires_in"
    assert list(client.checkout.sessions.list()) == []


def test_expire_and_confirm_return_refuses_unpaid(client: LumenLater) -> None:
    s = _create(client)
    with pytest.raises(CheckoutNotPaidError) as info:
        confirm_return(client, s.id)
    assert info.value.status == "open" and info.value.payment_status == "unpaid"

    expired = client.checkout.sessions.expire(s.id)
    assert expired.id == s.id and expired.status == "expired"
    assert expired.payment_status == "unpaid"
    assert [x.id for x in client.checkout.sessions.list(status="expired")] == [s.id]
    assert list(client.checkout.sessions.list(status="open")) == []
    with pytest.raises(CheckoutNotPaidError) as info:
        confirm_return(client, s.id)
    assert info.value.status == "expired"
    with pytest.raises(ValueError):
        redirect_url(expired)
    types = [e.type for e in client.events.list()]
    assert types == ["checkout.session.expired"]


def test_pay_through_hosted_page_then_confirm_return(client: LumenLater, sb: object) -> None:
    s = _create(client)
    approve = wallet(client, "approve")
    r = _pay_on_hosted_page(client.base_url, s, approve.id)
    assert r.status_code == 303
    assert r.headers["location"] == f"https://shop.test/thanks?session={s.id}"

    done = confirm_return(client, s.id)
    assert done.id == s.id and done.status == "complete" and done.payment_status == "paid"
    assert done.customer == approve.address and done.completed_at is not None
    assert done.bill is not None and done.bill.startswith("bill_")
    bill = client.bills.retrieve(done.bill)
    assert bill.status == "paid" and bill.amount == TOTAL and bill.customer == approve.address
    assert bill.order_id == "ord-1"
    assert [e.type for e in client.events.list(limit=3).data] == [
        "checkout.session.completed",
        "bill.paid",
        "bill.created",
    ]


def test_declined_payment_keeps_the_session_open(client: LumenLater) -> None:
    s = _create(client)
    r = _pay_on_hosted_page(client.base_url, s, wallet(client, "decline").id)
    assert r.status_code == 402 and 'data-code="insufficient_collateral"' in r.text
    with pytest.raises(CheckoutNotPaidError):
        confirm_return(client, s.id)
    assert client.checkout.sessions.retrieve(s.id).status == "open"
    assert list(client.bills.list()) == []


async def test_async_sessions_and_confirm_return(aclient: AsyncLumenLater) -> None:
    s = await aclient.checkout.sessions.create(
        line_items=LINE_ITEMS,
        success_url="https://shop.test/thanks",
        cancel_url="https://shop.test/cart",
    )
    assert s.amount == TOTAL
    with pytest.raises(CheckoutNotPaidError):
        await confirm_return(aclient, s.id)
    approve = await aclient.test_helpers.wallets.retrieve("approve")
    r = _pay_on_hosted_page(aclient.base_url, s, approve.id)
    assert r.status_code == 303 and r.headers["location"] == "https://shop.test/thanks"
    done = await confirm_return(aclient, s.id)
    assert done.payment_status == "paid" and done.bill
    assert [x.id async for x in aclient.checkout.sessions.list(status="complete")] == [s.id]
    other = await aclient.checkout.sessions.create(
        amount=usdc(1), success_url="https://shop.test/a", cancel_url="https://shop.test/b"
    )
    assert (await aclient.checkout.sessions.expire(other.id)).status == "expired"
