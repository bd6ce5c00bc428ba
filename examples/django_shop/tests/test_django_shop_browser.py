"""The Django shop in headless Chromium: "Pay here", LumenLater's checkout embedded in the
shop's page (the API on another origin), confirmed by the shop's server.

``browser`` and ``screenshot`` are the repo-root conftest's fixtures; every state the
shopper sees is screenshotted (see ``screenshot_dir`` there).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django_shop_support import wait_for_order
from lumenshop.models import Order, OrderStatus
from playwright.sync_api import Browser, Page, expect


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API marks its event loop running in this thread, which Django's
    ORM takes for async code; the ORM calls here are plain synchronous ones."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_pay_in_the_embedded_checkout_without_leaving_the_shop(
    live_shop: Any, browser: Browser, screenshot: Callable[[Page, str], Path]
) -> None:
    """A success the browser merely claims is refused by the shop's server (and the CSRF
    check holds for the page's own call); a refusal leaves the order unpaid; paying with
    ``approve`` ends with the shop's confirmation on the same page."""
    context = browser.new_context(viewport={"width": 1100, "height": 950})
    page = context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda exc: crashes.append(str(exc)))
    try:
        page.goto(live_shop.url + "/")
        page.locator("#product-tee").get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Add Soroban T-shirt to cart").click()
        expect(page.locator("#cart-total")).to_have_text("50.00 USDC")
        screenshot(page, "cart-two-ways-to-pay")
        page.get_by_role("button", name="Pay here with LumenLater").click()

        order = Order.objects.get()
        pay_page = f"{live_shop.url}/checkout/pay/{order.reference}/"
        expect(page).to_have_url(pay_page)
        session = live_shop.ll.checkout.sessions.retrieve(order.session_id)
        assert session.embed_origins == [live_shop.url]
        frame = page.frame_locator("#pay-here iframe")
        pay = frame.get_by_role("button", name="Confirm and pay 50.00 USDC")
        expect(pay).to_be_visible()
        expect(pay).to_have_css("background-color", "rgb(12, 122, 90)")  # the shop's accent
        screenshot(page, "embedded-checkout")

        page.evaluate(
            """sid => document.getElementById("lumenlater-checkout").dispatchEvent(
                new CustomEvent("lumenlater:success",
                  {detail: {sessionId: sid}, bubbles: true, cancelable: true}))""",
            order.session_id,
        )
        outcome = page.locator("#checkout-outcome")
        expect(outcome).to_have_text("LumenLater has not received this payment.")
        assert Order.objects.get().status == OrderStatus.CREATED
        screenshot(page, "embedded-checkout-forged-success-refused")

        frame.get_by_role("radio", name=re.compile(r"^decline\b")).check()
        pay.click()
        expect(frame.get_by_role("alert")).to_contain_text("choose another wallet")
        expect(outcome).to_be_empty()
        assert Order.objects.get().status == OrderStatus.CREATED
        screenshot(page, "embedded-checkout-declined")

        frame.get_by_role("radio", name=re.compile(r"^approve\b")).check()
        pay.click()
        expect(outcome).to_contain_text(f"Thank you! Order {order.reference} is paid (50.00 USDC).")
        assert page.url == pay_page  # the shopper never left the shop's page
        paid = wait_for_order(order.reference, lambda o: o.status == OrderStatus.PAID)
        assert paid.bill_id == live_shop.ll.checkout.sessions.retrieve(session.id).bill
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
