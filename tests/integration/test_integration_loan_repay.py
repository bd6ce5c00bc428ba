"""The shopper repays from their own wallet on the hosted page (issue 11 part 4), over the
four backends.

After paying, the session's page shows the loan: what is owed, the dates, and a repay
button. Repaying signs two transactions in the shopper's wallet, as the deployed
contracts need: USDC ``approve`` of bnpl_core (for what the bill will cost a day later),
then ``repay_bill``. The test signs each prepared envelope with stellar-sdk, as a
browser wallet would, and drives ``POST /pay/{id}/repay/prepare`` and ``/submit`` as
the page's script does. The bill is repaid only from the contract's ``repayment``
event; other signers, tampering and replays are refused.
"""

from __future__ import annotations

from typing import Any

from integration_support import (
    DAY,
    LATE_INTEREST_APR,
    SCALE,
    HostedPage,
    assert_refused,
    external_wallet,
    sign_envelope,
)
from stellar_sdk import Keypair, TransactionEnvelope

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import CheckoutSession, Wallet

AMOUNT = usdc(25)


def _paid_session(
    client: LumenLater, sb: SandboxHandle, amount: int = AMOUNT, collateral: int | None = None
) -> tuple[CheckoutSession, HostedPage, Wallet, Keypair]:
    """A session paid by an external wallet's own signature."""
    session = client.checkout.sessions.create(
        amount=amount,
        success_url="https://shop.test/thanks",
        cancel_url="https://shop.test/cart",
        order_id="ord-loan",
    )
    if collateral is None:
        w, kp = external_wallet(client)
    else:
        w = client.test_helpers.wallets.create(name="big", external=True, collateral=collateral)
        assert w.secret_seed is not None
        kp = Keypair.from_secret(w.secret_seed)
    page = HostedPage(sb, session)
    prepared = page.prepare(w.address).json()
    assert page.submit(sign_envelope(prepared, kp)).json()["status"] == "complete"
    return session, page, w, kp


def _function(prepared: dict[str, Any]) -> str:
    env = TransactionEnvelope.from_xdr(prepared["xdr"], prepared["network_passphrase"])
    op: Any = env.transaction.operations[0]
    return str(op.host_function.invoke_contract.function_name.sc_symbol.decode())


def test_the_shopper_repays_from_their_own_wallet_in_two_signatures(
    client: LumenLater, sb: SandboxHandle
) -> None:
    session, page, w, kp = _paid_session(client, sb)
    bill_id = str(client.checkout.sessions.retrieve(session.id).bill)
    shown = page.show()
    assert "Your loan" in shown and "Repay 25.00 USDC from your Stellar wallet" in shown
    assert 'id="loan-owed">25.00 USDC' in shown

    approval = page.repay_prepare(w.address)
    assert approval.status_code == 200, approval.text
    first = approval.json()
    assert (first["step"], first["function"], first["address"]) == ("approve", "approve", w.address)
    assert _function(first) == "approve"
    # Not a stroop is repaid by the approval alone.
    after_approval = page.repay_submit(sign_envelope(first, kp))
    assert after_approval.status_code == 200, after_approval.text
    state = after_approval.json()
    assert (state["step"], state["status"], state["next"], state["done"]) == (
        "approve",
        "paid",
        True,
        False,
    )
    assert client.bills.retrieve(bill_id).status == "paid"

    second = page.repay_prepare(w.address).json()
    assert (second["step"], _function(second)) == ("repay_bill", "repay_bill")
    done = page.repay_submit(sign_envelope(second, kp))
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["done"], done.json()["next"]) == (
        "repaid",
        True,
        False,
    )
    assert done.json()["redirect_url"] == f"/pay/{session.id}"
    bill = client.bills.retrieve(bill_id)
    assert bill.status == "repaid" and bill.amount_due == 0
    repaid = [
        e
        for e in client.events.list(type="bill.repaid")
        if e.data.object.id == bill_id  # type: ignore[union-attr]
    ]
    assert len(repaid) == 1
    assert "Repaid on" in page.show() and "Repay 25.00" not in page.show()
    # The same envelope again, and another repayment, are refused.
    assert_refused(page.repay_submit(sign_envelope(second, kp)), 400, "transaction_not_prepared")
    assert_refused(page.repay_prepare(w.address), 402, "bill_not_paid")


def test_an_allowance_that_covers_the_bill_skips_the_approval(
    client: LumenLater, sb: SandboxHandle
) -> None:
    """An approval already signed (a first attempt that stopped after it) is not asked
    for again: the next step is the repayment itself."""
    _session, page, w, kp = _paid_session(client, sb)
    first = page.repay_prepare(w.address).json()
    assert page.repay_submit(sign_envelope(first, kp)).json()["next"] is True
    again = page.repay_prepare(w.address).json()
    assert again["step"] == "repay_bill"
    assert page.repay_submit(sign_envelope(again, kp)).json()["status"] == "repaid"


def test_late_interest_is_in_what_is_approved_and_repaid(
    client: LumenLater, sb: SandboxHandle
) -> None:
    session, page, w, kp = _paid_session(client, sb)
    bill_id = str(client.checkout.sessions.retrieve(session.id).bill)
    client.test_helpers.clock.advance(seconds=20 * DAY)
    fee = AMOUNT * LATE_INTEREST_APR * 6 // (365 * SCALE)  # 6 whole days past 14
    bill = client.bills.retrieve(bill_id)
    assert (bill.status, bill.amount_due) == ("overdue", AMOUNT + fee)
    assert f'id="loan-owed">{(AMOUNT + fee) / 10_000_000:.7f}'.rstrip("0") in page.show()
    first = page.repay_prepare(w.address).json()
    env = TransactionEnvelope.from_xdr(first["xdr"], first["network_passphrase"])
    op: Any = env.transaction.operations[0]
    amount_arg = op.host_function.invoke_contract.args[2].i128
    approved = (amount_arg.hi.int64 << 64) | amount_arg.lo.uint64
    next_day_fee = AMOUNT * LATE_INTEREST_APR * 7 // (365 * SCALE)
    assert approved == AMOUNT + next_day_fee  # what it costs a day from now, no more
    page.repay_submit(sign_envelope(first, kp))
    second = page.repay_prepare(w.address).json()
    assert page.repay_submit(sign_envelope(second, kp)).json()["status"] == "repaid"
    repaid = client.bills.retrieve(bill_id)
    assert repaid.late_fee == fee and repaid.amount_due == 0


def test_repayment_refusals(client: LumenLater, sb: SandboxHandle) -> None:
    unpaid = client.checkout.sessions.create(
        amount=AMOUNT, success_url="https://shop.test/t", cancel_url="https://shop.test/c"
    )
    w, kp = external_wallet(client, "other")
    early = HostedPage(sb, unpaid)
    assert_refused(early.repay_prepare(w.address), 400, "session_not_complete")
    assert "Your loan" not in early.show()

    _session, page, owner, owner_kp = _paid_session(client, sb)
    assert_refused(page.repay_prepare(w.address), 400, "wallet_not_customer")
    assert_refused(page.repay_prepare("GNOPE"), 400, "parameter_invalid")
    assert_refused(page.repay_submit("AAAA"), 400, "transaction_not_prepared")
    first = page.repay_prepare(owner.address).json()
    assert_refused(page.repay_submit(sign_envelope(first, kp)), 402, "invalid_signature")
    assert_refused(page.repay_submit(sign_envelope(first)), 402, "invalid_signature")
    forged = page.http.post(
        f"/pay/{page.id}/repay/prepare", json={"token": "forged", "address": owner.address}
    )
    assert_refused(forged, 403, "invalid_token")
    # Nothing was spent: the owner's signature still goes through.
    assert page.repay_submit(sign_envelope(first, owner_kp)).json()["next"] is True


def test_a_wallet_without_the_usdc_is_told_before_it_signs(
    client: LumenLater, sb: SandboxHandle
) -> None:
    """The shopper spent their USDC elsewhere (a transfer they signed, straight to the
    chain): the repayment is refused before anything is signed, in words the shopper
    understands; topped up, it goes on."""
    session, page, w, kp = _paid_session(client, sb)
    gateway: Any = sb.backend.ctx.chain._gateway  # the chain as any other client sees it
    usdc_held = int(gateway.read("usdc", "balance", [w.address]))
    sink = Keypair.random().public_key
    gateway.invoke("usdc", "transfer", [w.address, sink, usdc_held - usdc(5)], signer=kp)
    answer = page.repay_prepare(w.address)
    assert_refused(answer, 402, "insufficient_funds")
    assert "enough USDC" in answer.json()["error"]["message"]
    bill = client.checkout.sessions.retrieve(session.id).bill
    assert client.bills.retrieve(str(bill)).status == "paid"
    sb.backend.ctx.require_sandbox("a top-up").fund_wallet(kp, usdc=usdc(30))
    assert page.repay_prepare(w.address).json()["step"] == "approve"
