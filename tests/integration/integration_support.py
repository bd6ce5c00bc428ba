"""Helpers shared by the integration tests (a module, not a conftest, so tests import it)."""

from __future__ import annotations

import re
from functools import cached_property
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import httpx
from stellar_sdk import Keypair, TransactionEnvelope

from lumenlater_sdk import APIError, AsyncLumenLater, LumenLater
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import CheckoutSession, Wallet

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

# PROTOCOL.md constants (kept here so a test states the arithmetic it expects).
DAY = 86_400
MERCHANT_FEE_RATE = 150_000
LATE_INTEREST_APR = 3_000_000
SCALE = 10_000_000


def wallet(client: LumenLater, name: str) -> Wallet:
    """The sandbox wallet called *name* (``approve``, ``decline``, ``limited``, ...)."""
    for w in client.test_helpers.wallets.list():
        if w.name == name:
            return w
    raise AssertionError(f"no sandbox wallet named {name!r}")


def watch_errors(page: Page) -> list[str]:
    """Collect *page*'s console errors (with where they came from) and uncaught exceptions
    into the returned list, also set as ``page.errors``. Chromium's own
    ``/favicon.ico`` probe is left out: no page here has an icon."""
    errors: list[str] = []

    def console(msg: ConsoleMessage) -> None:
        where = msg.location.get("url", "")
        if msg.type == "error" and not where.endswith("/favicon.ico"):
            errors.append(f"{msg.text} ({where})")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.errors = errors  # type: ignore[attr-defined]
    return errors


class SelfCustodyShop:
    """A self-custody merchant on *sb*: its API key and its own Stellar key (``key``),
    which the backend never holds; ``customer`` is the ``approve`` wallet's address."""

    def __init__(self, sb: SandboxHandle, business_name: str = "Self Shop") -> None:
        self.sb = sb
        self.key = Keypair.random()
        self.secret_key = sb.create_self_custody_merchant(self.key, business_name).secret_key

    @cached_property
    def customer(self) -> str:
        with self.client() as plain:
            return wallet(plain, "approve").address

    def client(self, **kw: Any) -> LumenLater:
        return LumenLater(api_key=self.secret_key, base_url=self.sb.base_url, max_retries=0, **kw)

    def aclient(self, **kw: Any) -> AsyncLumenLater:
        return AsyncLumenLater(
            api_key=self.secret_key, base_url=self.sb.base_url, max_retries=0, **kw
        )


def assert_api_error(err: APIError, status: int, type_: str, code: str | None = None) -> None:
    """The error carries the wire error object's fields (DESIGN §2)."""
    assert err.status_code == status, (err.status_code, err.body)
    assert err.type == type_, (err.type, err.body)
    if code is not None:
        assert err.code == code, (err.code, err.body)
    assert isinstance(err.request_id, str) and err.request_id.startswith("req_"), err.request_id
    # Both places DESIGN §2 puts it: the Request-Id header and error.request_id in the body.
    headers = {k.lower(): v for k, v in err.headers.items()}
    assert headers.get("request-id") == err.request_id, headers
    assert isinstance(err.body, dict), err.body
    assert err.body["error"]["request_id"] == err.request_id, err.body


class RequestCounter:
    """An ``httpx`` event hook that counts requests actually sent."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, request: httpx.Request) -> None:
        self.count += 1

    async def async_hook(self, request: httpx.Request) -> None:
        self.count += 1


class FormParser(HTMLParser):
    """The first ``<form>`` of a page: its action, hidden fields and radio choices."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method: str | None = None
        self.hidden: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and self.action is None:
            self._in_form = True
            self.action = a.get("action", "")
            self.method = a.get("method", "get").lower()
        elif tag == "input" and self._in_form:
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                self.hidden[a["name"]] = a.get("value", "")
            elif kind == "radio":
                self.radios.setdefault(a["name"], []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True


def parse_form(html: str) -> FormParser:
    """Parse the first form of *html*; fails the test if there is none."""
    p = FormParser()
    p.feed(html)
    assert p.action is not None, "the page has no <form>"
    return p


def external_wallet(client: LumenLater, name: str = "mine") -> tuple[Wallet, Keypair]:
    """A sandbox wallet marked external (funded; its seed shown once) and its key."""
    w = client.test_helpers.wallets.create(name=name, external=True)
    assert w.external is True and w.secret_seed is not None
    kp = Keypair.from_secret(w.secret_seed)
    assert kp.public_key == w.address
    return w, kp


class HostedPage:
    """The hosted page of one session, as its scripts talk to the backend: paying
    (``prepare`` / ``submit``) and repaying (``repay_prepare`` / ``repay_submit``)."""

    def __init__(self, sb: SandboxHandle, session: CheckoutSession) -> None:
        self.http = httpx.Client(base_url=sb.base_url)
        self.id = session.id
        shown = self.http.get(f"/pay/{session.id}")
        assert shown.status_code == 200, shown.text
        self.html = shown.text
        # The sandbox wallets' form carries it; without that form, the page's script.
        found = parse_form(shown.text).hidden.get("token") if "<form" in shown.text else None
        if found is None:
            match = re.search(r'"token": "([^"]+)"', shown.text)
            assert match is not None, shown.text
            found = match.group(1)
        self.token = found

    def prepare(self, address: str, **extra: Any) -> httpx.Response:
        body = {"token": self.token, "address": address, **extra}
        return self.http.post(f"/pay/{self.id}/prepare", json=body)

    def submit(self, signed_xdr: str, token: str | None = None) -> httpx.Response:
        body = {"token": self.token if token is None else token, "signed_xdr": signed_xdr}
        return self.http.post(f"/pay/{self.id}/submit", json=body)

    def repay_prepare(self, address: str) -> httpx.Response:
        body = {"token": self.token, "address": address}
        return self.http.post(f"/pay/{self.id}/repay/prepare", json=body)

    def repay_submit(self, signed_xdr: str) -> httpx.Response:
        body = {"token": self.token, "signed_xdr": signed_xdr}
        return self.http.post(f"/pay/{self.id}/repay/submit", json=body)

    def show(self) -> str:
        shown = self.http.get(f"/pay/{self.id}")
        assert shown.status_code == 200, shown.text
        return shown.text


def sign_envelope(prepared: dict[str, Any], *signers: Keypair) -> str:
    """Sign a prepared transaction as a browser wallet would (``signTransaction``)."""
    env = TransactionEnvelope.from_xdr(prepared["xdr"], prepared["network_passphrase"])
    for kp in signers:
        env.sign(kp)
    return env.to_xdr()


def assert_refused(answer: httpx.Response, status: int, code: str) -> None:
    """*answer* is the page script's JSON refusal *code* with HTTP *status*."""
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
