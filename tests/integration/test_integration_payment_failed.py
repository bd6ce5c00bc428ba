"""Failed attempts are visible (issue 12 part 3), over the four backends: every refused
payment attempt on the hosted page (a sandbox wallet's form, an own wallet's prepare or
submit) is a ``payment.failed`` event with the session, the paying address and the
refusal code, delivered to webhook endpoints that ask for it and typed in the SDK; the
analytics count attempts and failures. What is not an attempt (an expired form, a
closed checkout) is not counted.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
from integration_support import (
    DAY,
    HostedPage,
    external_wallet,
    sign_envelope,
    wallet,
)
from stellar_sdk import Keypair

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import CheckoutSession, PaymentFailedEvent, PaymentFailure
from lumenlater_sdk.webhooks import construct_event, sign

AMOUNT = usdc(25)


def _session(client: LumenLater) -> CheckoutSession:
    return client.checkout.sessions.create(
        amount=AMOUNT,
        success_url="https://shop.test/thanks",
        cancel_url="https://shop.test/cart",
        order_id="ord-pf",
    )


def _form_pay(page: HostedPage, wallet_id: str, token: str | None = None) -> httpx.Response:
    """The sandbox wallets' form, posted as a browser would (also after the page closed)."""
    data = {"token": page.token if token is None else token, "wallet": wallet_id}
    return page.http.post(f"/pay/{page.id}", data=data, follow_redirects=False)


def _failures(client: LumenLater) -> list[PaymentFailure]:
    found = []
    for e in client.events.list(type="payment.failed"):
        assert isinstance(e, PaymentFailedEvent)
        found.append(e.data.object)
    return list(reversed(found))  # oldest first


def test_each_refused_attempt_is_a_payment_failed_event(
    client: LumenLater, sb: SandboxHandle
) -> None:
    endpoint = client.webhook_endpoints.create(
        url="https://hooks.test/lumenlater", enabled_events=["payment.failed"]
    )
    assert endpoint.enabled_events == ["payment.failed"]
    session = _session(client)
    page = HostedPage(sb, session)
    decline = wallet(client, "decline")

    # A sandbox wallet without the collateral.
    assert _form_pay(page, decline.id).status_code == 402
    # An own wallet: one without any collateral is refused at prepare...
    stranger = Keypair.random().public_key
    assert page.prepare(stranger).status_code == 402
    # ...and a signature by another account at submit.
    own, kp = external_wallet(client)
    prepared = page.prepare(own.address).json()
    assert page.submit(sign_envelope(prepared, Keypair.random())).status_code == 402
    # Not attempts: an expired form, malformed input.
    assert _form_pay(page, decline.id, token="stale").status_code == 400
    assert page.prepare("GNOTANADDRESS").status_code == 400

    failures = _failures(client)
    assert [(f.session, f.customer, f.code) for f in failures] == [
        (session.id, decline.address, "insufficient_collateral"),
        (session.id, stranger, "insufficient_collateral"),
        (session.id, own.address, "invalid_signature"),
    ]
    first = failures[0]
    assert first.id.startswith("pf_") and first.amount == AMOUNT and first.message
    assert first.bill is None and failures[2].bill is not None  # the own wallet's bill
    assert first.livemode is False
    # The session stays open, and then the shopper pays.
    assert client.checkout.sessions.retrieve(session.id).status == "open"
    assert page.submit(sign_envelope(prepared, kp)).json()["status"] == "complete"
    # A closed checkout is not a payment attempt.
    assert _form_pay(page, decline.id).status_code in (400, 409)
    assert len(_failures(client)) == 3

    # The event as a webhook receiver parses it: typed, with the failure object.
    raw = client.events.list(type="payment.failed").data[0]
    body = raw.model_dump_json().encode()
    secret = "whsec_test"
    event = construct_event(body, sign(body, secret), secret)
    assert isinstance(event, PaymentFailedEvent)
    assert isinstance(event.data.object, PaymentFailure)

    now = client.test_helpers.clock.retrieve().now
    m = client.analytics.metrics(start=now - DAY, end=now + DAY, interval="day")
    assert (m.sessions_completed, m.payment_failures, m.payment_attempts) == (1, 3, 4)
    assert m.payment_success_rate == Decimal("0.2500")


def test_a_merchant_sees_only_its_own_failures(client: LumenLater, sb: SandboxHandle) -> None:
    other = sb.create_merchant("Other Tea")
    with LumenLater(api_key=other.secret_key, base_url=sb.base_url, max_retries=0) as rival:
        theirs = _session(rival)
        rival_page = HostedPage(sb, theirs)
        decline = wallet(rival, "decline")
        assert _form_pay(rival_page, decline.id).status_code == 402
        assert len(_failures(rival)) == 1
        now = rival.test_helpers.clock.retrieve().now
        assert rival.analytics.metrics(start=now - DAY, end=now + DAY).payment_failures == 1
    assert _failures(client) == []
    now = client.test_helpers.clock.retrieve().now
    assert client.analytics.metrics(start=now - DAY, end=now + DAY).payment_failures == 0


def test_the_sandbox_triggers_payment_failed(client: LumenLater) -> None:
    """Through the SDK, which sends an Idempotency-Key: the refused attempt is recorded
    and the keyed request still answers (and replays) it."""
    event = client.test_helpers.events.trigger(type="payment.failed", idempotency_key="pf-1")
    assert isinstance(event, PaymentFailedEvent)
    failure = event.data.object
    assert failure.code == "insufficient_collateral"
    assert failure.customer == wallet(client, "decline").address
    again = client.test_helpers.events.trigger(type="payment.failed", idempotency_key="pf-1")
    assert again.id == event.id and len(_failures(client)) == 1
