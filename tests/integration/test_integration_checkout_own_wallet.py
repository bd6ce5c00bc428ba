"""The shopper pays from their own wallet: the hosted page prepares, the wallet signs, the
backend submits (issue 11 part 4), over the four backends.

The shopper here is a sandbox wallet marked ``external``: funded by the sandbox, its
seed handed out once and never used by the backend. The test signs the prepared
envelope with stellar-sdk, as a browser wallet's ``signTransaction(xdr,
{networkPassphrase})`` would, and drives ``POST /pay/{id}/prepare`` and ``/submit`` over
HTTP as the page's script does. The session completes from the contract's ``payment``
event only; envelopes signed by another key, altered, or sent again are refused.
"""

from __future__ import annotations

import re

import httpx
import pytest
from integration_support import (
    HostedPage,
    assert_api_error,
    assert_refused,
    external_wallet,
    parse_form,
    sign_envelope,
)
from stellar_sdk import Keypair, TransactionEnvelope

from lumenlater_sdk import AsyncLumenLater, BadRequestError, LumenLater, usdc
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import CheckoutSession

AMOUNT = usdc(25)


def _session(client: LumenLater, order_id: str = "ord-own") -> CheckoutSession:
    return client.checkout.sessions.create(
        amount=AMOUNT,
        success_url="https://shop.test/thanks?session={SESSION_ID}",
        cancel_url="https://shop.test/cart",
        order_id=order_id,
    )


def test_an_external_wallet_is_funded_and_its_seed_shown_once(
    client: LumenLater, sb: SandboxHandle
) -> None:
    w, _kp = external_wallet(client)
    assert w.available_borrowing > 0 and w.lp_balance > 0
    again = client.test_helpers.wallets.retrieve(w.id)
    assert again.external is True and again.secret_seed is None
    listed = {x.id: x for x in client.test_helpers.wallets.list()}
    assert listed[w.id].external and listed[w.id].secret_seed is None
    # The sandbox never signs as it: paying a bill as that wallet is refused.
    bill = client.bills.create(customer=w.address, amount=AMOUNT, order_id="o-ext")
    with pytest.raises(BadRequestError) as info:
        client.test_helpers.bills.pay(bill.id, wallet=w.id)
    assert_api_error(info.value, 400, "invalid_request_error", "wallet_external")
    assert client.bills.retrieve(bill.id).status == "created"


async def test_the_async_client_creates_external_wallets_alike(aclient: AsyncLumenLater) -> None:
    w = await aclient.test_helpers.wallets.create(name="mine-async", external=True)
    assert w.external and w.secret_seed is not None
    assert Keypair.from_secret(w.secret_seed).public_key == w.address
    again = await aclient.test_helpers.wallets.retrieve(w.id)
    assert again.external and again.secret_seed is None


def test_the_shoppers_own_signature_pays_the_session(client: LumenLater, sb: SandboxHandle) -> None:
    session = _session(client)
    w, kp = external_wallet(client)
    page = HostedPage(sb, session)
    assert "Pay with your Stellar wallet" in page.html
    assert w.id not in page.html  # not offered as a wallet the sandbox pays with

    answer = page.prepare(w.address)
    assert answer.status_code == 200, answer.text
    prepared = answer.json()
    assert prepared["object"] == "checkout.prepared_transaction"
    assert prepared["address"] == w.address and prepared["function"] == "pay_bill_bnpl"
    assert prepared["network_passphrase"] == client.chain.retrieve().network_passphrase
    env = TransactionEnvelope.from_xdr(prepared["xdr"], prepared["network_passphrase"])
    assert env.signatures == [] and env.hash_hex() == prepared["hash"]
    # The bill exists for the shopper; the session is still open, unpaid, and not pinned
    # to that wallet (the shopper may still turn to another).
    opened = client.checkout.sessions.retrieve(session.id)
    assert opened.status == "open" and opened.payment_status == "unpaid"
    assert opened.bill is not None and opened.customer is None
    bill_id = opened.bill
    assert client.bills.retrieve(bill_id).customer == w.address

    done = page.submit(sign_envelope(prepared, kp))
    assert done.status_code == 200, done.text
    state = done.json()
    assert (state["status"], state["payment_status"], state["step"]) == (
        "complete",
        "paid",
        "complete",
    )
    assert state["redirect_url"] == f"https://shop.test/thanks?session={session.id}"
    paid = client.checkout.sessions.retrieve(session.id)
    assert paid.status == "complete" and paid.payment_status == "paid"
    bill = client.bills.retrieve(bill_id)
    assert bill.status == "paid" and bill.customer == w.address
    completed = [
        e
        for e in client.events.list(type="checkout.session.completed")
        if e.data.object.id == session.id  # type: ignore[union-attr]
    ]
    assert len(completed) == 1
    bill_paid = [
        e
        for e in client.events.list(type="bill.paid")
        if e.data.object.id == bill_id  # type: ignore[union-attr]
    ]
    assert len(bill_paid) == 1
    # The page says so too, and a replay of the same envelope is refused.
    assert "Payment complete" in page.http.get(f"/pay/{session.id}").text
    assert_refused(page.submit(sign_envelope(prepared, kp)), 400, "session_not_open")


def test_envelopes_not_signed_by_the_shopper_or_altered_areassert_refused(
    client: LumenLater, sb: SandboxHandle
) -> None:
    session = _session(client)
    w, kp = external_wallet(client)
    page = HostedPage(sb, session)
    assert_refused(page.submit("AAAA"), 400, "transaction_not_prepared")
    prepared = page.prepare(w.address).json()

    assert_refused(page.submit(sign_envelope(prepared, Keypair.random())), 402, "invalid_signature")
    assert_refused(page.submit(sign_envelope(prepared)), 402, "invalid_signature")
    assert_refused(
        page.submit(sign_envelope(prepared, kp, Keypair.random())), 402, "invalid_signature"
    )
    env = TransactionEnvelope.from_xdr(prepared["xdr"], prepared["network_passphrase"])
    env.transaction.fee += 1  # tampered, then signed by the shopper: not what was prepared
    env.sign(kp)
    assert_refused(page.submit(env.to_xdr()), 402, "transaction_mismatch")
    assert_refused(page.submit("not base64 xdr"), 402, "transaction_refused")
    assert_refused(page.submit(sign_envelope(prepared, kp), token="forged"), 403, "invalid_token")
    assert client.checkout.sessions.retrieve(session.id).status == "open"

    # Nothing was spent: the shopper's own signature still pays, once.
    assert page.submit(sign_envelope(prepared, kp)).json()["status"] == "complete"
    assert_refused(page.submit(sign_envelope(prepared, kp)), 400, "session_not_open")
    assert len(client.events.list(type="bill.paid").data) == 1


def test_prepare_refusals(client: LumenLater, sb: SandboxHandle) -> None:
    session = _session(client)
    w, _kp = external_wallet(client)
    page = HostedPage(sb, session)
    assert_refused(page.prepare("GNOTANADDRESS"), 400, "parameter_invalid")
    assert_refused(page.prepare(Keypair.random().public_key), 402, "insufficient_collateral")
    assert_refused(page.prepare(w.address, token="forged"), 403, "invalid_token")
    assert page.prepare(w.address).status_code == 200
    # Preparing again for the same wallet reuses the bill.
    assert page.prepare(w.address).status_code == 200
    assert len(client.bills.list().data) == 1


def _pay_with_sandbox_wallet(page: HostedPage, wallet_name: str) -> httpx.Response:
    """Submit the page's sandbox-wallet form as a browser would, choosing *wallet_name*."""
    shown = page.http.get(f"/pay/{page.id}")
    form = parse_form(shown.text)
    radios = re.findall(r'value="(wal_[^"]+)"[^>]*>\s*<label[^>]*>([^<]+?) <small>', shown.text)
    chosen = {name.strip(): value for value, name in radios}[wallet_name]
    assert chosen in form.radios["wallet"]
    return page.http.post(
        str(form.action), data={**form.hidden, "wallet": chosen}, follow_redirects=False
    )


def _events_for(client: LumenLater, kind: str, object_id: str) -> list[str]:
    return [
        e.type
        for e in client.events.list(type=kind)
        if e.data.object.id == object_id  # type: ignore[union-attr]
    ]


def test_the_shopper_turns_to_another_wallet_after_an_own_wallet_attempt(
    client: LumenLater, sb: SandboxHandle
) -> None:
    """An own-wallet attempt that went nowhere (declined, no funds) pins nothing: another
    own wallet or a sandbox wallet pays, and the abandoned bill is cancelled."""
    session = _session(client)
    first, _ = external_wallet(client, "first")
    second, kp2 = external_wallet(client, "second")
    page = HostedPage(sb, session)
    abandoned = page.prepare(first.address).json()
    first_bill = client.checkout.sessions.retrieve(session.id).bill
    assert first_bill is not None

    # Another own wallet: a bill of its own; the first bill is cancelled, its envelope
    # can no longer be submitted.
    replaced = page.prepare(second.address).json()
    second_bill = client.checkout.sessions.retrieve(session.id).bill
    assert second_bill not in (None, first_bill)
    assert client.bills.retrieve(first_bill).status == "cancelled"
    assert _events_for(client, "bill.cancelled", first_bill) == ["bill.cancelled"]
    assert_refused(page.submit(sign_envelope(abandoned, kp2)), 402, "transaction_mismatch")

    # Then a sandbox wallet: its own bill again, and it pays.
    answer = _pay_with_sandbox_wallet(page, "approve")
    assert answer.status_code == 303, answer.text
    done = client.checkout.sessions.retrieve(session.id)
    assert done.status == "complete" and done.bill not in (None, first_bill, second_bill)
    assert done.customer == client.test_helpers.wallets.retrieve("approve").address
    assert client.bills.retrieve(second_bill).status == "cancelled"
    assert client.bills.retrieve(str(done.bill)).status == "paid"
    # The second wallet's prepared envelope is dead too.
    assert_refused(page.submit(sign_envelope(replaced, kp2)), 400, "session_not_open")


def test_a_refused_sandbox_payment_keeps_the_own_wallet_bill(
    client: LumenLater, sb: SandboxHandle
) -> None:
    """Turning to a sandbox wallet that is refused changes nothing: the own wallet's bill
    and its prepared transaction stay, and its signature still pays."""
    session = _session(client)
    w, kp = external_wallet(client)
    page = HostedPage(sb, session)
    prepared = page.prepare(w.address).json()
    bill = client.checkout.sessions.retrieve(session.id).bill
    refused = _pay_with_sandbox_wallet(page, "decline")
    assert refused.status_code == 402, refused.text
    assert client.checkout.sessions.retrieve(session.id).bill == bill
    assert client.bills.retrieve(str(bill)).status == "created"
    assert page.submit(sign_envelope(prepared, kp)).json()["status"] == "complete"
    assert client.bills.retrieve(str(bill)).status == "paid"


def test_a_session_that_expires_cancels_the_bill_an_attempt_left(
    client: LumenLater, sb: SandboxHandle
) -> None:
    session = _session(client)
    w, kp = external_wallet(client)
    page = HostedPage(sb, session)
    prepared = page.prepare(w.address).json()
    bill = client.checkout.sessions.retrieve(session.id).bill
    assert bill is not None
    client.checkout.sessions.expire(session.id)
    assert client.bills.retrieve(bill).status == "cancelled"
    assert _events_for(client, "bill.cancelled", bill) == ["bill.cancelled"]
    assert_refused(page.submit(sign_envelope(prepared, kp)), 400, "session_not_open")
    assert client.bills.retrieve(bill).status == "cancelled"


def test_a_session_pinned_to_a_customer_is_paid_by_that_wallet_only(
    client: LumenLater, sb: SandboxHandle
) -> None:
    approve = client.test_helpers.wallets.retrieve("approve").address
    session = client.checkout.sessions.create(
        amount=AMOUNT,
        success_url="https://shop.test/thanks",
        cancel_url="https://shop.test/cart",
        customer=approve,
    )
    page = HostedPage(sb, session)
    form = parse_form(page.html)
    # Only the pinned wallet is offered.
    assert len(form.radios["wallet"]) == 1
    assert_refused(page.prepare(Keypair.random().public_key), 400, "wallet_not_customer")
    other = _pay_with_sandbox_wallet(page, "approve")
    assert other.status_code == 303
    assert client.checkout.sessions.retrieve(session.id).customer == approve

    pinned = client.checkout.sessions.create(
        amount=AMOUNT,
        success_url="https://shop.test/thanks",
        cancel_url="https://shop.test/cart",
        customer=approve,
    )
    page = HostedPage(sb, pinned)
    token = parse_form(page.html).hidden["token"]
    wrong = page.http.post(
        f"/pay/{pinned.id}",
        data={"token": token, "wallet": "limited"},
        follow_redirects=False,
    )
    assert wrong.status_code == 400 and "another wallet" in wrong.text
    assert client.checkout.sessions.retrieve(pinned.id).status == "open"
    assert client.bills.list().data[0].status == "paid"  # only the first session's bill


def test_a_self_custody_merchants_shopper_pays_from_their_own_wallet(
    client: LumenLater, sb: SandboxHandle
) -> None:
    """The merchant signed its bill for the shopper up front; the shopper's wallet pays it
    (the page has no sandbox wallet to offer for an address the sandbox holds no key for)."""
    w, kp = external_wallet(client)
    merchant_key = Keypair.random()
    secret = sb.create_self_custody_merchant(merchant_key, "Own Keys Shop").secret_key
    with LumenLater(
        api_key=secret, base_url=sb.base_url, max_retries=0, stellar_signer=merchant_key
    ) as shop:
        session = shop.checkout.sessions.create(
            amount=AMOUNT,
            success_url="https://shop.test/thanks?session={SESSION_ID}",
            cancel_url="https://shop.test/cart",
            order_id="ord-self-own-2",
            customer=w.address,
        )
        assert session.bill is not None
        page = HostedPage(sb, session)
        assert "Pay with your Stellar wallet" in page.html and "<form" not in page.html
        assert_refused(page.prepare(Keypair.random().public_key), 400, "wallet_not_customer")
        prepared = page.prepare(w.address).json()
        assert prepared["address"] == w.address
        assert page.submit(sign_envelope(prepared, kp)).json()["status"] == "complete"
        done = shop.checkout.sessions.retrieve(session.id)
        assert (done.status, done.customer, done.bill) == ("complete", w.address, session.bill)
        assert shop.bills.retrieve(session.bill).status == "paid"
        assert [e.type for e in shop.events.list(type="checkout.session.completed")] == [
            "checkout.session.completed"
        ]
