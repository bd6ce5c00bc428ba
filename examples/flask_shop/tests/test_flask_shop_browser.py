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
