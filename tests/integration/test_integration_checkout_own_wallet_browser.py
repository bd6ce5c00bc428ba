"""The shopper's own wallet signs the payment on the hosted page, in headless Chromium.

The page finds a wallet as ``window.freighterApi`` (Freighter's API shape). Here that is
a test wallet installed before the page loads (``add_init_script``): ``getAddress()``
and ``signTransaction(xdr, {networkPassphrase})``, which parses the envelope and signs
it with ``@stellar/stellar-base`` (npm, ``tests/integration/js``; its browser bundle is
loaded into the page), with the secret seed of a sandbox wallet marked external. The
backend submits what it signed and completes the session from the chain's ``payment``
event. Screenshots: the wallet choice, signing in progress, complete, and refusals (no
wallet, the shopper declines, a signature by another account).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import browser_wallet
import pytest
from browser_wallet import configure
from integration_support import watch_errors
from playwright.sync_api import Browser, Page, Route, expect
from stellar_sdk import Keypair

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.backend.web.pay import SHOPPER_WORDS
from lumenlater_sdk.types import CheckoutSession, Wallet

Shot = Callable[[Page, str], Path]
PAY = "Pay 40.25 USDC with your Stellar wallet"


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[LumenLater]:
    with LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as c:
        yield c


@pytest.fixture
def session(client: LumenLater) -> CheckoutSession:
    return client.checkout.sessions.create(
        line_items=[
            {"name": "Green tea", "quantity": 2, "unit_amount": usdc(5)},
            {"name": "Teapot", "quantity": 1, "unit_amount": usdc("30.25")},
        ],
        success_url="https://shop.test/thanks?session={SESSION_ID}",
        cancel_url="https://shop.test/cart",
        order_id="ord-own-1",
    )


@pytest.fixture
def shopper(client: LumenLater) -> Wallet:
    w = client.test_helpers.wallets.create(name="my-wallet", external=True)
    assert w.secret_seed is not None
    return w


def _shop(route: Route) -> None:
    route.fulfill(
        status=200,
        content_type="text/html",
        body="<!doctype html><title>Shop</title><h1>Thank you for your order</h1>",
    )


@pytest.fixture
def page(browser: Browser, shopper: Wallet, stellar_base: Path) -> Iterator[Page]:
    """A page with the test wallet installed (not yet holding its signature) and the
    shop's return page served; console errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": 900, "height": 900})
    browser_wallet.install(context, stellar_base, seed=shopper.secret_seed, hold=True)
    context.route("https://shop.test/**", _shop)
    p = context.new_page()
    watch_errors(p)
    try:
        yield p
    finally:
        context.close()


def test_the_shoppers_wallet_signs_and_pays(
    page: Page,
    session: CheckoutSession,
    shopper: Wallet,
    client: LumenLater,
    screenshot: Shot,
) -> None:
    assert page.goto(session.url) is not None
    section = page.get_by_role("region", name="Pay with your Stellar wallet")
    expect(section).to_be_visible()
    pay = section.get_by_role("button", name=PAY)
    expect(pay).to_be_enabled()
    # The sandbox-held wallets stay on offer; the external one is not among them.
    expect(page.get_by_role("button", name="Confirm and pay 40.25 USDC")).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("my-wallet"))).to_have_count(0)
    screenshot(page, "wallet-choice")

    pay.click()
    status = section.get_by_role("status")
    expect(status).to_have_text("Confirm the payment in your wallet…")
    expect(pay).to_be_disabled()
    # The wallet was handed the prepared envelope; the session is not paid before it signs.
    assert page.evaluate("window.__testWallet.asked") == 1
    assert client.checkout.sessions.retrieve(session.id).payment_status == "unpaid"
    screenshot(page, "signing")

    page.evaluate("window.__testWallet.approve()")
    expect(status).to_have_text("Payment complete. Returning to the shop…")
    screenshot(page, "signed-complete")
    expect(page).to_have_url(f"https://shop.test/thanks?session={session.id}")
    assert page.evaluate("window.__testWallet.signed") == 0  # a new document: the shop's

    done = client.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.customer) == (
        "complete",
        "paid",
        shopper.address,
    )
    assert done.bill is not None and client.bills.retrieve(done.bill).status == "paid"
    page.goto(session.url)
    expect(page.get_by_role("status")).to_contain_text("Payment complete")
    screenshot(page, "page-after")
    assert page.errors == []  # type: ignore[attr-defined]


def test_no_wallet_a_declined_signature_and_another_accounts_signature(
    page: Page,
    session: CheckoutSession,
    shopper: Wallet,
    client: LumenLater,
    screenshot: Shot,
) -> None:
    page.goto(session.url)
    section = page.get_by_role("region", name="Pay with your Stellar wallet")
    pay = section.get_by_role("button", name=PAY)
    alert = section.get_by_role("alert")

    # No wallet in this browser.
    page.evaluate("() => { window.__saved = window.freighterApi; delete window.freighterApi }")
    pay.click()
    expect(alert).to_contain_text("No Stellar wallet was found in this browser")
    expect(pay).to_be_enabled()
    screenshot(page, "no-wallet")
    page.evaluate("() => { window.freighterApi = window.__saved }")

    # The shopper declines in the wallet.
    configure(page, decline=True, hold=False)
    pay.click()
    expect(alert).to_contain_text("Your wallet did not sign the payment")
    expect(pay).to_be_enabled()
    screenshot(page, "declined")

    # The wallet signs with another account than the one it said: the chain refuses it.
    configure(page, decline=False, signWith=Keypair.random().secret)
    pay.click()
    expect(alert).to_have_text(SHOPPER_WORDS["invalid_signature"])
    expect(alert).to_have_attribute("data-code", "invalid_signature")
    # The choice is kept and there is a way back: the same button, the shop's cancel link.
    expect(pay).to_be_enabled()
    expect(page.get_by_role("link", name="Cancel and return to the shop")).to_be_visible()
    screenshot(page, "refused")
    assert client.checkout.sessions.retrieve(session.id).status == "open"

    # Then the right signature pays.
    configure(page, signWith=None)
    pay.click()
    expect(page).to_have_url(f"https://shop.test/thanks?session={session.id}")
    assert client.checkout.sessions.retrieve(session.id).status == "complete"
    # The refusal's HTTP 402 is logged by Chromium for the fetch.
    errors = page.errors  # type: ignore[attr-defined]
    assert [e for e in errors if "status of 402" not in e] == []


def test_the_shopper_repays_from_their_own_wallet(
    page: Page,
    session: CheckoutSession,
    shopper: Wallet,
    client: LumenLater,
    screenshot: Shot,
) -> None:
    """After paying, the session's page shows the loan and its terms; "Repay" has the
    wallet sign the USDC approval and then the repayment, and the page shows it repaid."""
    page.goto(session.url)
    configure(page, hold=False)
    page.get_by_role("button", name=PAY).click()
    expect(page).to_have_url(f"https://shop.test/thanks?session={session.id}")

    page.goto(session.url)
    loan = page.get_by_role("region", name="Your loan")
    expect(loan).to_contain_text("Owed now40.25 USDC")
    expect(loan).to_contain_text("Interest-free until")
    expect(loan).to_contain_text("30 % a year, charged per day")
    repay = loan.get_by_role("button", name="Repay 40.25 USDC from your Stellar wallet")
    screenshot(page, "loan-open")

    repay.click()
    status = loan.get_by_role("status")
    expect(status).to_have_text("Step 1 of 2: allow the repayment in your wallet…")
    screenshot(page, "repay-approve")
    page.evaluate("window.__testWallet.approve()")
    expect(status).to_have_text("Confirm the repayment in your wallet…")
    bill_id = client.checkout.sessions.retrieve(session.id).bill
    assert bill_id is not None and client.bills.retrieve(bill_id).status == "paid"
    page.evaluate("window.__testWallet.approve()")
    expect(page.get_by_role("region", name="Your loan")).to_contain_text("Repaid on")
    expect(page.get_by_role("button", name=re.compile("^Repay"))).to_have_count(0)
    screenshot(page, "loan-repaid")
    assert client.bills.retrieve(bill_id).status == "repaid"
    assert page.evaluate("window.__testWallet.functions") == []  # a new document
    assert page.errors == []  # type: ignore[attr-defined]
