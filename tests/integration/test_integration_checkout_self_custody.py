"""Checkout for self-custody merchants (issue 11 part 3), over every gateway ``sb`` runs.

(a) Customer known: ``checkout.sessions.create(..., customer=G…)`` makes the session and
its bill at once, and the SDK authorizes the bill with the merchant's own key within
``create``; the hosted page goes straight to payment.
(b) Customer unknown: the hosted page asks the shopper to connect a wallet
(``POST /pay/{id}/connect``), the backend makes the bill in ``requires_authorization`` and
emits ``checkout.session.authorization_required``; the merchant's webhook handler (a real
:class:`~lumenlater_sdk.webhooks.WebhookApp` served on loopback, receiving real signed
deliveries) calls ``authorize_pending``; the page, polling ``GET /pay/{id}/state``, goes
on to payment. The page is driven over HTTP like a browser without JavaScript.
Managed merchants keep the one-step page.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin

import anyio
import httpx
import pytest
from integration_support import SelfCustodyShop, parse_form, wallet

from lumenlater_sdk import AsyncLumenLater, AuthorizationRequiredError, LumenLater, usdc
from lumenlater_sdk._ports import free_port
from lumenlater_sdk._serving import ThreadedServer
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.checkout import (
    SessionNotAwaitingAuthorizationError,
    authorize_pending,
    confirm_return,
)
from lumenlater_sdk.types import CheckoutSession
from lumenlater_sdk.webhooks import (
    EVENT_TYPES,
    CheckoutSessionAuthorizationRequiredEvent,
    InMemoryEventStore,
    WebhookApp,
)

T = TypeVar("T")
EVENT = "checkout.session.authorization_required"
LINE_ITEMS = [
    {"name": "Green tea", "quantity": 2, "unit_amount": usdc(5)},
    {"name": "Teapot", "quantity": 1, "unit_amount": usdc("30.25")},
]
TOTAL = 2 * usdc(5) + usdc("30.25")
THANKS = "https://shop.test/thanks?session={SESSION_ID}"


Shop = SelfCustodyShop


@pytest.fixture
def shop(sb: SandboxHandle) -> Shop:
    return Shop(sb, "Own Keys Shop")


def create(client: LumenLater, **extra: Any) -> CheckoutSession:
    return client.checkout.sessions.create(
        line_items=LINE_ITEMS,
        success_url=THANKS,
        cancel_url="https://shop.test/cart",
        order_id="ord-self-1",
        **extra,
    )


def page_state(base_url: str, session_id: str) -> dict[str, Any]:
    r = httpx.get(f"{base_url}/pay/{session_id}/state")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
    state: dict[str, Any] = r.json()
    assert state["object"] == "checkout.page_state" and state["session"] == session_id
    return state


def submit(base_url: str, session: CheckoutSession, **fields: str) -> httpx.Response:
    """Open the hosted page and submit its (first) form with *fields*."""
    with httpx.Client(base_url=base_url) as browser:
        page = browser.get(session.url)
        assert page.status_code == 200, page.text
        form = parse_form(page.text)
        assert form.method == "post"
        return browser.post(
            urljoin(str(page.url), form.action or ""), data={**form.hidden, **fields}
        )


def wait_for(what: str, probe: Callable[[], T | None], within: float = 30.0) -> T:
    deadline = time.monotonic() + within
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def assert_on_chain(shop: Shop, client: LumenLater, bill_id: str, customer: str) -> None:
    bill = client.bills.retrieve(bill_id)
    assert (bill.status, bill.authorization, bill.customer) == ("created", None, customer)
    assert (bill.amount, bill.order_id, bill.merchant) == (TOTAL, "ord-self-1", shop.key.public_key)
    assert bill.chain is not None
    got = shop.sb.backend.gateway.read("bnpl_core", "get_bill", [bill.chain.bill_number])
    assert (got["merchant"], got["user"], got["principal"]) == (
        shop.key.public_key,
        customer,
        TOTAL,
    )


# --- (a) customer known ---------------------------------------------------------------------


def test_known_customer_the_sdk_authorizes_within_create_and_the_page_goes_to_payment(
    shop: Shop,
) -> None:
    with shop.client(stellar_signer=shop.key) as ll:
        approve = wallet(ll, "approve")
        s = create(ll, customer=approve.address)
        assert (s.status, s.payment_status, s.customer) == ("open", "unpaid", approve.address)
        assert s.bill is not None and s.authorization is None
        assert_on_chain(shop, ll, s.bill, approve.address)
        assert page_state(ll.base_url, s.id)["step"] == "pay_bill"

        with httpx.Client() as browser:
            page = browser.get(s.url)
        form = parse_form(page.text)
        assert form.action == f"/pay/{s.id}" and form.radios == {}  # no wallet to choose
        assert "Confirm and pay 40.25 USDC" in page.text and "approve" in page.text

        r = submit(ll.base_url, s)
        assert r.status_code == 303, r.text
        assert r.headers["location"] == f"https://shop.test/thanks?session={s.id}"
        done = confirm_return(ll, s.id)
        assert (done.status, done.bill, done.customer) == ("complete", s.bill, approve.address)
        assert page_state(ll.base_url, s.id)["step"] == "complete"
        assert [e.type for e in ll.events.list()] == [
            "checkout.session.completed",
            "bill.paid",
            "bill.created",
        ]


def test_known_customer_without_a_signer_then_the_same_key_completes_the_same_session(
    shop: Shop,
) -> None:
    key = f"checkout-{uuid.uuid4()}"
    with shop.client() as plain:
        approve = wallet(plain, "approve")
        with pytest.raises(AuthorizationRequiredError, match="stellar_signer") as err:
            create(plain, customer=approve.address, idempotency_key=key)
        pending, bill = err.value.session, err.value.bill
        assert pending is not None and bill is not None and pending.bill == bill.id
        assert "authorize_pending" in str(err.value)
        assert bill.status == "requires_authorization"
        auth = pending.authorization
        assert auth is not None and auth == bill.authorization
        assert (auth.function, auth.address) == ("create_bill", shop.key.public_key)
        # The shopper who opens the page meanwhile waits (no form to pay with yet).
        assert page_state(plain.base_url, pending.id)["step"] == "awaiting_authorization"
        waiting = httpx.get(pending.url)
        assert waiting.status_code == 200 and "Waiting for Own Keys Shop" in waiting.text
        assert "<form" not in waiting.text

    with shop.client(stellar_signer=shop.key) as ll:
        again = create(ll, customer=approve.address, idempotency_key=key)
        assert (again.id, again.bill, again.authorization) == (pending.id, bill.id, None)
        assert_on_chain(shop, ll, bill.id, approve.address)
        assert page_state(ll.base_url, pending.id)["step"] == "pay_bill"
        # A redelivered event after the fact: nothing to do, the session as it is.
        assert authorize_pending(ll, pending) == ll.checkout.sessions.retrieve(pending.id)
        assert len(list(ll.checkout.sessions.list())) == 1 and len(list(ll.bills.list())) == 1
        assert [e.type for e in ll.events.list()] == ["bill.created"]


async def test_known_customer_async(shop: Shop) -> None:
    def kms(payload: bytes) -> bytes:
        return bytes(shop.key.sign(payload))

    async with shop.aclient(stellar_signer=kms) as ll:
        approve = await ll.test_helpers.wallets.retrieve("approve")
        s = await ll.checkout.sessions.create(
            amount=TOTAL,
            success_url=THANKS,
            cancel_url="https://shop.test/cart",
            order_id="ord-self-1",
            customer=approve.address,
        )
        assert s.bill is not None and s.authorization is None
        bill = await ll.bills.retrieve(s.bill)
        assert bill.status == "created" and bill.chain is not None
        assert await authorize_pending(ll, s.id) == await ll.checkout.sessions.retrieve(s.id)


# --- (b) customer unknown ---------------------------------------------------------------------


@dataclass
class MerchantServer:
    """The merchant's webhook receiver: a WebhookApp whose handler authorizes the bill."""

    url: str
    release: threading.Event = field(default_factory=threading.Event)
    received: list[CheckoutSessionAuthorizationRequiredEvent] = field(default_factory=list)
    answered: list[CheckoutSession] = field(default_factory=list)


@pytest.fixture
def merchant_server(shop: Shop) -> Iterator[MerchantServer]:
    endpoint = shop.sb.create_webhook_endpoint(
        "http://127.0.0.1:1/replaced", [EVENT], merchant_id=shop.key.public_key
    )
    port = free_port()
    hooks = WebhookApp(secret=endpoint["secret"], store=InMemoryEventStore())
    server = MerchantServer(url=f"http://127.0.0.1:{port}/hooks")
    signing = shop.client(stellar_signer=shop.key)

    @hooks.on(EVENT)
    def authorization_required(event: CheckoutSessionAuthorizationRequiredEvent) -> None:
        server.received.append(event)
        server.release.wait(8)  # the test looks at the waiting state first
        server.answered.append(authorize_pending(signing, event))

    running = ThreadedServer(hooks, port, name="merchant hooks", access_log=False).start()
    with shop.client() as plain:
        plain.webhook_endpoints.update(endpoint["id"], url=server.url)
    try:
        yield server
    finally:
        server.release.set()
        running.stop()
        signing.close()


def test_unknown_customer_connects_the_merchant_authorizes_from_its_webhook_and_the_page_pays(
    shop: Shop, merchant_server: MerchantServer
) -> None:
    assert EVENT in EVENT_TYPES
    with shop.client() as plain:  # the merchant's checkout code needs no signer here
        approve = wallet(plain, "approve")
        s = create(plain)
        assert (s.bill, s.customer, s.authorization) == (None, None, None)
        base = plain.base_url
        assert page_state(base, s.id)["step"] == "connect"

        with httpx.Client() as browser:
            page = browser.get(s.url)
        form = parse_form(page.text)
        assert form.action == f"/pay/{s.id}/connect"
        assert approve.id in form.radios["wallet"] and "Connect wallet" in page.text

        connected = submit(base, s, wallet=approve.id)
        assert connected.status_code == 303 and connected.headers["location"] == f"/pay/{s.id}"
        waiting = httpx.get(s.url)
        assert waiting.status_code == 200
        assert "Waiting for Own Keys Shop to confirm your order" in waiting.text
        assert (
            "Cancel and return to the shop" in waiting.text and f"/pay/{s.id}/state" in waiting.text
        )
        assert page_state(base, s.id)["step"] == "awaiting_authorization"

        pending = plain.checkout.sessions.retrieve(s.id)
        assert pending.customer == approve.address and pending.bill is not None
        bill = plain.bills.retrieve(pending.bill)
        assert bill.status == "requires_authorization" and bill.chain is None
        assert pending.authorization == bill.authorization and pending.status == "open"
        # Paying before the merchant signed is refused, the page keeps waiting.
        early = httpx.post(f"{base}/pay/{s.id}", data={"token": form.hidden["token"]})
        assert early.status_code == 409 and "not confirmed this order yet" in early.text

        event = wait_for("the webhook", lambda: merchant_server.received)[0]
        assert isinstance(event, CheckoutSessionAuthorizationRequiredEvent)
        assert event.data.object.id == s.id and event.data.object.bill == bill.id
        assert event.data.object.customer == approve.address
        assert event.data.object.authorization == bill.authorization
        assert event.data.previous_attributes == {"customer": None, "bill": None}
        merchant_server.release.set()

        answered = wait_for("the handler", lambda: merchant_server.answered)[0]
        assert answered.id == s.id and answered.authorization is None
        wait_for("the page", lambda: page_state(base, s.id)["step"] == "pay_bill")
        assert_on_chain(shop, plain, bill.id, approve.address)

        paid = submit(base, s)
        assert paid.status_code == 303, paid.text
        assert paid.headers["location"] == f"https://shop.test/thanks?session={s.id}"
        done = confirm_return(plain, s.id)
        assert (done.status, done.bill, done.customer) == ("complete", bill.id, approve.address)
        assert [e.type for e in plain.events.list()] == [
            "checkout.session.completed",
            "bill.paid",
            "bill.created",
            EVENT,
        ]
        assert len(merchant_server.received) == 1


def test_connect_refusals_and_a_double_submit(shop: Shop) -> None:
    with shop.client() as plain:
        s = create(plain)
        declined = submit(plain.base_url, s, wallet=wallet(plain, "decline").id)
        assert declined.status_code == 402
        assert 'data-code="insufficient_collateral"' in declined.text
        assert 'action="/pay/' + s.id + '/connect"' in declined.text  # choose again
        assert plain.checkout.sessions.retrieve(s.id).bill is None
        # Nothing but the refused attempt itself (payment.failed).
        assert list(plain.bills.list()) == []
        assert [e.type for e in plain.events.list()] == ["payment.failed"]

        approve = wallet(plain, "approve")
        hidden = parse_form(httpx.get(s.url).text).hidden
        connect = f"{plain.base_url}/pay/{s.id}/connect"
        forged = httpx.post(connect, data={"token": "x" * 40, "wallet": approve.id})
        assert forged.status_code == 400 and "reload it" in forged.text
        assert plain.checkout.sessions.retrieve(s.id).bill is None
        for _ in range(2):  # a double submit connects once
            r = httpx.post(connect, data={**hidden, "wallet": approve.id})
            assert r.status_code == 303, r.text
        bill_id = plain.checkout.sessions.retrieve(s.id).bill
        assert bill_id is not None and len(list(plain.bills.list())) == 1
        other = httpx.post(connect, data={**hidden, "wallet": "limited"})
        assert other.status_code == 409 and "already connected" in other.text
        assert plain.checkout.sessions.retrieve(s.id).bill == bill_id
        assert [e.type for e in plain.events.list()] == [EVENT, "payment.failed"]


# --- refusals of authorize_pending, managed merchants unchanged ------------------------------


def test_authorize_pending_refuses_sessions_that_wait_on_nothing(
    shop: Shop, sb: SandboxHandle
) -> None:
    with shop.client(stellar_signer=shop.key) as ll:
        fresh = create(ll)  # no customer, no wallet connected: no bill yet
        with pytest.raises(SessionNotAwaitingAuthorizationError) as no_bill:
            authorize_pending(ll, fresh)
        assert no_bill.value.reason == "no_bill" and no_bill.value.session.id == fresh.id

    with shop.client() as plain:
        approve = wallet(plain, "approve")
        with pytest.raises(AuthorizationRequiredError) as err:
            create(plain, customer=approve.address)
        pending = err.value.session
        assert pending is not None and err.value.bill is not None
        expired = plain.checkout.sessions.expire(pending.id)
        assert expired.status == "expired" and expired.authorization is None
        assert plain.bills.retrieve(err.value.bill.id).status == "cancelled"
        assert [e.type for e in plain.events.list()] == [
            "checkout.session.expired",
            "bill.cancelled",
        ]
    with shop.client(stellar_signer=shop.key) as ll:
        with pytest.raises(SessionNotAwaitingAuthorizationError) as closed:
            authorize_pending(ll, pending.id)
        assert closed.value.reason == "session_closed"

    with LumenLater(
        api_key=sb.secret_key, base_url=sb.base_url, max_retries=0, stellar_signer=shop.key
    ) as managed:
        customer = wallet(managed, "approve").address
        s = create(managed, customer=customer)
        # Managed: unchanged, no bill before the shopper pays, nothing to authorize.
        assert (s.bill, s.authorization, s.customer) == (None, None, customer)
        with pytest.raises(SessionNotAwaitingAuthorizationError) as refused:
            authorize_pending(managed, s)
        assert refused.value.reason == "managed_custody"
        assert "managed" in str(refused.value)
        with pytest.raises(TypeError):
            authorize_pending(managed, 42)  # type: ignore[arg-type]

        assert page_state(managed.base_url, s.id)["step"] == "pay"
        with httpx.Client() as browser:
            page = browser.get(s.url)
        form = parse_form(page.text)
        assert form.action == f"/pay/{s.id}" and "Connect wallet" not in page.text
        connect = httpx.post(
            f"{managed.base_url}/pay/{s.id}/connect", data={**form.hidden, "wallet": "approve"}
        )
        assert connect.status_code == 409 and list(managed.bills.list()) == []
        r = submit(managed.base_url, s, wallet=wallet(managed, "approve").id)
        assert r.status_code == 303
        assert confirm_return(managed, s.id).status == "complete"
        assert EVENT not in [e.type for e in managed.events.list()]


def test_async_authorize_pending_refuses_a_managed_session(sb: SandboxHandle) -> None:
    async def run() -> str:
        async with AsyncLumenLater(
            api_key=sb.secret_key, base_url=sb.base_url, max_retries=0
        ) as managed:
            s = await managed.checkout.sessions.create(
                amount=TOTAL, success_url=THANKS, cancel_url="https://shop.test/cart"
            )
            try:
                await authorize_pending(managed, s)
            except SessionNotAwaitingAuthorizationError as exc:
                return exc.reason
            return "no error"

    assert anyio.run(run) == "managed_custody"
