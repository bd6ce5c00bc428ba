"""The shopper's loan on the hosted page once the checkout is paid (``/pay/{id}``, the page
the shopper paid on and the merchant may link to): what is owed, until when it is
interest-free, when the collateral may be sold, and repaying from the shopper's own
wallet.

Repaying signs two transactions in the shopper's wallet, as the deployed contracts need
(a USDC ``approve`` of bnpl_core, then ``repay_bill``): the page's wallet script asks
``POST /pay/{id}/repay/prepare`` (JSON ``{token, address}`` → ``{step: "approve" |
"repay_bill", xdr, network_passphrase, hash, address, ...}``), has the wallet sign, posts
``POST /pay/{id}/repay/submit`` (``{token, signed_xdr}`` → ``{step, status, next, done,
redirect_url}``) and prepares again while ``next`` is true. The bill is repaid only from
the contract's ``repayment`` event.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from ... import format_usdc
from ..http import Call
from ..services import checkout_page, loan_page
from ..services.errors import ServiceError
from ._own_wallet import json_error, prepared_answer, wallet_post, wallet_section
from ._page import Embed, PageQuery, page_route, security_headers
from ._templates import percent

__all__ = ["REPAY_MESSAGES", "ROUTES", "loan_context"]

REPAY_MESSAGES = {
    "no_wallet": "No Stellar wallet was found in this browser. Install a Stellar wallet"
    " extension such as Freighter, reload this page and try again.",
    "rejected": "Your wallet did not sign, so nothing was repaid. You can try again.",
    "network": "The repayment could not be sent (the connection failed). Try again.",
    "not_complete": "The repayment was sent but is not confirmed yet. Reload this page in a"
    " moment to see where it stands.",
    "connecting": "Connecting to your wallet…",
    "preparing": "Preparing your repayment…",
    "signing_approve": "Step 1 of 2: allow the repayment in your wallet…",
    "signing_repay_bill": "Confirm the repayment in your wallet…",
    "signing": "Confirm in your wallet…",
    "submitting": "Sending your signed transaction…",
    "complete": "Repayment complete. Thank you.",
}


def loan_context(call: Call, session_id: str, qs: str) -> dict[str, Any] | None:
    """What ``_loan.html`` shows of the paid session *session_id*'s loan (``None`` if it
    has none): ``state`` (``open``, ``repaid`` or ``closed``), the bill object, the rate,
    and for an open loan the shopper's own wallet repays (``own``)."""
    view = loan_page.loan_view(call.ctx, session_id)
    if view is None:
        return None
    bill = view.bill
    state = "repaid" if bill["status"] == "repaid" else "open" if view.outstanding else "closed"
    own = None
    if state == "open" and view.own_wallet:
        own = wallet_section(
            name="repay",
            heading="Your loan",
            lead="Repay it whenever you like: your wallet signs (first it allows the"
            " repayment, then it repays); LumenLater never sees its key.",
            button=f"Repay {format_usdc(int(bill['amount_due']))} from your Stellar wallet",
            config={
                "prepare": f"/pay/{session_id}/repay/prepare{qs}",
                "submit": f"/pay/{session_id}/repay/submit{qs}",
                "token": checkout_page.form_token(call.ctx, session_id),
                "messages": REPAY_MESSAGES,
                "redirectDelay": 1000,
            },
            address=str(bill["customer"]),
            noscript="Repaying from your own wallet needs JavaScript.",
        )
    return {
        "state": state,
        "bill": bill,
        "apr": percent(call.ctx.constants.late_interest_apr),
        "own": own,
    }


def _prepare(call: Call) -> Response:
    """``POST /pay/{id}/repay/prepare``: the next transaction of the repayment to sign."""
    post = wallet_post(call)
    try:
        step, p = loan_page.prepare_repayment(call.ctx, call.path["id"], post.token, post.address)
    except ServiceError as exc:
        return json_error(call, exc)
    return prepared_answer(p, step)


def _submit(call: Call) -> Response:
    """``POST /pay/{id}/repay/submit``: the step the shopper's wallet signed."""
    post = wallet_post(call)
    session_id = call.path["id"]
    try:
        step, bill = loan_page.submit_repayment(call.ctx, session_id, post.token, post.signed_xdr)
    except ServiceError as exc:
        return json_error(call, exc)
    q: PageQuery = call.query
    page = f"/pay/{session_id}"
    if q.embed is not None and q.origin is not None:
        page += Embed(q.origin).qs
    answer = {
        "object": "checkout.repayment_state",
        "step": step,
        "status": bill["status"],
        "next": step == loan_page.APPROVE,
        "done": bill["status"] == "repaid",
        "redirect_url": page,
    }
    return JSONResponse(answer, headers=security_headers(None))


ROUTES = [
    page_route(
        "POST",
        "/pay/{id}/repay/prepare",
        _prepare,
        "prepareLoanRepayment",
        "Prepare the next step of a repayment for the shopper's own wallet to sign.",
    ),
    page_route(
        "POST",
        "/pay/{id}/repay/submit",
        _submit,
        "submitLoanRepayment",
        "Submit a repayment step the shopper's own wallet signed.",
    ),
]
