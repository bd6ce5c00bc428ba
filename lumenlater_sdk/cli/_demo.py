"""``lumenlater demo``: the sandbox and the example Flask shop on loopback, wired together.

Without options it runs until Ctrl-C so you can shop in a browser. ``--scripted``
plays one purchase end to end without a browser (checkout, paying on the hosted
page with the ``approve`` wallet, the webhook, 20 days on the ledger clock,
repayment with a late fee) and exits non-zero if any step fails.

The shop is ``examples/flask_shop`` of the source checkout this package was
installed from (``pip install -e .``); it is loaded from there by path, because
it is an example to read and copy rather than part of the installed package.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urljoin, urlsplit

import httpx

from .._client import LumenLater
from ..backend.testing import run_sandbox
from ..errors import LumenLaterError

__all__ = ["DemoError", "pay_hosted_page", "register"]

SHOP_MODULE = "examples.flask_shop"
LATE_DAYS = 20
WAIT_SECONDS = 60.0
_ADVANCE_20_DAYS = (
    "import lumenlater_sdk as l; l.LumenLater().test_helpers.clock.advance(seconds=20*86400)"
)
T = TypeVar("T")


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


class _RunningShop(Protocol):
    """What the demo uses of ``examples.flask_shop.serving.RunningShop``."""

    url: str
    endpoint_id: str

    def wait_for_order(
        self, order_id: str, done: Callable[[Any], bool], *, timeout: float = ...
    ) -> Any: ...


class _Serving(Protocol):
    """What the demo uses of ``examples.flask_shop.serving``."""

    def serve(
        self, *, api_key: str, base_url: str, db_path: str | Path, host: str = ..., port: int = ...
    ) -> AbstractContextManager[_RunningShop]: ...


# --- command line ----------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add ``lumenlater demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run the sandbox and the example Flask shop together",
        description=(
            "Start the sandbox backend (fresh SQLite database) and the example Flask shop "
            "on 127.0.0.1, register the shop's webhook endpoint, and print what to do. "
            "With --scripted, run one purchase end to end and exit."
        ),
    )
    parser.add_argument(
        "--scripted",
        action="store_true",
        help="run a full purchase without a browser and exit (non-zero on failure)",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="shop port (default 5000; any free one if scripted)"
    )
    parser.add_argument(
        "--sandbox-port",
        type=int,
        default=None,
        help="sandbox port (default 8787; any free one if scripted)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; the exit code of the command."""
    # A scripted run must not collide with a sandbox or shop the user already runs.
    shop_port = args.port if args.port is not None else (0 if args.scripted else 5000)
    sandbox_port = args.sandbox_port
    if sandbox_port is None:
        sandbox_port = 0 if args.scripted else 8787
    if args.scripted:
        # The steps are the story; the shop's access log would drown them.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        with _Demo.start(shop_port=shop_port, sandbox_port=sandbox_port) as demo:
            if args.scripted:
                return _scripted(demo)
            demo.explain()
            _wait_for_ctrl_c()
            print("\nStopping.")
            return 0
    except DemoError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr, flush=True)
        return 1


def _wait_for_ctrl_c() -> None:
    stop = threading.Event()
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass


# --- the running demo --------------------------------------------------------------


@dataclass
class _Demo:
    """The sandbox and the shop, both running, and what links them."""

    sandbox_url: str
    secret_key: str
    publishable_key: str
    shop: _RunningShop
    client: LumenLater

    @classmethod
    @contextmanager
    def start(cls, *, shop_port: int, sandbox_port: int) -> Iterator[_Demo]:
        serving = _load_shop()
        with ExitStack() as stack:
            data_dir = Path(tempfile.mkdtemp(prefix="lumenlater-demo-"))
            stack.callback(shutil.rmtree, data_dir, True)
            try:
                sandbox = stack.enter_context(
                    run_sandbox(
                        f"sqlite:///{data_dir / 'sandbox.db'}",
                        webhook_url=None,  # the shop registers its own endpoint below
                        business_name="Lumen Goods",
                        port=sandbox_port,
                    )
                )
            except RuntimeError as exc:
                raise DemoError(
                    f"the sandbox did not start on 127.0.0.1:{sandbox_port} ({exc}); "
                    "is the port taken? try --sandbox-port"
                ) from exc
            client = stack.enter_context(
                LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url)
            )
            try:
                shop = stack.enter_context(
                    serving.serve(
                        api_key=sandbox.secret_key,
                        base_url=sandbox.base_url,
                        db_path=data_dir / "shop.db",
                        port=shop_port,
                    )
                )
            except OSError as exc:
                raise DemoError(
                    f"cannot serve the shop on 127.0.0.1:{shop_port} ({exc.strerror}); try --port"
                ) from exc
            except LumenLaterError as exc:
                raise DemoError(f"registering the shop's webhook endpoint failed: {exc}") from exc
            yield cls(
                sandbox_url=sandbox.base_url,
                secret_key=sandbox.secret_key,
                publishable_key=sandbox.publishable_key,
                shop=shop,
                client=client,
            )

    def explain(self) -> None:
        """Print where everything runs and what to try."""
        env = f"LUMENLATER_API_KEY={self.secret_key} LUMENLATER_BASE_URL={self.sandbox_url}"
        shop = self.shop.url
        print(
            f"""
LumenLater demo is running (a fresh sandbox; everything is deleted when you stop it).

  Shop             {shop}/
  Sandbox API      {self.sandbox_url}
  Secret key       {self.secret_key}
  Publishable key  {self.publishable_key}
  Webhook endpoint {self.shop.endpoint_id} -> {shop}/webhooks/lumenlater

Try it:
  1. Open {shop}/ and add something to your cart.
  2. Check out: LumenLater's hosted page opens. Choose the "approve" test wallet
     ("decline" and "limited" show refusals) and confirm.
  3. You land on the shop's thank-you page; {shop}/orders shows the order
     paid as soon as the webhook arrives.
  4. Move the ledger clock 20 days and watch the order go overdue:
       {env} \\
         python -c "{_ADVANCE_20_DAYS}"

Press Ctrl-C to stop.""",
            flush=True,
        )


def _checkout_root() -> Path:
    # lumenlater_sdk/cli/_demo.py -> the checkout the package is installed from.
    return Path(__file__).resolve().parents[2]


def _load_shop() -> _Serving:
    """Import ``examples.flask_shop.serving`` from the source checkout."""
    if SHOP_MODULE not in sys.modules:
        _import_by_path()
    return cast(_Serving, importlib.import_module(f"{SHOP_MODULE}.serving"))


def _import_by_path() -> None:
    package_dir = _checkout_root() / "examples" / "flask_shop"
    init = package_dir / "__init__.py"
    if not init.is_file():
        raise DemoError(
            f"the example shop is not at {package_dir}; `lumenlater demo` runs from a source "
            "checkout installed with `pip install -e '.[backend,examples]'`"
        )
    # By path, so an unrelated installed package called `examples` cannot shadow it.
    spec = importlib.util.spec_from_file_location(
        SHOP_MODULE, init, submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[SHOP_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[SHOP_MODULE]
        raise


# --- the scripted purchase -----------------------------------------------------------


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


def _scripted(demo: _Demo) -> int:
    shop = demo.shop
    print(f"Sandbox {demo.sandbox_url}, shop {shop.url}, webhook endpoint {shop.endpoint_id}")
    steps = _Steps()
    ll = demo.client
    # One cookie jar for the shop and the hosted page, like a browser.
    with httpx.Client(timeout=30.0, follow_redirects=False) as browser:
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
    print("\nThe scripted purchase completed: every step passed.", flush=True)
    return 0


def _fill_cart(browser: httpx.Client, shop_url: str) -> str:
    _expect_page(browser.get(f"{shop_url}/"), "Stellar mug")
    for sku, quantity in (("mug", 2), ("tee", 1)):
        r = browser.post(f"{shop_url}/cart/add", data={"sku": sku, "quantity": str(quantity)})
        _expect_redirect(r)
    html = _expect_page(browser.get(f"{shop_url}/cart"), 'id="cart-total"')
    return _between(html, 'id="cart-total">', "<")


def _expect_redirect(response: httpx.Response) -> str:
    if response.status_code not in (302, 303) or "location" not in response.headers:
        raise DemoError(f"expected a redirect from {response.url}, got {response.status_code}")
    return urljoin(str(response.url), response.headers["location"])


def _expect_page(response: httpx.Response, needle: str) -> str:
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


def pay_hosted_page(browser: httpx.Client, pay_url: str, *, wallet: str) -> str:
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
