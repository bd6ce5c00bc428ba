"""What a shopper sees of LumenLater in headless Chromium, against a real sandbox.

The hosted checkout page (``/pay/{id}``): the order, the total, the sandbox wallets
and the pay button; a refusal (the ``decline`` wallet) shown on the page. The embed
script (``/v1/js/lumenlater.js``) on a merchant page of its own origin. Every state
is screenshotted (the repo-root ``screenshot`` fixture).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from integration_support import wallet, watch_errors
from playwright.sync_api import Browser, Page, expect

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.checkout import widget_html
from lumenlater_sdk.types import CheckoutSession

Shot = Callable[[Page, str], Path]
MERCHANT = "Sandbox Shop"  # run_sandbox's default business name
LINE_ITEMS = [
    {"name": "Green tea", "quantity": 2, "unit_amount": usdc(5)},
    {"name": "Teapot", "quantity": 1, "unit_amount": usdc("30.25")},
]


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[LumenLater]:
    with LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as c:
        yield c


@pytest.fixture
def session(client: LumenLater) -> CheckoutSession:
    return client.checkout.sessions.create(
        line_items=LINE_ITEMS,
        success_url="https://shop.test/thanks?session={SESSION_ID}",
        cancel_url="https://shop.test/cart",
        order_id="ord-1",
    )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; its console errors and uncaught exceptions in ``page.errors``.

    Chromium's own ``/favicon.ico`` probe is left out: neither the backend nor the
    merchant page here has an icon.
    """
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    p = context.new_page()
    watch_errors(p)
    try:
        yield p
    finally:
        context.close()


def test_hosted_page_shows_the_order_and_takes_a_refusal(
    page: Page, session: CheckoutSession, client: LumenLater, screenshot: Shot
) -> None:
    answer = page.goto(session.url)
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay later with LumenLater")
    summary = page.get_by_role("table")
    expect(summary.get_by_role("row", name="Green tea × 2 10.00 USDC")).to_be_visible()
    expect(summary.get_by_role("row", name="Teapot × 1 30.25 USDC")).to_be_visible()
    expect(summary.get_by_role("row", name="Total 40.25 USDC")).to_be_visible()
    pay = page.get_by_role("button", name="Confirm and pay 40.25 USDC")
    expect(pay).to_be_visible()
    expect(page.get_by_role("link", name="Cancel and return to the shop")).to_have_attribute(
        "href", "https://shop.test/cart"
    )
    expect(page.get_by_role("radio", name=re.compile(r"^approve\b"))).to_be_checked()
    screenshot(page, "hosted-page")

    declining = page.get_by_role("radio", name=re.compile(r"^decline\b"))
    declining.check()
    screenshot(page, "hosted-page-decline-chosen")
    pay.click()

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).not_to_be_empty()
    # Still the same session, still payable with another wallet.
    expect(page).to_have_url(session.url)
    expect(page.get_by_role("button", name="Confirm and pay 40.25 USDC")).to_be_visible()
    screenshot(page, "hosted-page-refused")
    assert client.checkout.sessions.retrieve(session.id).status == "open"
    assert wallet(client, "decline").name == "decline"
    # The refusal is answered with HTTP 402, which Chromium logs for the document.
    assert [e for e in page.errors if "status of 402" not in e] == []  # type: ignore[attr-defined]


def test_hosted_page_names_the_merchant(page: Page, session: CheckoutSession) -> None:
    page.goto(session.url)
    expect(page.get_by_text(MERCHANT, exact=True)).to_be_visible(timeout=1000)
    expect(page).to_have_title(f"Checkout · {MERCHANT}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def merchant_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static site on its own loopback origin: ``(url, folder)``."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="merchant-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_embed_script_on_a_merchant_page(
    page: Page,
    client: LumenLater,
    sandbox: SandboxHandle,
    merchant_site: tuple[str, Path],
    screenshot: Shot,
) -> None:
    """``widget_html`` on a page of the merchant's own origin (allowed by the session's
    ``embed_origins``): the script reads the session across origins (its CORS preflight
    is answered) and mounts the checkout in the container."""
    url, folder = merchant_site
    session = client.checkout.sessions.create(
        line_items=LINE_ITEMS,
        success_url="https://shop.test/thanks?session={SESSION_ID}",
        cancel_url="https://shop.test/cart",
        order_id="ord-1",
        embed_origins=[url],
    )
    assert session.embed_origins == [url]
    snippet = widget_html(session, sandbox.publishable_key)
    (folder / "cart.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cart</title>'
        f"</head><body><h1>Your cart</h1>{snippet}</body></html>",
        encoding="utf-8",
    )
    page.goto(f"{url}/cart.html")
    widget = page.locator("#lumenlater-checkout")
    expect(widget.locator("iframe")).to_have_count(1)  # the script has read the session
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    frame = page.frame_locator("#lumenlater-checkout iframe")
    expect(frame.get_by_role("row", name="Total 40.25 USDC")).to_be_visible(timeout=5000)
    expect(frame.get_by_role("button", name="Confirm and pay 40.25 USDC")).to_be_visible()
    screenshot(page, "merchant-page-with-widget")
    assert page.errors == []  # type: ignore[attr-defined]


def test_self_custody_page_connects_waits_and_continues_by_itself(
    page: Page, sandbox: SandboxHandle, screenshot: Shot
) -> None:
    """Flow (b) of a self-custody merchant: connect a wallet, wait for the merchant's
    signature (given here from the test, as its webhook handler would), then the page
    continues on its own, with no click, to the payment; paid, it shows the completed state."""
    from stellar_sdk import Keypair

    from lumenlater_sdk.checkout import authorize_pending

    key = Keypair.random()
    creds = sandbox.create_self_custody_merchant(key, "Own Keys Shop")
    with LumenLater(api_key=creds.secret_key, base_url=sandbox.base_url) as merchant:
        s = merchant.checkout.sessions.create(
            line_items=LINE_ITEMS,
            # Back to the hosted page itself, so the completed state is on screen.
            success_url=f"{sandbox.base_url}/pay/{{SESSION_ID}}",
            cancel_url="https://shop.test/cart",
            order_id="ord-self-1",
        )
    page.goto(s.url)
    expect(page.get_by_role("group", name="Connect a sandbox wallet")).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^approve\b")).check()
    screenshot(page, "self-custody-connect")
    page.get_by_role("button", name="Connect wallet").click()

    waiting = page.get_by_role("status")
    expect(waiting).to_contain_text("Waiting for Own Keys Shop to confirm your order")
    expect(page.get_by_text(re.compile(r"^Wallet: approve"))).to_be_visible()
    expect(page.get_by_role("link", name="Cancel and return to the shop")).to_have_attribute(
        "href", "https://shop.test/cart"
    )
    expect(page.get_by_role("button", name=re.compile("Confirm and pay"))).to_have_count(0)
    screenshot(page, "self-custody-waiting")

    with LumenLater(
        api_key=creds.secret_key, base_url=sandbox.base_url, stellar_signer=key
    ) as merchant:
        assert authorize_pending(merchant, s.id).authorization is None
        pay = page.get_by_role("button", name="Confirm and pay 40.25 USDC")
        expect(pay).to_be_visible(timeout=15_000)  # the page polled and moved on
        expect(page.get_by_text("Own Keys Shop has confirmed your order.")).to_be_visible()
        screenshot(page, "self-custody-ready-to-pay")
        pay.click()
        expect(page.get_by_role("status")).to_have_text(
            "Payment complete: this order is paid and cannot be paid again."
        )
        screenshot(page, "self-custody-completed")
        done = merchant.checkout.sessions.retrieve(s.id)
        assert (done.status, done.payment_status) == ("complete", "paid")
    assert page.errors == []  # type: ignore[attr-defined]
