"""The scripted purchase of ``lumenlater demo --scripted``, and the hosted-page form client.

Each step is printed with its result; the first failing step raises
:class:`DemoError` naming it, so the command can exit non-zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

from .._http import Browser, Page, open_browser

if TYPE_CHECKING:
    from ._demo import _Demo

__all__ = ["DemoError", "pay_hosted_page", "run_scripted"]

LATE_DAYS = 20
T = TypeVar("T")


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


class _Steps:
    """Numbered, printed steps; a failing step raises :class:`DemoError` with its name."""

    def __init__(self) -> None:
        self.number = 0

    def run(self, title: str, action: Callable[[], T], result: Callable[[T], str]) -> T:
        self.number += 1
        print(f"[{self.number}] {title} ...", flush=True)
        try:
            value = action()
        except DemoError as exc:
            raise DemoError(f"step {self.number} ({title}): {exc}") from exc
        except Exception as exc:
            raise DemoError(f"step {self.number} ({title}): {type(exc).__name__}: {exc}") from exc
        print(f"    ok: {result(value)}", flush=True)
        return value


def run_scripted(demo: _Demo) -> int:
    """Play one purchase end to end against a running demo; 0 when every step passed."""
    shop = demo.shop
    print(f"Sandbox {demo.sandbox_url}, shop {shop.url}, webhook endpoint {shop.endpoint_id}")
    steps = _Steps()
    ll = demo.client
    # One cookie jar for the shop and the hosted page, like a browser.
    browser = open_browser(timeout=30.0)
    try:
        steps.run(
            "add 2 x Stellar mug and 1 x Soroban T-shirt to the cart",
            lambda: _fill_cart(browser, shop.url),
            lambda total: f"cart total {total}",
        )
        pay_url = steps.run(
            "check out (the shop creates a checkout session and redirects)",
            lambda: _expect_redirect(browser.post(f"{shop.url}/checkout")),
            lambda url: f"redirected to the hosted page {url}",
        )
        session = steps.run(
            "look at the checkout session through the API",
            lambda: ll.checkout.sessions.retrieve(_session_id(pay_url)),
            lambda s: (
                f"{s.id}: order {s.order_id}, {len(s.line_items)} line items, "
                f"amount {_usdc(s.amount)}, status {s.status}"
            ),
        )
        order_id = session.order_id or ""
        success_url = steps.run(
            'pay on the hosted page with the "approve" test wallet',
            lambda: pay_hosted_page(browser, pay_url, wallet="approve"),
            lambda url: f"redirected back to {url}",
        )
        steps.run(
            "open the shop's success page (it confirms with confirm_return)",
            lambda: _expect_page(browser.get(success_url), "Thank you"),
            lambda _: "payment confirmed",
        )
        paid = steps.run(
            "wait for the webhook to mark the order paid",
            lambda: shop.wait_for_order(order_id, lambda o: o.status == "paid"),
            lambda o: f"order {o.id} is {o.status} (bill {o.bill_id})",
        )
        bill_id = paid.bill_id or ""
        steps.run(
            f"advance the sandbox ledger clock {LATE_DAYS} days",
            lambda: ll.test_helpers.clock.advance(seconds=LATE_DAYS * 86400),
            lambda clock: f"ledger time is now {_utc(clock.now)}",
        )
        steps.run(
            "wait for the webhook to mark the order overdue",
            lambda: shop.wait_for_order(order_id, lambda o: o.status == "overdue"),
            lambda o: f"order {o.id} is {o.status}",
        )
        # 30 % APR per whole day after the 14-day grace period (PROTOCOL.md).
        expected_fee = session.amount * 3_000_000 * (LATE_DAYS - 14) // 3_650_000_000
        bill = steps.run(
            "repay the bill as the customer",
            lambda: ll.test_helpers.bills.repay(bill_id),
            lambda b: f"{b.id} is {b.status}, late fee {_usdc(b.late_fee)}",
        )
        if bill.status != "repaid":
            raise DemoError(f"the bill is {bill.status} after repaying, not repaid")
        steps.run(
            "wait for the webhook to mark the order repaid with the late fee",
            lambda: _expect_fee(
                shop.wait_for_order(order_id, lambda o: o.status == "repaid"), expected_fee
            ),
            lambda o: f"order {o.id} is {o.status}, late fee {_usdc(o.late_fee)} (as expected)",
        )
        steps.run(
            "check the shop's orders page",
            lambda: _expect_page(
                browser.get(f"{shop.url}/orders"),
                f'id="order-{order_id}" data-status="repaid"',
            ),
            lambda _: f"order {order_id} is listed as repaid",
        )
    finally:
        browser.close()
    print("\nThe scripted purchase completed: every step passed.", flush=True)
    return 0


def _fill_cart(browser: Browser, shop_url: str) -> str:
    _expect_page(browser.get(f"{shop_url}/"), "Stellar mug")
    for sku, quantity in (("mug", 2), ("tee", 1)):
        r = browser.post(f"{shop_url}/cart/add", data={"sku": sku, "quantity": str(quantity)})
        _expect_redirect(r)
    html = _expect_page(browser.get(f"{shop_url}/cart"), 'id="cart-total"')
    return _between(html, 'id="cart-total">', "<")


def _expect_redirect(response: Page) -> str:
    if response.status_code not in (302, 303) or "location" not in response.headers:
        raise DemoError(f"expected a redirect from {response.url}, got {response.status_code}")
    return urljoin(str(response.url), response.headers["location"])


def _expect_page(response: Page, needle: str) -> str:
    if response.status_code != 200:
        raise DemoError(f"{response.url} answered {response.status_code}")
    if needle not in response.text:
        raise DemoError(f"{response.url} does not show {needle!r}")
    return response.text


def _session_id(pay_url: str) -> str:
    last = urlsplit(pay_url).path.rstrip("/").rsplit("/", 1)[-1]
    if not last.startswith("cs_"):
        raise DemoError(f"{pay_url} is not a hosted checkout page")
    return last


def pay_hosted_page(browser: Browser, pay_url: str, *, wallet: str) -> str:
    """Pay on the hosted page at *pay_url* like a browser without JavaScript would.

    Submits the page's form with the test *wallet* (name or id) chosen and returns the
    ``success_url`` LumenLater redirects to; raises :class:`DemoError` otherwise.
    """
    page = browser.get(pay_url)
    if page.status_code != 200:
        raise DemoError(f"the hosted page answered {page.status_code}")
    form = _HostedForm.parse(page.text)
    data = form.submission(wallet)
    response = browser.post(urljoin(pay_url, form.action or pay_url), data=data)
    if response.status_code != 303:
        raise DemoError(
            f"confirming answered {response.status_code} instead of redirecting: "
            f"{_text_excerpt(response.text)}"
        )
    return urljoin(str(response.url), response.headers["location"])


def _utc(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _usdc(stroops: int) -> str:
    whole, frac = divmod(stroops, 10_000_000)
    return f"{whole}.{f'{frac:07d}'.rstrip('0').ljust(2, '0')} USDC"


def _expect_fee(order: Any, expected: int) -> Any:
    if order.late_fee != expected:
        raise DemoError(
            f"order {order.id} shows a late fee of {order.late_fee} stroops, expected {expected}"
        )
    return order


def _between(text: str, start: str, end: str) -> str:
    i = text.find(start)
    if i < 0:
        return "?"
    i += len(start)
    return text[i : text.find(end, i)].strip()


def _text_excerpt(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())[:300]


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


@dataclass
class _Input:
    type: str
    name: str
    value: str
    id: str
    checked: bool
    label: str = ""


class _HostedForm(HTMLParser):
    """The payment form of the hosted page, read the way a browser would submit it."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: list[_Input] = []
        self._in_form = False
        self._done = False
        self._label_for: dict[str, str] = {}
        self._label: tuple[str | None, list[str], list[_Input]] | None = None

    @classmethod
    def parse(cls, html: str) -> _HostedForm:
        form = cls()
        form.feed(html)
        form.close()
        if not form.inputs:
            raise DemoError("the hosted page has no payment form")
        for field in form.inputs:
            field.label = field.label or form._label_for.get(field.id, "")
        return form

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and a.get("method", "get").lower() == "post":
            self._in_form = True
            self.action = a.get("action") or None
        elif tag in ("input", "button") and self._in_form:
            kind = a.get("type", "submit" if tag == "button" else "text").lower()
            field = _Input(
                kind, a.get("name", ""), a.get("value", ""), a.get("id", ""), "checked" in a
            )
            self.inputs.append(field)
            if self._label is not None:
                self._label[2].append(field)
        elif tag == "label":
            self._label = (a.get("for"), [], [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True
        elif tag == "label" and self._label is not None:
            target, text, inside = self._label
            label = " ".join("".join(text).split())
            if target:
                self._label_for[target] = label
            for field in inside:
                field.label = label
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label[1].append(data)

    def submission(self, wallet: str) -> dict[str, str]:
        """The form fields with the radio button for *wallet* chosen."""
        radios = [f for f in self.inputs if f.type == "radio" and f.name]
        chosen = next((f for f in radios if f.value == wallet), None) or next(
            (f for f in radios if wallet in f.label.lower().split()), None
        )
        if chosen is None:
            offered = ", ".join(f"{f.value} ({f.label})" for f in radios) or "none"
            raise DemoError(f"the hosted page offers no {wallet!r} wallet (offered: {offered})")
        data: dict[str, str] = {}
        for f in self.inputs:
            if not f.name or f.type in ("submit", "button", "image", "reset"):
                continue
            if f.type in ("radio", "checkbox") and not f.checked:
                continue
            data[f.name] = f.value
        data[chosen.name] = chosen.value
        submit = next((f for f in self.inputs if f.type == "submit" and f.name), None)
        if submit is not None:
            data[submit.name] = submit.value
        return data
