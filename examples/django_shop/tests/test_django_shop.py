"""The Django shop against a real sandbox on loopback, through Django's test Client.

Catalogue, cart, checkout to the hosted page, paying it with the ``approve`` wallet,
the sandbox's webhook deliveries reaching the shop served on a loopback port, signed
deliveries posted through the test client, and the return pages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from django_shop_support import (
    WEBHOOK_PATH,
    ShopUnderTest,
    check_out,
    deliver,
    fill_cart,
    only_order,
    snapshot,
    wait_for_delivery,
    wait_for_order,
)
from lumenshop.catalogue import PRODUCTS
from lumenshop.models import NewLine, Order, OrderStatus

from lumenlater_sdk import format_usdc, usdc
from lumenlater_sdk.checkout import embed_html
from lumenlater_sdk.cli._demo_scripted import DemoError, pay_hosted_page
from lumenlater_sdk.webhooks.testing import make_event, sample_bill, signed_request

SHOP_DIR = Path(__file__).resolve().parents[1]


def place(*lines: tuple[str, int]) -> Order:
    """An order placed directly (for webhook tests that need no checkout)."""
    products = {p.sku: p for p in PRODUCTS}
    return Order.objects.place(
        [NewLine(sku, products[sku].name, qty, products[sku].price) for sku, qty in lines]
    )


def bill_event(event_type: str, order: Order, status: str, **fields: Any) -> dict[str, Any]:
    """A ``bill.*`` event for *order* (as LumenLater would send it)."""
    bill = sample_bill(status, order_id=order.reference, amount=order.amount, **fields)
    return make_event(event_type, data_object=bill)


def test_money_is_shown_exactly() -> None:
    assert format_usdc(usdc("12.50")) == "12.50 USDC"
    assert format_usdc(usdc("1234")) == "1,234.00 USDC"
    assert format_usdc(147_945) == "0.0147945 USDC"


def test_catalogue_lists_every_product_with_a_labelled_quantity(shop: ShopUnderTest) -> None:
    page = shop.browser().get("/")
    assert page.status_code == 200
    html = page.content.decode()
    for product in PRODUCTS:
        assert product.name in html
        assert format_usdc(product.price) in html
        assert f'<label for="quantity-{product.sku}">' in html
        assert f'id="quantity-{product.sku}" name="quantity"' in html


def test_cart_adds_updates_and_removes_lines(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"mug": 2, "tee": 1})
    fill_cart(c, {"mug": 1})
    cart = c.get("/cart/").content.decode()
    assert "Cart (4)" in cart
    assert 'id="cart-total">62.50 USDC<' in cart  # 3 × 12.50 + 25
    assert '<label for="cart-quantity-mug">Quantity of Stellar mug</label>' in cart
    assert c.post("/cart/update/", {"sku": "mug", "quantity": "0"}).status_code == 303
    cart = c.get("/cart/").content.decode()
    assert "Stellar mug" not in cart
    assert 'id="cart-total">25.00 USDC<' in cart
    assert c.post("/cart/add/", {"sku": "nope", "quantity": "1"}).status_code == 404
    assert c.post("/cart/add/", {"sku": "tee", "quantity": "x"}).status_code == 400
    assert c.post("/cart/add/", {"sku": "tee", "quantity": "100"}).status_code == 400
    assert c.get("/cart/add/").status_code == 405
    assert "Cart (1)" in c.get("/cart/").content.decode()


def test_checkout_of_an_empty_cart_goes_back_to_the_cart(shop: ShopUnderTest) -> None:
    r = shop.browser().post("/checkout/")
    assert (r.status_code, r["Location"]) == (303, "/cart/")
    assert not Order.objects.exists()


def test_checkout_creates_a_session_with_line_items_and_redirects(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"mug": 2, "lamp": 1})
    r = c.post("/checkout/")
    assert r.status_code == 303

    order = only_order()
    assert order.status == OrderStatus.CREATED
    assert order.amount == 2 * usdc("12.50") + usdc("89.99")
    assert order.session_id is not None
    session = shop.ll.checkout.sessions.retrieve(order.session_id)
    assert r["Location"] == session.url
    assert session.url.endswith(f"/pay/{session.id}")
    assert (session.status, session.order_id, session.amount) == (
        "open",
        order.reference,
        order.amount,
    )
    assert [(li.name, li.quantity, li.unit_amount) for li in session.line_items] == [
        ("Stellar mug", 2, usdc("12.50")),
        ("Lumen desk lamp", 1, usdc("89.99")),
    ]
    assert session.success_url == "http://testserver/checkout/success/?session_id={SESSION_ID}"
    assert session.cancel_url == f"http://testserver/checkout/cancel/?order={order.reference}"


def test_paying_on_the_hosted_page_then_the_sandbox_webhook_marks_the_order_paid(
    live_shop: ShopUnderTest,
) -> None:
    c = live_shop.browser()
    fill_cart(c, {"tee": 1})
    pay_url = check_out(c)
    with httpx.Client(timeout=30.0, follow_redirects=False) as browser:
        success_url = pay_hosted_page(browser, pay_url, wallet="approve")
    order = only_order()
    assert success_url == f"http://testserver/checkout/success/?session_id={order.session_id}"

    # The sandbox delivers to the shop served on loopback; nothing else marks it paid yet.
    paid = wait_for_order(order.reference, lambda o: o.status == OrderStatus.PAID)
    session = live_shop.ll.checkout.sessions.retrieve(order.session_id or "")
    assert (paid.bill_id, paid.customer) == (session.bill, session.customer)
    assert live_shop.endpoint_id is not None
    [event] = live_shop.ll.events.list(type="bill.paid").data
    wait_for_delivery(live_shop.ll, live_shop.endpoint_id, event.id)
    deliveries = live_shop.ll.webhook_endpoints.deliveries(live_shop.endpoint_id, limit=100)
    assert {d.status_code for d in deliveries.data} == {200}

    # A redelivery of the real bill.paid event is recognised and not applied again.
    before = snapshot(order)
    again = deliver(c, signed_request(event, live_shop.webhook_secret))
    assert again.status_code == 200
    assert json.loads(again.content).get("duplicate") is True
    assert snapshot(order) == before

    page = c.get(success_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Thank you" in html
    assert order.reference in html
    assert "Cart (0)" in html  # the paid cart is emptied
    orders_page = c.get("/orders/").content.decode()
    assert f'id="order-{order.reference}" data-status="paid"' in orders_page


def test_success_page_refuses_an_unpaid_or_unknown_session(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"notebook": 3})
    check_out(c)
    order = only_order()
    page = c.get("/checkout/success/", {"session_id": order.session_id})
    assert page.status_code == 402
    assert "Payment not completed" in page.content.decode()
    assert "Cart (3)" in page.content.decode()
    assert c.get("/checkout/success/", {"session_id": "cs_nope"}).status_code == 404
    assert c.get("/checkout/success/").status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED


def test_a_declined_wallet_leaves_the_order_unpaid(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"lamp": 1})
    pay_url = check_out(c)
    with (
        httpx.Client(timeout=30.0, follow_redirects=False) as browser,
        pytest.raises(DemoError, match="402"),
    ):
        pay_hosted_page(browser, pay_url, wallet="decline")  # no collateral: refused
    order = only_order()
    assert shop.ll.checkout.sessions.retrieve(order.session_id or "").status == "open"
    assert c.get("/checkout/success/", {"session_id": order.session_id}).status_code == 402
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED


def test_cancel_page_keeps_the_cart_and_expires_the_session(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"mug": 1})
    check_out(c)
    order = only_order()
    session = shop.ll.checkout.sessions.retrieve(order.session_id or "")
    page = c.get(session.cancel_url.removeprefix("http://testserver"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Checkout cancelled" in html
    assert "is cancelled" in html
    assert "Cart (1)" in html
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert shop.ll.checkout.sessions.retrieve(session.id).status == "expired"
    assert c.get("/checkout/cancel/", {"order": "ORD-NOPE"}).status_code == 404


def test_a_duplicate_delivery_is_not_applied_twice(shop: ShopUnderTest) -> None:
    c = shop.browser(enforce_csrf_checks=True)  # the webhook needs no CSRF token
    order = place(("mug", 1))
    delivery = signed_request(bill_event("bill.paid", order, "paid"), shop.webhook_secret)

    first = deliver(c, delivery)
    assert (first.status_code, json.loads(first.content)) == (200, {"received": True})
    paid = snapshot(order)
    assert paid["status"] == "paid"
    assert paid["bill_id"] == delivery.event["data"]["object"]["id"]

    second = deliver(c, delivery)
    assert second.status_code == 200
    assert json.loads(second.content).get("duplicate") is True
    assert snapshot(order) == paid

    # Another event saying the same thing runs the handler, which changes nothing.
    same_news = bill_event("bill.paid", order, "paid", id=paid["bill_id"])
    assert deliver(c, signed_request(same_news, shop.webhook_secret)).status_code == 200
    assert snapshot(order) == paid


def test_statuses_only_move_forward_and_keep_the_late_fee(shop: ShopUnderTest) -> None:
    c = shop.browser()
    repaid_order = place(("tee", 2))
    fee = repaid_order.amount * 3_000_000 * 6 // 3_650_000_000  # 6 days late at 30 % APR
    for event in (  # out of order, as deliveries may arrive
        bill_event("bill.repaid", repaid_order, "repaid", late_fee=fee),
        bill_event("bill.overdue", repaid_order, "overdue"),
        bill_event("bill.paid", repaid_order, "paid"),
    ):
        assert deliver(c, signed_request(event, shop.webhook_secret)).status_code == 200
    repaid = Order.objects.get(pk=repaid_order.pk)
    assert (repaid.status, repaid.late_fee) == (OrderStatus.REPAID, fee)

    liquidated_order = place(("lamp", 1))
    for event_type, status in (("bill.paid", "paid"), ("bill.overdue", "overdue")):
        event = bill_event(event_type, liquidated_order, status)
        assert deliver(c, signed_request(event, shop.webhook_secret)).status_code == 200
    assert Order.objects.get(pk=liquidated_order.pk).status == OrderStatus.OVERDUE
    gone = bill_event("bill.liquidated", liquidated_order, "liquidated", late_fee=fee + 1)
    assert deliver(c, signed_request(gone, shop.webhook_secret)).status_code == 200
    liquidated = Order.objects.get(pk=liquidated_order.pk)
    assert (liquidated.status, liquidated.late_fee) == (OrderStatus.LIQUIDATED, fee + 1)

    orders_page = c.get("/orders/").content.decode()
    assert f'id="order-{repaid.reference}" data-status="repaid"' in orders_page
    assert f'id="order-{liquidated.reference}" data-status="liquidated"' in orders_page
    assert format_usdc(fee) in orders_page
    detail = c.get(f"/orders/{repaid.reference}/").content.decode()
    assert 'data-status="repaid"' in detail


def test_a_bad_signature_gets_400_and_changes_nothing(shop: ShopUnderTest) -> None:
    c = shop.browser()
    order = place(("mug", 1))
    event = bill_event("bill.paid", order, "paid")
    wrong_secret = deliver(c, signed_request(event, "whsec_wrong"))
    assert wrong_secret.status_code == 400
    good = signed_request(event, shop.webhook_secret)
    tampered = good.body.replace(b'"paid"', b'"repaid"', 1)
    assert deliver(c, type(good)(tampered, good.headers, good.event)).status_code == 400
    unsigned = {k: v for k, v in good.headers.items() if not k.endswith("Signature")}
    assert deliver(c, type(good)(good.body, unsigned, good.event)).status_code == 400
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED


def test_get_on_the_webhook_gets_405_and_neither_spelling_redirects(shop: ShopUnderTest) -> None:
    c = shop.browser()
    r = c.get(WEBHOOK_PATH)
    assert (r.status_code, r["Allow"]) == (405, "POST")
    assert c.get(WEBHOOK_PATH + "/").status_code == 405
    order = place(("notebook", 1))
    event = bill_event("bill.paid", order, "paid")
    # Senders do not follow redirects: both spellings must be answered in place.
    slash = deliver(c, signed_request(event, shop.webhook_secret), WEBHOOK_PATH + "/")
    assert slash.status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_manage_py_reads_the_lumenlater_environment(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LUMENLATER_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        HOME=str(tmp_path),
        LUMENLATER_API_KEY="sk_test_from_env",
        LUMENLATER_BASE_URL="http://127.0.0.1:9",
        LUMENLATER_SHOP_DB=str(tmp_path / "shop.db"),
        LUMENLATER_PUBLISHABLE_KEY="pk_test_from_env",
    )
    script = (
        "from django.conf import settings as s; from django.core.checks import run_checks; "
        "print(s.LUMENLATER_API_KEY, s.LUMENLATER_BASE_URL, s.DATABASES['default']['NAME'], "
        "s.LUMENLATER_PUBLISHABLE_KEY, "
        "s.LUMENLATER_EVENTS_DB, sorted(i.id for i in run_checks()))"
    )
    proc = subprocess.run(
        [sys.executable, str(SHOP_DIR / "manage.py"), "shell", "--no-imports", "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    db = tmp_path / "shop.db"
    assert proc.stdout.split() == [
        "sk_test_from_env",
        "http://127.0.0.1:9",
        str(db),
        "pk_test_from_env",
        str(db),
        "['lumenshop.W002']",  # no webhook secret: a warning, not an error
    ]


# --- the embedded checkout -----------------------------------------------------------


def check_out_embedded(c: Any) -> str:
    """Choose "Pay here"; the shop's own payment page it redirects to."""
    r = c.post("/checkout/", {"mode": "embedded"})
    assert r.status_code == 303, r.content
    return str(r["Location"])


def confirm(c: Any, body: Any) -> Any:
    return c.post("/checkout/confirm/", json.dumps(body), content_type="application/json")


def test_cart_offers_the_embedded_checkout_beside_the_redirect(shop: ShopUnderTest) -> None:
    from django.test.utils import override_settings

    c = shop.browser()
    fill_cart(c, {"mug": 1})
    cart = c.get("/cart/").content.decode()
    assert "Pay here with LumenLater" in cart and 'name="mode" value="embedded"' in cart
    assert "Check out with LumenLater" in cart
    with override_settings(LUMENLATER_PUBLISHABLE_KEY=None):
        cart = c.get("/cart/").content.decode()
        assert "Pay here" not in cart
        # Asked for anyway: the hosted page, which needs no publishable key.
        assert c.post("/checkout/", {"mode": "embedded"})["Location"].startswith(
            shop.ll.checkout.sessions.list().data[0].url
        )


def test_embedded_checkout_page_embeds_the_session_for_this_shop_only(
    shop: ShopUnderTest, sandbox: Any
) -> None:
    c = shop.browser()
    fill_cart(c, {"mug": 2, "lamp": 1})
    page_url = check_out_embedded(c)
    order = only_order()
    assert page_url == f"/checkout/pay/{order.reference}/"
    page = c.get(page_url)
    assert page.status_code == 200
    assert shop.browser().get(page_url).status_code == 404  # another shopper's order
    session = shop.ll.checkout.sessions.retrieve(order.session_id or "")
    assert session.embed_origins == ["http://testserver"]  # only this shop may frame it
    assert (session.order_id, session.amount) == (order.reference, order.amount)
    html = page.content.decode()
    snippet = embed_html(session, sandbox.publishable_key, appearance={"accentColor": "#0c7a5a"})
    assert snippet in html  # the one template line, escaped once
    assert 'id="order-total">114.99 USDC<' in html
    assert f'href="{session.url}"' in html


def test_a_forged_success_call_marks_nothing_paid(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"tee": 1})
    check_out_embedded(c)
    order = only_order()
    forged = confirm(c, {"session_id": order.session_id})
    assert forged.status_code == 402
    assert forged.json() == {
        "status": "open",
        "order_id": order.reference,
        "message": "LumenLater has not received this payment.",
    }
    assert confirm(c, {"session_id": "cs_not_ours"}).status_code == 404
    for bad in ({}, {"session_id": 7}, {"session_id": "bill_1"}, ["cs_x"], "cs_x"):
        assert confirm(c, bad).status_code == 400, bad
    not_json = c.post("/checkout/confirm/", "{", content_type="application/json")
    assert not_json.status_code == 400
    assert c.get("/checkout/confirm/").status_code == 405
    # From another site (no CSRF token): refused before it reaches the view.
    strict = shop.browser(enforce_csrf_checks=True)
    assert confirm(strict, {"session_id": order.session_id}).status_code == 403
    assert "Cart (1)" in c.get("/cart/").content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED
    assert shop.ll.checkout.sessions.retrieve(order.session_id or "").status == "open"


def test_embedded_payment_is_confirmed_by_the_server(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"notebook": 2})
    check_out_embedded(c)
    order = only_order()
    session = shop.ll.checkout.sessions.retrieve(order.session_id or "")
    with httpx.Client(timeout=30.0, follow_redirects=False) as frame:
        pay_hosted_page(frame, session.url, wallet="approve")  # what the iframe does
    answer = confirm(c, {"session_id": order.session_id})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "status": "paid",
        "order_id": order.reference,
        "amount": "14.50 USDC",
        "order_url": f"/orders/{order.reference}/",
    }
    paid = shop.ll.checkout.sessions.retrieve(session.id)
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.bill_id, stored.customer) == (
        OrderStatus.PAID,
        paid.bill,
        paid.customer,
    )
    assert "Cart (0)" in c.get("/cart/").content.decode()
    assert confirm(c, {"session_id": order.session_id}).status_code == 200  # a retry
    # The payment page belonged to the cart's checkout, which is over.
    assert c.get(f"/checkout/pay/{order.reference}/").status_code == 404


def test_embedded_page_after_the_checkout_ended(shop: ShopUnderTest) -> None:
    c = shop.browser()
    fill_cart(c, {"mug": 1})
    page_url = check_out_embedded(c)
    order = only_order()
    session = shop.ll.checkout.sessions.retrieve(order.session_id or "")
    with httpx.Client(timeout=30.0, follow_redirects=False) as frame:
        pay_hosted_page(frame, session.url, wallet="approve")
    # Paid, but the page's confirmation never came (a closed tab): the success page.
    r = c.get(page_url)
    assert (r.status_code, r["Location"]) == (303, f"/checkout/success/?session_id={session.id}")

    fill_cart(c, {"tee": 1})
    page_url = check_out_embedded(c)
    second = Order.objects.exclude(pk=order.pk).get()
    assert c.get("/checkout/cancel/", {"order": second.reference}).status_code == 200
    r = c.get(page_url)  # expired by the cancel page: back to the cart
    assert (r.status_code, r["Location"]) == (303, "/cart/")
    assert "That checkout has expired" in c.get("/cart/").content.decode()
