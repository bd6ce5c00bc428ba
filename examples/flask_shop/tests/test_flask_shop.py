"""The example shop against a real sandbox on loopback: catalogue, cart, checkout, webhooks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from examples.flask_shop.catalogue import PRODUCTS
from examples.flask_shop.orders import Order, OrderLine
from examples.flask_shop.serving import RunningShop
from lumenlater_sdk import LumenLater, format_usdc, usdc
from lumenlater_sdk.checkout import embed_html
from lumenlater_sdk.cli._demo_scripted import DemoError, pay_hosted_page
from lumenlater_sdk.webhooks.testing import make_event, sample_bill, signed_request


def browser(shop: RunningShop) -> httpx.Client:
    """A cookie-keeping HTTP client for the shop that shows redirects instead of following."""
    return httpx.Client(base_url=shop.url, timeout=30.0, follow_redirects=False)


def fill_cart(b: httpx.Client, items: dict[str, int]) -> None:
    for sku, quantity in items.items():
        r = b.post("/cart/add", data={"sku": sku, "quantity": str(quantity)})
        assert r.status_code == 303, r.text


def check_out(b: httpx.Client) -> str:
    """Check out; the hosted page the shop redirects to."""
    r = b.post("/checkout")
    assert r.status_code == 303, r.text
    return r.headers["location"]


def only_order(shop: RunningShop) -> Order:
    [order] = shop.orders.list()
    return order


def current(shop: RunningShop, order: Order) -> Order:
    found = shop.orders.get(order.id)
    assert found is not None
    return found


def test_catalogue_lists_every_product_with_its_price(shop: RunningShop) -> None:
    with browser(shop) as b:
        page = b.get("/")
    assert page.status_code == 200
    for product in PRODUCTS:
        assert product.name in page.text
        assert format_usdc(product.price) in page.text
        assert f'<label for="quantity-{product.sku}">' in page.text


def test_money_is_shown_exactly() -> None:
    assert format_usdc(usdc("12.50")) == "12.50 USDC"
    assert format_usdc(usdc("1234")) == "1,234.00 USDC"
    assert format_usdc(147_945) == "0.0147945 USDC"


def test_cart_adds_updates_and_removes_lines(shop: RunningShop) -> None:
    with browser(shop) as b:
        fill_cart(b, {"mug": 2, "tee": 1})
        fill_cart(b, {"mug": 1})
        cart = b.get("/cart").text
        assert "Cart (4)" in cart
        assert 'id="cart-total">62.50 USDC<' in cart  # 3 × 12.50 + 25
        assert b.post("/cart/update", data={"sku": "mug", "quantity": "0"}).status_code == 303
        cart = b.get("/cart").text
        assert "Stellar mug" not in cart
        assert 'id="cart-total">25.00 USDC<' in cart
        assert b.post("/cart/add", data={"sku": "nope", "quantity": "1"}).status_code == 404
        assert b.post("/cart/add", data={"sku": "tee", "quantity": "x"}).status_code == 400


def test_checkout_of_an_empty_cart_goes_back_to_the_cart(shop: RunningShop) -> None:
    with browser(shop) as b:
        r = b.post("/checkout")
    assert r.status_code == 303
    assert r.headers["location"] == "/cart"
    assert shop.orders.list() == []


def test_checkout_creates_a_session_with_line_items_and_redirects(
    shop: RunningShop, ll: LumenLater
) -> None:
    with browser(shop) as b:
        fill_cart(b, {"mug": 2, "lamp": 1})
        pay_url = check_out(b)

    order = only_order(shop)
    assert order.status == "pending"
    assert order.amount == 2 * usdc("12.50") + usdc("89.99")
    assert order.session_id is not None
    session = ll.checkout.sessions.retrieve(order.session_id)
    assert pay_url == session.url
    assert f"/pay/{session.id}" in pay_url
    assert session.status == "open"
    assert session.order_id == order.id
    assert session.amount == order.amount
    assert [(li.name, li.quantity, li.unit_amount) for li in session.line_items] == [
        ("Stellar mug", 2, usdc("12.50")),
        ("Lumen desk lamp", 1, usdc("89.99")),
    ]
    assert session.success_url.startswith(f"{shop.url}/checkout/success?session_id=")
    assert session.cancel_url == f"{shop.url}/checkout/cancel?order_id={order.id}"


def test_paying_confirms_on_the_success_page_and_the_webhook_marks_the_order_paid(
    shop: RunningShop, ll: LumenLater
) -> None:
    with browser(shop) as b:
        fill_cart(b, {"tee": 1})
        pay_url = check_out(b)
        success_url = pay_hosted_page(b, pay_url, wallet="approve")
        order = only_order(shop)
        assert success_url == f"{shop.url}/checkout/success?session_id={order.session_id}"

        page = b.get(success_url)
        assert page.status_code == 200
        assert "Thank you" in page.text
        assert order.id in page.text
        assert "Cart (0)" in page.text  # the paid cart is emptied

    paid = shop.wait_for_order(order.id, lambda o: o.status == "paid")
    session = ll.checkout.sessions.retrieve(order.session_id or "")
    assert paid.bill_id == session.bill
    assert paid.customer == session.customer


def test_success_page_refuses_an_unpaid_or_unknown_session(
    shop: RunningShop, ll: LumenLater
) -> None:
    with browser(shop) as b:
        fill_cart(b, {"notebook": 3})
        check_out(b)
        order = only_order(shop)
        page = b.get("/checkout/success", params={"session_id": order.session_id})
        assert page.status_code == 402
        assert "Payment not completed" in page.text
        assert "Cart (3)" in page.text
        assert b.get("/checkout/success", params={"session_id": "cs_nope"}).status_code == 404
    assert current(shop, order).status == "pending"


def test_cancel_page_keeps_the_cart_and_expires_the_session(
    shop: RunningShop, ll: LumenLater
) -> None:
    with browser(shop) as b:
        fill_cart(b, {"mug": 1})
        check_out(b)
        order = only_order(shop)
        session = ll.checkout.sessions.retrieve(order.session_id or "")
        page = b.get(session.cancel_url)
        assert page.status_code == 200
        assert "Checkout cancelled" in page.text
        assert "Cart (1)" in page.text
    assert current(shop, order).status == "cancelled"
    assert ll.checkout.sessions.retrieve(session.id).status == "expired"


def _bill_event(event_type: str, order_id: str, status: str, **fields: Any) -> dict[str, Any]:
    bill = sample_bill(status, order_id=order_id, **fields)
    return make_event(event_type, data_object=bill)


def test_webhook_marks_paid_once_when_the_same_event_is_delivered_twice(shop: RunningShop) -> None:
    order = shop.orders.create([OrderLine("mug", "Stellar mug", 1, usdc("12.50"))])
    event = _bill_event("bill.paid", order.id, "paid", amount=order.amount)
    request = signed_request(event, shop.webhook_secret)

    with browser(shop) as b:
        first = b.post("/webhooks/lumenlater", content=request.body, headers=request.headers)
        paid = shop.orders.get(order.id)
        second = b.post("/webhooks/lumenlater", content=request.body, headers=request.headers)

    assert first.status_code == 200
    assert second.status_code == 200
    assert json.loads(second.content).get("duplicate") is True
    assert paid is not None and paid.status == "paid"
    assert paid.bill_id == event["data"]["object"]["id"]
    assert shop.orders.get(order.id) == paid  # the duplicate changed nothing


def test_webhook_status_only_moves_forward(shop: RunningShop) -> None:
    order = shop.orders.create([OrderLine("tee", "Soroban T-shirt", 2, usdc("25"))])
    fee = order.amount * 3_000_000 * 6 // 3_650_000_000
    deliveries = [
        _bill_event("bill.repaid", order.id, "repaid", amount=order.amount, late_fee=fee),
        _bill_event("bill.overdue", order.id, "overdue", amount=order.amount),
        _bill_event("bill.paid", order.id, "paid", amount=order.amount),
    ]
    with browser(shop) as b:
        for event in deliveries:  # out of order, as webhooks may arrive
            req = signed_request(event, shop.webhook_secret)
            r = b.post("/webhooks/lumenlater", content=req.body, headers=req.headers)
            assert r.status_code == 200
        orders_page = b.get("/orders").text
    final = shop.orders.get(order.id)
    assert final is not None
    assert (final.status, final.late_fee) == ("repaid", fee)
    assert f'id="order-{order.id}" data-status="repaid"' in orders_page
    assert format_usdc(fee) in orders_page


def test_webhook_rejects_a_bad_signature(shop: RunningShop) -> None:
    order = shop.orders.create([OrderLine("mug", "Stellar mug", 1, usdc("12.50"))])
    req = signed_request(_bill_event("bill.paid", order.id, "paid"), "whsec_wrong")
    with browser(shop) as b:
        r = b.post("/webhooks/lumenlater", content=req.body, headers=req.headers)
    assert r.status_code == 400
    assert current(shop, order).status == "pending"


def test_a_declined_wallet_leaves_the_order_unpaid(shop: RunningShop, ll: LumenLater) -> None:
    with browser(shop) as b:
        fill_cart(b, {"lamp": 1})
        pay_url = check_out(b)
        with pytest.raises(DemoError, match="402"):
            pay_hosted_page(b, pay_url, wallet="decline")  # no collateral: refused on the page
        order = only_order(shop)
        assert ll.checkout.sessions.retrieve(order.session_id or "").status == "open"
        page = b.get("/checkout/success", params={"session_id": order.session_id})
        assert page.status_code == 402
    assert current(shop, order).status == "pending"


# --- the embedded checkout -----------------------------------------------------------


def check_out_embedded(b: httpx.Client) -> str:
    """Choose "Pay here"; the shop's own payment page it redirects to."""
    r = b.post("/checkout", data={"mode": "embedded"})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def confirm(b: httpx.Client, body: Any) -> httpx.Response:
    return b.post("/checkout/confirm", json=body)


def test_cart_offers_the_embedded_checkout_beside_the_redirect(shop: RunningShop) -> None:
    with browser(shop) as b:
        fill_cart(b, {"mug": 1})
        cart = b.get("/cart").text
    assert "Pay here with LumenLater" in cart and 'name="mode" value="embedded"' in cart
    assert "Check out with LumenLater" in cart


def test_without_a_publishable_key_the_cart_only_redirects(tmp_path: Any) -> None:
    from examples.flask_shop import create_app

    app = create_app(
        {
            "LUMENLATER_API_KEY": "sk_test_unused",
            "LUMENLATER_WEBHOOK_SECRET": "whsec_unused",
            "LUMENLATER_SHOP_DB": str(tmp_path / "shop.db"),
            "LUMENLATER_PUBLISHABLE_KEY": "",
        }
    )
    with app.test_client() as c:
        c.post("/cart/add", data={"sku": "mug", "quantity": "1"})
        cart = c.get("/cart").get_data(as_text=True)
    assert "Check out with LumenLater" in cart and "Pay here" not in cart


def test_embedded_checkout_page_embeds_the_session_for_this_shop_only(
    shop: RunningShop, ll: LumenLater, sandbox: Any
) -> None:
    with browser(shop) as b:
        fill_cart(b, {"mug": 2, "lamp": 1})
        page_url = check_out_embedded(b)
        order = only_order(shop)
        assert page_url == f"/checkout/pay/{order.id}"
        page = b.get(page_url)
        assert page.status_code == 200
        with browser(shop) as stranger:  # another shopper: not their order
            assert stranger.get(page_url).status_code == 404
    session = ll.checkout.sessions.retrieve(order.session_id or "")
    assert session.embed_origins == [shop.url]  # only this shop may frame it
    assert session.order_id == order.id and session.amount == order.amount
    snippet = embed_html(session, sandbox.publishable_key, appearance={"accentColor": "#3050f0"})
    assert snippet in page.text  # the one template line, escaped once
    assert 'id="order-total">114.99 USDC<' in page.text
    assert f'href="{session.url}"' in page.text  # the hosted page stays one link away


def test_a_forged_success_call_marks_nothing_paid(shop: RunningShop, ll: LumenLater) -> None:
    with browser(shop) as b:
        fill_cart(b, {"tee": 1})
        check_out_embedded(b)
        order = only_order(shop)
        # What a script on the page could send without paying anything:
        forged = confirm(b, {"session_id": order.session_id})
        assert forged.status_code == 402
        assert forged.json() == {
            "status": "open",
            "order_id": order.id,
            "message": "LumenLater has not received this payment.",
        }
        assert confirm(b, {"session_id": "cs_not_ours"}).status_code == 404
        for bad in ({}, {"session_id": 7}, {"session_id": "bill_1"}, ["cs_x"]):
            assert confirm(b, bad).status_code == 400, bad
        assert b.post("/checkout/confirm", content=b"session_id=cs_x").status_code == 400
        assert "Cart (1)" in b.get("/cart").text
    assert current(shop, order).status == "pending"
    assert ll.checkout.sessions.retrieve(order.session_id or "").status == "open"


def test_embedded_payment_is_confirmed_by_the_server(shop: RunningShop, ll: LumenLater) -> None:
    with browser(shop) as b:
        fill_cart(b, {"notebook": 2})
        check_out_embedded(b)
        order = only_order(shop)
        session = ll.checkout.sessions.retrieve(order.session_id or "")
        pay_hosted_page(b, session.url, wallet="approve")  # what the iframe does
        answer = confirm(b, {"session_id": order.session_id})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "status": "paid",
            "order_id": order.id,
            "amount": "14.50 USDC",
            "order_url": f"/orders/{order.id}",
        }
        assert current(shop, order).status == "paid"
        assert "Cart (0)" in b.get("/cart").text
        # Confirming again (a retry) changes nothing; the paid page now says thank you.
        assert confirm(b, {"session_id": order.session_id}).status_code == 200
    paid = ll.checkout.sessions.retrieve(session.id)
    assert (current(shop, order).bill_id, current(shop, order).customer) == (
        paid.bill,
        paid.customer,
    )


def test_embedded_page_after_the_checkout_ended(shop: RunningShop, ll: LumenLater) -> None:
    with browser(shop) as b:
        fill_cart(b, {"mug": 1})
        page_url = check_out_embedded(b)
        order = only_order(shop)
        session = ll.checkout.sessions.retrieve(order.session_id or "")
        # Paid, but the page's confirmation never came (a closed tab): the success page.
        pay_hosted_page(b, session.url, wallet="approve")
        r = b.get(page_url)
        assert r.status_code == 303
        assert r.headers["location"] == f"/checkout/success?session_id={session.id}"

        fill_cart(b, {"tee": 1})
        page_url = check_out_embedded(b)
        [second] = [o for o in shop.orders.list() if o.id != order.id]
        assert b.get(f"/checkout/cancel?order_id={second.id}").status_code == 200
        r = b.get(page_url)  # expired by the cancel page: back to the cart
        assert (r.status_code, r.headers["location"]) == (303, "/cart")
        assert "That checkout has expired" in b.get("/cart").text
