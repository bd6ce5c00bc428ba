"""End to end in headless Chromium: shop, LumenLater's hosted page, back, webhook.

``browser`` and ``screenshot`` are the repo-root conftest's fixtures; each page the
shopper sees is screenshotted (see ``screenshot_dir`` there).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from examples.flask_shop.serving import RunningShop


def _wait_for_status(page: Page, orders_url: str, order_id: str, status: str) -> None:
    """Reload the orders page until the order shows *status* (the webhook is asynchronous)."""
    row = page.locator(f"#order-{order_id}")
    deadline = time.monotonic() + 60
    while True:
        page.goto(orders_url)
        if row.get_attribute("data-status") == status:
            return
        assert time.monotonic() < deadline, f"order {order_id} never showed {status}"
        time.sleep(0.2)


def test_buy_with_the_approve_wallet_in_a_real_browser(
    shop: RunningShop, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    page = browser.new_page()
    page.goto(shop.url + "/")
    screenshot(page, "shop")
    page.locator("#product-mug").get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add Stellar mug to cart").click()
    expect(page.locator("#cart-total")).to_have_text("25.00 USDC")
    screenshot(page, "cart")
    page.get_by_role("button", name="Check out with LumenLater").click()

    # LumenLater's hosted page: pick the test wallet and confirm.
    expect(page).to_have_url(re.compile(r"/pay/cs_"))
    expect(page.locator("#total")).to_contain_text("25.00")
    screenshot(page, "hosted-checkout")
    page.get_by_role("radio", name=re.compile(r"^approve\b")).check()
    screenshot(page, "hosted-checkout-approve-chosen")
    page.get_by_role("button", name=re.compile(r"^Confirm and pay")).click()

    expect(page).to_have_url(re.compile(re.escape(shop.url) + r"/checkout/success\?session_id=cs_"))
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"Cart \(0\)"))).to_be_visible()
    screenshot(page, "success")

    [order] = shop.orders.list()
    _wait_for_status(page, shop.url + "/orders", order.id, "paid")
    expect(page.locator(f"#order-{order.id} .status")).to_have_text("paid")
    screenshot(page, "orders")
    page.close()


def test_pay_in_the_embedded_checkout_without_leaving_the_shop(
    shop: RunningShop, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    """ "Pay here": LumenLater's checkout inside the shop's page (the API on another
    origin). A success the browser merely claims is refused by the shop's server; a
    refusal leaves the order pending; paying with ``approve`` ends with the shop's own
    confirmation, given only after its server asked LumenLater, on the same page."""
    context = browser.new_context(viewport={"width": 1100, "height": 950})
    page = context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda exc: crashes.append(str(exc)))
    try:
        page.goto(shop.url + "/")
        page.locator("#product-mug").get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Add Stellar mug to cart").click()
        screenshot(page, "cart-two-ways-to-pay")
        page.get_by_role("button", name="Pay here with LumenLater").click()

        [order] = shop.orders.list()
        pay_page = f"{shop.url}/checkout/pay/{order.id}"
        expect(page).to_have_url(pay_page)
        frame = page.frame_locator("#pay-here iframe")
        pay = frame.get_by_role("button", name="Confirm and pay 25.00 USDC")
        expect(pay).to_be_visible()
        expect(pay).to_have_css("background-color", "rgb(48, 80, 240)")  # the shop's accent
        expect(page.locator("#order-total")).to_have_text("25.00 USDC")
        screenshot(page, "embedded-checkout")

        # A success event no payment stands behind (a script on the page, devtools).
        page.evaluate(
            """sid => document.getElementById("lumenlater-checkout").dispatchEvent(
                new CustomEvent("lumenlater:success",
                  {detail: {sessionId: sid}, bubbles: true, cancelable: true}))""",
            order.session_id,
        )
        outcome = page.locator("#checkout-outcome")
        expect(outcome).to_have_text("LumenLater has not received this payment.")
        assert shop.orders.get(order.id) == order  # still pending, untouched
        screenshot(page, "embedded-checkout-forged-success-refused")

        frame.get_by_role("radio", name=re.compile(r"^decline\b")).check()
        pay.click()
        expect(frame.get_by_role("alert")).to_contain_text("choose another wallet")
        expect(outcome).to_be_empty()  # the checkout explains; the shop does not repeat it
        screenshot(page, "embedded-checkout-declined")
        current = shop.orders.get(order.id)
        assert current is not None and current.status == "pending"

        frame.get_by_role("radio", name=re.compile(r"^approve\b")).check()
        pay.click()
        expect(outcome).to_contain_text(f"Thank you! Order {order.id} is paid (25.00 USDC).")
        assert page.url == pay_page  # the shopper never left the shop's page
        paid = shop.orders.get(order.id)
        assert paid is not None and paid.status == "paid" and paid.bill_id
        expect(page.get_by_role("link", name="Cart (0)")).to_be_visible()
        expect(frame.get_by_text("Payment complete")).to_be_visible()
        expect(page.get_by_role("link", name="LumenLater's payment page")).to_be_hidden()
        screenshot(page, "embedded-checkout-paid")

        page.get_by_role("link", name="See your order").click()
        expect(page.locator("[data-status]")).to_have_attribute("data-status", "paid")
        screenshot(page, "embedded-order")
        assert crashes == []
    finally:
        context.close()
