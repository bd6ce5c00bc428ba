"""The embed script in headless Chromium: the whole checkout inside a merchant's page.

The merchant's page is served by a second loopback server (another origin than the
API), loads ``/v1/js/lumenlater.js`` from the API's origin and calls
``LumenLater({publishableKey}).checkout.embed({...})``; what the callbacks receive is
collected in ``window.events`` (and shown on the page, for the screenshots). Paying with
the ``approve`` wallet, a refusal with ``decline``, cancelling, an origin that may not
embed, and the mistakes a merchant developer makes. Every state is screenshotted.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import browser_wallet
import pytest
from integration_support import watch_errors
from playwright.sync_api import Browser, FrameLocator, Page, expect

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk._embed_script import script_url
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import CheckoutSession

Shot = Callable[[Page, str], Path]
LINE_ITEMS = [
    {"name": "Green tea", "quantity": 2, "unit_amount": usdc(5)},
    {"name": "Teapot", "quantity": 1, "unit_amount": usdc("30.25")},
]
FRAME = "#checkout iframe"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="merchant-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The merchant's site, on its own loopback origin: ``(origin, folder)``."""
    folder = tmp_path / "shop"
    folder.mkdir()
    yield from ((origin, folder) for origin in _serve(folder))


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Another site, whose origin the merchant did not allow: ``(origin, folder)``."""
    folder = tmp_path / "other"
    folder.mkdir()
    yield from ((origin, folder) for origin in _serve(folder))


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[LumenLater]:
    with LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as c:
        yield c


@pytest.fixture
def session(client: LumenLater, shop: tuple[str, Path]) -> CheckoutSession:
    """An open session; the account allows the shop's origin to embed its checkout."""
    assert client.account.update(embed_origins=[shop[0]]).embed_origins == [shop[0]]
    return client.checkout.sessions.create(
        line_items=LINE_ITEMS,
        success_url="https://shop.test/thanks?session={SESSION_ID}",
        cancel_url="https://shop.test/cart",
        order_id="ord-1",
    )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; console errors and uncaught exceptions in ``page.errors``."""
    context = browser.new_context(viewport={"width": 900, "height": 900})
    p = context.new_page()
    watch_errors(p)
    try:
        yield p
    finally:
        context.close()


def _errors(page: Page) -> list[str]:
    found: list[str] = page.errors  # type: ignore[attr-defined]
    return found


def shop_page(
    folder: Path,
    api: str,
    *,
    publishable_key: str,
    session_id: str,
    client_secret: str,
    container: str = "#checkout",
    name: str = "cart.html",
    extra: str = "",
) -> str:
    """Write the merchant's checkout page; return its file name."""
    options = {
        "sessionId": session_id,
        "clientSecret": client_secret,
        "container": container,
        "appearance": {"accentColor": "#0b6e4f", "borderRadius": "8px"},
    }
    (folder / name).write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Tea shop</title>
<style>body{{font-family:Georgia,serif;max-width:36rem;margin:1.5rem auto;padding:0 1rem;
background:#f7f3ea}}#checkout{{background:#fff;border:1px solid #d8cfbf;border-radius:8px;
padding:.5rem}}</style></head><body><h1>Tea shop: checkout</h1>
<div id="checkout"></div><p id="outcome" role="status"></p>
<script src="{script_url(api)}"></script>
<script>
window.events = [];
function show(text) {{ document.getElementById("outcome").textContent = text; }}
const ll = LumenLater({{ publishableKey: {json.dumps(publishable_key)} }});
const options = {json.dumps(options)};
options.onSuccess = (r) => {{ events.push(["success", r]); show("Paid: order " + r.orderId); }};
options.onError = (e) => {{ events.push(["error", e]); show("Error: " + e.code); }};
options.onCancel = () => {{ events.push(["cancel"]); show("Cancelled"); }};
window.handle = ll.checkout.embed(options);
{extra}
</script></body></html>""",
        encoding="utf-8",
    )
    return name


def events(page: Page) -> list[Any]:
    found: list[Any] = page.evaluate("window.events")
    return found


def open_embedded(
    page: Page, sandbox: SandboxHandle, s: CheckoutSession, shop: tuple[str, Path]
) -> FrameLocator:
    """The shop's checkout page, with the widget loaded; the widget's frame."""
    origin, folder = shop
    name = shop_page(
        folder,
        sandbox.base_url,
        publishable_key=sandbox.publishable_key,
        session_id=s.id,
        client_secret=s.client_secret or "",
    )
    page.goto(f"{origin}/{name}")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("row", name="Total 40.25 USDC")).to_be_visible()
    return frame


def test_embedded_checkout_pays_with_approve(
    page: Page,
    session: CheckoutSession,
    client: LumenLater,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    screenshot: Shot,
) -> None:
    frame = open_embedded(page, sandbox, session, shop)
    iframe = page.locator(FRAME)
    # Sized to its content by the frame's resize messages (not the 420 px it starts at).
    expect(iframe).not_to_have_attribute("style", re.compile(r"height: 420px"))
    height = iframe.bounding_box()
    assert height is not None and 250 < height["height"] < 1400
    pay = frame.get_by_role("button", name="Confirm and pay 40.25 USDC")
    # The merchant's appearance reached the frame (accent colour on the button).
    expect(pay).to_have_css("background-color", "rgb(11, 110, 79)")
    expect(frame.get_by_role("radio", name=re.compile(r"^approve\b"))).to_be_checked()
    screenshot(page, "widget-ready")

    pay.click()
    expect(page.get_by_role("status").first).to_have_text("Paid: order ord-1")
    done = client.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert events(page) == [
        ["success", {"sessionId": session.id, "billId": done.bill, "orderId": "ord-1"}]
    ]
    expect(frame.get_by_text("Payment complete")).to_be_visible()
    # Embedded, the frame does not send the shopper anywhere: the shop decides.
    expect(frame.get_by_role("link")).to_have_count(0)
    assert page.url.startswith(shop[0])
    screenshot(page, "widget-paid")
    assert _errors(page) == []


def test_embedded_refusal_fires_on_error_and_keeps_the_session_open(
    page: Page,
    session: CheckoutSession,
    client: LumenLater,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    screenshot: Shot,
) -> None:
    frame = open_embedded(page, sandbox, session, shop)
    frame.get_by_role("radio", name=re.compile(r"^decline\b")).check()
    frame.get_by_role("button", name="Confirm and pay 40.25 USDC").click()
    expect(page.get_by_role("status").first).to_have_text("Error: insufficient_collateral")
    [(kind, error)] = events(page)
    assert kind == "error"
    assert error["code"] == "insufficient_collateral" and error["message"]
    expect(frame.get_by_role("alert")).to_be_visible()
    # The shopper's choice is kept; another wallet can still pay.
    expect(frame.get_by_role("radio", name=re.compile(r"^decline\b"))).to_be_checked()
    expect(frame.get_by_role("button", name="Confirm and pay 40.25 USDC")).to_be_visible()
    screenshot(page, "widget-refused")
    assert client.checkout.sessions.retrieve(session.id).status == "open"
    # The refusal is answered with HTTP 402, which Chromium logs for the frame's document.
    assert [e for e in _errors(page) if "status of 402" not in e] == []


def test_embedded_cancel_fires_on_cancel(
    page: Page,
    session: CheckoutSession,
    client: LumenLater,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    screenshot: Shot,
) -> None:
    frame = open_embedded(page, sandbox, session, shop)
    cancel = frame.get_by_role("button", name="Cancel payment")
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_have_text("Cancelled")
    assert events(page) == [["cancel"]]
    assert client.checkout.sessions.retrieve(session.id).status == "open"
    screenshot(page, "widget-cancelled")
    assert _errors(page) == []


def test_an_origin_not_allowed_cannot_embed_or_frame_the_page(
    page: Page,
    session: CheckoutSession,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    other_site: tuple[str, Path],
    screenshot: Shot,
) -> None:
    origin, folder = other_site
    # The embed script on that origin: the session read is refused (no CORS answer).
    name = shop_page(
        folder,
        sandbox.base_url,
        publishable_key=sandbox.publishable_key,
        session_id=session.id,
        client_secret=session.client_secret or "",
    )
    page.goto(f"{origin}/{name}")
    expect(page.get_by_role("status").first).to_have_text("Error: session_unreachable")
    [(kind, error)] = events(page)
    assert kind == "error" and origin in error["message"]
    assert any("[session_unreachable]" in e for e in _errors(page))
    expect(page.locator(FRAME)).to_have_count(0)
    screenshot(page, "other-origin-script")

    # Framing the page directly, even claiming an allowed origin: refused by the browser
    # (frame-ancestors names the shop's origin only, or nobody).
    embedded = f"{sandbox.base_url}/pay/{session.id}?embed=1&origin={shop[0]}"
    (folder / "frame.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other</title>'
        f'</head><body><h1>Not the shop</h1><iframe id="a" src="{embedded}"></iframe>'
        f'<iframe id="b" src="{session.url}"></iframe></body></html>',
        encoding="utf-8",
    )
    page.goto(f"{origin}/frame.html")
    page.wait_for_timeout(500)
    for sel in ("#a", "#b"):
        expect(page.frame_locator(sel).get_by_text("Total")).to_have_count(0)
    refusals = [e for e in _errors(page) if "frame-ancestors" in e]
    assert len(refusals) == 2, _errors(page)
    screenshot(page, "other-origin-frames")


def test_developer_mistakes_are_reported_in_the_console_and_on_error(
    page: Page,
    session: CheckoutSession,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    screenshot: Shot,
) -> None:
    origin, folder = shop
    secret = session.client_secret or ""
    calls = [
        ("#nowhere", sandbox.publishable_key, session.id, secret),
        ("#checkout", "pk_test_not_a_real_key", session.id, secret),
        ("#checkout", sandbox.secret_key, session.id, secret),
        ("#checkout", sandbox.publishable_key, "cs_does_not_exist", secret),
        ("#checkout", sandbox.publishable_key, session.id, "cs_x_secret_wrong"),
        ("#checkout", sandbox.publishable_key, "", secret),
    ]
    script = "".join(
        f"LumenLater({{publishableKey: {json.dumps(k)}}}).checkout.embed({{container:"
        f" {json.dumps(c)}, sessionId: {json.dumps(s)}, clientSecret: {json.dumps(cs)},"
        f" onError: (e) => events.push(['error', e])}});\n"
        for c, k, s, cs in calls
    )
    (folder / "mistakes.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mistakes</title>'
        f'</head><body><div id="checkout"></div><script src="{script_url(sandbox.base_url)}">'
        f"</script><script>window.events = [];\n{script}</script></body></html>",
        encoding="utf-8",
    )
    page.goto(f"{origin}/mistakes.html")
    page.wait_for_function("window.events.length >= 6")
    codes = sorted(e[1]["code"] for e in events(page))
    assert codes == sorted(
        [
            "container_not_found",
            "invalid_publishable_key",
            "secret_key_in_browser",
            "session_unreachable",
            "session_not_found",
            "invalid_session_id",
        ]
    )
    logged = "\n".join(_errors(page))
    for code in codes:
        assert f"[{code}]" in logged, code
    assert sandbox.secret_key not in logged  # never echoed
    expect(page.locator(FRAME)).to_have_count(0)


def test_redirect_to_checkout_opens_the_hosted_page(
    page: Page, session: CheckoutSession, sandbox: SandboxHandle, shop: tuple[str, Path]
) -> None:
    origin, folder = shop
    name = shop_page(
        folder,
        sandbox.base_url,
        publishable_key=sandbox.publishable_key,
        session_id=session.id,
        client_secret=session.client_secret or "",
        container="#nothing-here",
    )
    page.goto(f"{origin}/{name}")
    page.evaluate(f"ll.checkout.redirectToCheckout({{sessionId: {json.dumps(session.id)}}})")
    expect(page).to_have_url(session.url)
    expect(page.get_by_role("button", name="Confirm and pay 40.25 USDC")).to_be_visible()


def test_keyboard_only_at_360_px(
    browser: Browser,
    session: CheckoutSession,
    client: LumenLater,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    screenshot: Shot,
) -> None:
    """A phone-sized page, no mouse: Tab reaches the wallets and the pay button inside
    the frame, Space picks a wallet, Enter pays."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        frame = open_embedded(page, sandbox, session, shop)
        box = page.locator(FRAME).bounding_box()
        assert box is not None and box["width"] <= 360
        # Nothing overflows the frame sideways.
        assert frame.locator("body").evaluate("b => b.scrollWidth <= b.clientWidth + 1")
        screenshot(page, "widget-360px")
        pay = frame.get_by_role("button", name="Confirm and pay 40.25 USDC")
        approve = frame.get_by_role("radio", name=re.compile(r"^approve\b"))
        for _ in range(10):
            page.keyboard.press("Tab")
            if approve.evaluate("e => e === document.activeElement"):
                break
        expect(approve).to_be_focused()
        page.keyboard.press("Tab")
        expect(pay).to_be_focused()
        screenshot(page, "widget-360px-focus-on-pay")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").first).to_have_text("Paid: order ord-1")
        assert client.checkout.sessions.retrieve(session.id).payment_status == "paid"
        screenshot(page, "widget-360px-paid")
    finally:
        context.close()


def test_self_custody_merchant_embedded_connects_waits_and_pays(
    page: Page, sandbox: SandboxHandle, shop: tuple[str, Path], screenshot: Shot
) -> None:
    """A self-custody merchant's session inside the widget: connect a wallet, wait for the
    merchant's signature, then pay; the embedded mode survives every step (forms, the
    redirect after connecting, the waiting page's reload) and onSuccess fires."""
    from stellar_sdk import Keypair

    from lumenlater_sdk.checkout import authorize_pending

    key = Keypair.random()
    creds = sandbox.create_self_custody_merchant(key, "Own Keys Shop")
    with LumenLater(
        api_key=creds.secret_key, base_url=sandbox.base_url, stellar_signer=key
    ) as merchant:
        s = merchant.checkout.sessions.create(
            line_items=LINE_ITEMS,
            success_url="https://shop.test/thanks",
            cancel_url="https://shop.test/cart",
            order_id="ord-self-1",
            embed_origins=[shop[0]],
        )
        name = shop_page(
            shop[1],
            sandbox.base_url,
            publishable_key=creds.publishable_key,
            session_id=s.id,
            client_secret=s.client_secret or "",
        )
        page.goto(f"{shop[0]}/{name}")
        frame = page.frame_locator(FRAME)
        frame.get_by_role("button", name="Connect wallet").click()
        expect(frame.get_by_role("status")).to_contain_text("Waiting for Own Keys Shop")
        screenshot(page, "widget-self-custody-waiting")
        authorize_pending(merchant, s.id)
        pay = frame.get_by_role("button", name="Confirm and pay 40.25 USDC")
        expect(pay).to_be_visible(timeout=15_000)
        pay.click()
        expect(page.get_by_role("status").first).to_have_text("Paid: order ord-self-1")
        done = merchant.checkout.sessions.retrieve(s.id)
        assert events(page) == [
            ["success", {"sessionId": s.id, "billId": done.bill, "orderId": "ord-self-1"}]
        ]
        screenshot(page, "widget-self-custody-paid")
    assert _errors(page) == []


def test_embedded_own_wallet_payment_fires_on_success(
    browser: Browser,
    session: CheckoutSession,
    client: LumenLater,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    stellar_base: Path,
    screenshot: Shot,
) -> None:
    """Inside the widget, the shopper's own wallet signs (Freighter's API in the frame);
    the frame comes back to the embedded page, which tells the widget: onSuccess fires
    once with the session's ids and the shopper never leaves the shop."""
    shopper = client.test_helpers.wallets.create(name="my-wallet", external=True)
    context = browser.new_context(viewport={"width": 900, "height": 1000})
    browser_wallet.install(context, stellar_base, seed=shopper.secret_seed)
    page = context.new_page()
    watch_errors(page)
    try:
        frame = open_embedded(page, sandbox, session, shop)
        frame.get_by_role("button", name="Pay 40.25 USDC with your Stellar wallet").click()
        expect(page.get_by_role("status").first).to_have_text("Paid: order ord-1")
        done = client.checkout.sessions.retrieve(session.id)
        assert (done.status, done.customer) == ("complete", shopper.address)
        assert events(page) == [
            ["success", {"sessionId": session.id, "billId": done.bill, "orderId": "ord-1"}]
        ]
        expect(frame.get_by_text("Payment complete")).to_be_visible()
        assert page.url.startswith(shop[0])
        screenshot(page, "widget-own-wallet-paid")
        assert _errors(page) == []
    finally:
        context.close()


def test_one_line_embed_html_pays_and_goes_to_the_success_url(
    page: Page,
    client: LumenLater,
    sandbox: SandboxHandle,
    shop: tuple[str, Path],
    screenshot: Shot,
) -> None:
    """``embed_html`` in a template, no code of the merchant's own: the container mounts
    itself with the given appearance and, once paid, the shop's ``success_url`` opens
    (the ``lumenlater:success`` DOM event was not cancelled)."""
    from lumenlater_sdk.checkout import embed_html

    origin, folder = shop
    (folder / "thanks.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Thanks</title>'
        "</head><body><h1>Thank you</h1></body></html>",
        encoding="utf-8",
    )
    s = client.checkout.sessions.create(
        line_items=LINE_ITEMS,
        success_url=f"{origin}/thanks.html?session={{SESSION_ID}}",
        cancel_url=f"{origin}/cart.html",
        order_id="ord-2",
        embed_origins=[origin],
    )
    snippet = embed_html(s, sandbox.publishable_key, appearance={"accentColor": "#7a1f5c"})
    (folder / "one-line.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cart</title>'
        f"</head><body><h1>Your cart</h1>{snippet}</body></html>",
        encoding="utf-8",
    )
    page.goto(f"{origin}/one-line.html")
    frame = page.frame_locator("#lumenlater-checkout iframe")
    pay = frame.get_by_role("button", name="Confirm and pay 40.25 USDC")
    expect(pay).to_have_css("background-color", "rgb(122, 31, 92)")
    screenshot(page, "one-line-embed")
    pay.click()
    expect(page).to_have_url(f"{origin}/thanks.html?session={s.id}")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert client.checkout.sessions.retrieve(s.id).payment_status == "paid"
    assert _errors(page) == []
