"""The hosted page as a shopper meets it, in headless Chromium (issue 12 part 2): the terms
a borrower reads before confirming, the sandbox banner, a 360 px screen, keyboard only,
labels and contrast, and markup from a merchant or an order that stays text. Every state
is screenshotted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from integration_support import watch_errors
from playwright.sync_api import Browser, Page, Route, expect

from lumenlater_sdk import LumenLater, format_usdc, usdc
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import CheckoutSession

Shot = Callable[[Page, str], Path]
LINE_ITEMS = [
    {"name": "Green tea", "quantity": 2, "unit_amount": usdc(5)},
    {"name": "Teapot", "quantity": 1, "unit_amount": usdc("30.25")},
]
DAY = 86_400


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[LumenLater]:
    with LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as c:
        yield c


def _session(client: LumenLater, **extra: object) -> CheckoutSession:
    return client.checkout.sessions.create(
        **{
            "line_items": LINE_ITEMS,
            "success_url": "https://shop.test/thanks?session={SESSION_ID}",
            "cancel_url": "https://shop.test/cart",
            "order_id": "ord-1",
            **extra,
        }  # type: ignore[arg-type]
    )


def _shop(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>Shop</title>")


def _page(browser: Browser, width: int = 1000, height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.route("https://shop.test/**", _shop)
    p = context.new_page()
    watch_errors(p)
    return p


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    p = _page(browser)
    try:
        yield p
    finally:
        p.context.close()


def test_the_terms_are_shown_before_the_shopper_confirms(
    page: Page, client: LumenLater, screenshot: Shot
) -> None:
    session = _session(client)
    page.goto(session.url)
    now = client.test_helpers.clock.retrieve().now
    terms = page.get_by_role("region", name="How paying later works")
    expect(terms).to_contain_text("Nothing to pay today. LumenLater pays Sandbox Shop for you now.")
    due = _date(now + 14 * DAY)
    expect(terms).to_contain_text(f"Repay 40.25 USDC by {due} with no interest.")
    expect(terms).to_contain_text("interest of 30 % a year is charged for each day")
    collateral = format_usdc(usdc("40.25") * 111 // 100)
    expect(terms).to_contain_text(f"worth at least {collateral} (111 % of what you owe)")
    expect(terms).to_contain_text(f"If you have not repaid by {_date(now + 28 * DAY)}")
    expect(terms).to_contain_text("with a 1 % penalty")
    # The terms come before the button that accepts them.
    pay = page.get_by_role("button", name="Confirm and pay 40.25 USDC")
    terms_box, pay_box = terms.bounding_box(), pay.bounding_box()
    assert terms_box is not None and pay_box is not None and terms_box["y"] < pay_box["y"]
    banner = page.get_by_role("note")
    expect(banner).to_have_text("Sandbox · test mode: no real money moves.")
    expect(page).to_have_title("Checkout · Sandbox Shop")
    screenshot(page, "terms")
    assert page.errors == []  # type: ignore[attr-defined]


def _date(timestamp: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%-d %B %Y, %H:%M UTC")


def test_a_live_session_has_no_sandbox_banner(
    page: Page, sandbox: SandboxHandle, screenshot: Shot
) -> None:
    live = sandbox.backend.create_merchant("Live Tea Co", livemode=True)
    with LumenLater(api_key=live.secret_key, base_url=sandbox.base_url) as shop:
        session = _session(shop)
    page.goto(session.url)
    expect(page.get_by_text("Live Tea Co", exact=True)).to_be_visible()
    expect(page.get_by_role("note")).to_have_count(0)
    expect(page.get_by_text("test mode")).to_have_count(0)
    screenshot(page, "live")


def test_at_360_px_everything_fits_and_pays(
    browser: Browser, client: LumenLater, screenshot: Shot
) -> None:
    session = _session(client)
    page = _page(browser, width=360, height=740)
    try:
        page.goto(session.url)
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{overflow}px wider than the screen"
        screenshot(page, "360px-top")
        pay = page.get_by_role("button", name="Confirm and pay 40.25 USDC")
        pay.scroll_into_view_if_needed()
        box = pay.bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] >= 0
        assert box["x"] + box["width"] <= 360
        screenshot(page, "360px-pay")
        pay.click()
        expect(page).to_have_url(f"https://shop.test/thanks?session={session.id}")
        assert client.checkout.sessions.retrieve(session.id).status == "complete"
    finally:
        page.context.close()


def test_keyboard_only_choose_a_wallet_and_pay(
    page: Page, client: LumenLater, screenshot: Shot
) -> None:
    """Tab reaches the wallets, the arrow keys choose, Tab reaches the button, Enter pays;
    the focus is visible on every stop."""
    session = _session(client)
    page.goto(session.url)
    stops: list[str] = []
    for _ in range(8):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.outerHTML.slice(0, 60)"))
        if page.evaluate("document.activeElement.type") == "radio":
            break
    assert page.evaluate("document.activeElement.value") == _wallet_id(client, "approve")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", stops
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")  # decline, then back to approve
    expect(page.get_by_role("radio", name=re.compile(r"^approve\b"))).to_be_checked()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Confirm and pay 40.25 USDC"
    screenshot(page, "keyboard-focus-on-pay")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"https://shop.test/thanks?session={session.id}")


def _wallet_id(client: LumenLater, name: str) -> str:
    return next(w.id for w in client.test_helpers.wallets.list() if w.name == name)


# Contrast of the text and the primary button, as WCAG defines it (relative luminance).
_CONTRAST = """el => {
 function lum(c){const v=c.match(/[0-9.]+/g).slice(0,3).map(Number).map(x=>{x/=255;
  return x<=0.03928?x/12.92:Math.pow((x+0.055)/1.055,2.4)});
  return 0.2126*v[0]+0.7152*v[1]+0.0722*v[2]}
 const s=getComputedStyle(el);let bg=s.backgroundColor,n=el;
 while(/rgba\\(.*, 0\\)|transparent/.test(bg)&&n.parentElement){n=n.parentElement;
  bg=getComputedStyle(n).backgroundColor}
 const a=lum(s.color),b=lum(bg);return (Math.max(a,b)+0.05)/(Math.min(a,b)+0.05)}"""


def test_labels_landmarks_and_contrast(page: Page, client: LumenLater) -> None:
    session = _session(client)
    page.goto(session.url)
    assert page.evaluate("document.documentElement.lang") == "en"
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]),button')]
        .filter(e => !(e.labels && e.labels.length) && !e.textContent.trim()).length"""
    )
    assert unlabelled == 0
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    for locator in (
        page.get_by_role("button", name="Confirm and pay 40.25 USDC"),
        page.get_by_role("button", name="Pay 40.25 USDC with your Stellar wallet"),
        page.get_by_role("link", name="Cancel and return to the shop"),
        page.get_by_role("note"),
        page.get_by_text("Sandbox Shop", exact=True),
        page.get_by_role("region", name="How paying later works").locator("li").first,
    ):
        ratio = locator.evaluate(_CONTRAST)
        assert ratio >= 4.5, (locator, ratio)


def test_markup_from_a_merchant_or_an_order_stays_text(
    page: Page, client: LumenLater, sandbox: SandboxHandle, screenshot: Shot
) -> None:
    hostile = '<img src=x onerror="window.pwned=1">'
    made = client.test_helpers.merchants.create(business_name=f"Tea {hostile}")
    with LumenLater(api_key=made.secret_key, base_url=sandbox.base_url) as shop:
        session = _session(
            shop,
            line_items=[
                {"name": "<script>window.pwned=2</script>", "quantity": 1, "unit_amount": 5}
            ],
            order_id='"><b>ord</b>',
        )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(session.url)
    expect(page.get_by_text(f"Tea {hostile}", exact=True)).to_be_visible()
    expect(page.get_by_text("<script>window.pwned=2</script> × 1")).to_be_visible()
    assert page.evaluate("window.pwned") is None and dialogs == []
    assert page.locator("main img, main b").count() == 0
    screenshot(page, "hostile-text")


def test_dead_ends_lead_back_to_the_shop(
    page: Page, client: LumenLater, sandbox: SandboxHandle, screenshot: Shot
) -> None:
    session = _session(client)
    client.checkout.sessions.expire(session.id)
    page.goto(session.url)
    expect(page.get_by_role("status")).to_contain_text("This checkout has expired")
    expect(page.get_by_role("link", name="Return to the shop")).to_have_attribute(
        "href", "https://shop.test/cart"
    )
    screenshot(page, "expired")
    answer = page.goto(f"{sandbox.base_url}/pay/cs_unknown")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout session not found")
    expect(page.get_by_text("Go back to the shop and start the checkout again.")).to_be_visible()
    screenshot(page, "not-found")
