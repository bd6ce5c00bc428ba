"""The hosted checkout page ``/pay/{cs_id}``: plain HTML forms, no JavaScript needed.

A self-custody merchant's page has two more states: *connect* (the shopper picks a wallet,
``POST /pay/{id}/connect``) and *waiting* (the bill waits for the merchant's signature;
a small script polls ``GET /pay/{id}/state`` and reloads once that changed, and a "Check
again" link does the same without JavaScript).

**The shopper's own wallet** ("Pay with your Stellar wallet", when the shopper's key is not
one the sandbox holds: an address that is not a sandbox wallet, an external sandbox
wallet, or, on a managed merchant's page, any wallet the shopper brings): a script asks
the wallet the page finds as ``window.freighterApi`` (Freighter's API shape) for its
address, has the backend prepare ``pay_bill_bnpl`` for it (``POST /pay/{id}/prepare``,
JSON ``{token, address}`` → ``{xdr, network_passphrase, hash, address, max_time}``), asks
the wallet to sign it (``signTransaction(xdr, {networkPassphrase})``; a string or
``{signedTxXdr}`` back) and posts the signed envelope (``POST /pay/{id}/submit``, JSON
``{token, signed_xdr}`` → the page state and ``redirect_url``). The session completes only
from the contract's ``payment`` event of that transaction; a refusal is
``{error: {code, message}}``, the message in the shopper's words.

Once paid, the same page shows the shopper's loan and repays it from their own wallet
(:mod:`.loan`).

**Embedded mode** (``/pay/{id}?embed=1&origin=<the merchant page's origin>``) is what the
embed script (``/v1/js/lumenlater.js``) puts in its iframe: the same page, compact, whose
forms keep the mode, and which talks to its parent frame by ``postMessage`` (messages
``{protocol: "lumenlater-checkout", version: 1, type, sessionId, ...}``, sent to that
origin only, accepted from it only): ``ready``, ``resize`` (its height), ``success``
(``billId``, ``orderId``), ``error`` (``code``, ``message``), ``cancel``; the parent
answers ``init`` (``appearance``). The origin must be one of the session's
``embed_origins`` (else its account's); the answer's
``Content-Security-Policy: frame-ancestors`` names exactly that origin, so no other page
can frame it. Every other answer here is ``frame-ancestors 'none'``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ... import format_usdc
from ..http import Call
from ..services import checkout_page
from ..services.checkout_page import Row
from ..services.errors import ServiceError
from ..services.wallets import holds_key
from . import loan
from ._own_wallet import (
    PAY_MESSAGES,
    SHOPPER_WORDS,
    json_error,
    prepared_answer,
    shopper_error,
    wallet_post,
    wallet_section,
)
from ._page import (
    EMBED_PROTOCOL,
    EMBED_PROTOCOL_VERSION,
    Embed,
    PageQuery,
    embed_of,
    not_embeddable,
    not_found,
    page,
    page_route,
    security_headers,
)
from ._templates import percent, script, short_address

__all__ = ["EMBED_PROTOCOL", "EMBED_PROTOCOL_VERSION", "ROUTES", "SHOPPER_WORDS", "PageQuery"]


# The waiting state polls the page's own state and reloads when it changes: the merchant's
# server signs the bill (usually within seconds of the webhook); nothing to click.
_WAIT_SCRIPT = """(function(){var url=%(url)s,since=Date.now(),slow=document.getElementById('slow');
function poll(){fetch(url,{cache:'no-store'}).then(function(r){return r.ok?r.json():null})
.then(function(s){if(s&&s.step!=='awaiting_authorization'){location.reload();return}
if(Date.now()-since>60000&&slow){slow.hidden=false}setTimeout(poll,1500)})
.catch(function(){setTimeout(poll,3000)})}setTimeout(poll,1500)})();"""


def _lines(row: Row) -> list[dict[str, Any]]:
    """The order's lines: its line items, or one line for the whole amount."""
    items: list[dict[str, Any]] = json.loads(row["line_items"])
    if not items:
        name = row["description"] or row["order_id"] or "Order"
        return [{"name": name, "quantity": None, "amount": int(row["amount"])}]
    return [
        {
            "name": i["name"],
            "quantity": int(i["quantity"]),
            "amount": int(i["quantity"]) * int(i["unit_amount"]),
        }
        for i in items
    ]


def _terms(call: Call, view: checkout_page.PageView) -> dict[str, Any]:
    """What a borrower must read before confirming."""
    t = checkout_page.borrowing_terms(call.ctx, int(view.row["amount"]), view.now)
    return {
        "due": t.due,
        "apr": percent(t.late_interest_apr),
        "collateral": t.collateral,
        "ratio": percent(t.collateral_ratio),
        "liquidation": t.liquidation,
        "penalty": percent(t.liquidation_penalty),
    }


def _own_pay(
    call: Call, view: checkout_page.PageView, qs: str, *, address: str | None, lead: str
) -> dict[str, Any]:
    """ "Pay with your Stellar wallet": the shopper's wallet signs ``pay_bill_bnpl``."""
    sid = str(view.row["id"])
    return wallet_section(
        name="own",
        heading="Pay with your Stellar wallet",
        lead=lead,
        button=f"Pay {format_usdc(int(view.row['amount']))} with your Stellar wallet",
        config={
            "prepare": f"/pay/{sid}/prepare{qs}",
            "submit": f"/pay/{sid}/submit{qs}",
            "token": checkout_page.form_token(call.ctx, sid),
            "messages": PAY_MESSAGES,
            "redirectDelay": 1500,
        },
        address=address,
        noscript="Paying from your own wallet needs JavaScript.",
    )


def _open_context(
    call: Call, view: checkout_page.PageView, qs: str, chosen: str | None
) -> dict[str, Any]:
    """What ``checkout.html`` needs beyond the frame for an open session's step."""
    row = view.row
    sid = str(row["id"])
    merchant = view.business_name or "The merchant"
    context: dict[str, Any] = {
        "token": checkout_page.form_token(call.ctx, sid),
        "wallets": view.wallets,
        "chosen": chosen,
        "own": None,
        "connected": None,
        "wait_script": None,
    }
    if view.step == "pay":
        # A session its merchant pinned to a customer offers that wallet only; an own
        # wallet the session is pinned to pays from the browser alone.
        held = [
            w
            for w in view.wallets
            if holds_key(w) and (not row["customer"] or w["address"] == row["customer"])
        ]
        context["wallets"] = [] if view.own_wallet else held
        context["own"] = _own_pay(
            call,
            view,
            qs,
            address=str(row["customer"]) if view.own_wallet else None,
            lead="Or pay from a wallet of your own: your wallet signs the payment;"
            " LumenLater never sees its key."
            if context["wallets"]
            else "Your wallet signs the payment; LumenLater never sees its key.",
        )
    offered: list[Row] = context["wallets"]
    if not any(w["id"] == chosen for w in offered):
        # The form sent back on a refusal keeps the shopper's choice; first, the first.
        context["chosen"] = offered[0]["id"] if offered else None
    if view.step in ("awaiting_authorization", "pay_bill"):
        wallet = view.customer_wallet
        customer = str(row["customer"] or "")
        context["connected"] = (
            f"{wallet['name']} ({short_address(wallet['address'])})"
            if wallet is not None
            else short_address(customer)
        )
        if view.step == "awaiting_authorization":
            context["wait_script"] = script(_WAIT_SCRIPT, url=f"/pay/{sid}/state")
        elif wallet is None or view.own_wallet:
            context["own"] = _own_pay(
                call,
                view,
                qs,
                address=customer,
                lead=f"{merchant} has confirmed your order. Your wallet signs the payment;"
                " LumenLater never sees its key.",
            )
    return context


def _render(
    call: Call,
    view: checkout_page.PageView,
    *,
    error: ServiceError | None = None,
    status: int = 200,
    embed: Embed | None = None,
    event: dict[str, Any] | None = None,
    chosen: str | None = None,
) -> HTMLResponse:
    row = view.row
    qs = embed.qs if embed else ""
    sid = str(row["id"])
    frame: dict[str, Any] = {
        "embed": embed,
        "session_id": sid,
        "step": view.step,
        "merchant": view.business_name or None,
        "sandbox": not row["livemode"],
        "lines": _lines(row),
        "total": int(row["amount"]),
    }
    if view.step in ("complete", "expired"):
        # A closed session: say what happened and lead back to the shop (embedded, the
        # merchant's page decides), never to a "cancel" of something already paid.
        if view.step == "complete":
            message = "Payment complete: this order is paid and cannot be paid again."
            back = row["success_url"].replace("{SESSION_ID}", sid)
            if embed and event is None:
                # Paid from the shopper's own wallet, the page's script comes back here:
                # the widget hears the success now (the merchant confirms it server-side).
                event = _success(row)
        else:
            message = "This checkout has expired and cannot be paid; start again from the shop."
            back = row["cancel_url"]
            if embed and event is None:
                event = {"type": "error", "code": "session_expired", "message": message}
        return page(
            "closed.html",
            title="Checkout closed",
            status=status,
            event=event,
            message=message,
            loan=loan.loan_context(call, sid, qs) if view.step == "complete" else None,
            back_url=None if embed else back,
            **frame,
        )
    shown_error = None
    if error is not None:
        code, words = shopper_error(error)
        shown_error = {"code": code, "message": words}
    return page(
        "checkout.html",
        title="Checkout: waiting" if view.step == "awaiting_authorization" else "Checkout",
        status=status,
        event=event,
        error=shown_error,
        terms=_terms(call, view),
        urls={
            "page": f"/pay/{sid}{qs}",
            "pay": f"/pay/{sid}{qs}",
            "connect": f"/pay/{sid}/connect{qs}",
            "cancel": row["cancel_url"],
        },
        **frame,
        **_open_context(call, view, qs, chosen),
    )


def _success(row: Row) -> dict[str, Any]:
    """The widget's ``success`` message (its ``onSuccess``) for the paid session *row*."""
    return {"type": "success", "billId": row["bill_id"], "orderId": row["order_id"]}


def _show(call: Call) -> Response:
    try:
        view = checkout_page.page_view(call.ctx, call.path["id"])
    except ServiceError:
        return not_found()
    embed = embed_of(call, view.embed_origins)
    if embed is False:
        return not_embeddable()
    return _render(call, view, embed=embed)


def _state(call: Call) -> Response:
    return JSONResponse(
        checkout_page.page_state(call.ctx, call.path["id"]), headers=security_headers(None)
    )


def _refused(call: Call, session_id: str, exc: ServiceError, chosen: str | None) -> Response:
    """The page again, with the refusal shown and the shopper's choice kept; the session
    stays as it was. Embedded, the widget hears it as an ``error`` (its ``onError``)."""
    try:
        view = checkout_page.page_view(call.ctx, session_id)
    except ServiceError:
        return not_found()
    embed = embed_of(call, view.embed_origins)
    if embed is False:
        return not_embeddable()
    status = 402 if exc.kind == "chain_refused" else 409 if exc.kind == "conflict" else 400
    code, words = shopper_error(exc)
    event = {"type": "error", "code": code, "message": words}
    return _render(call, view, error=exc, status=status, embed=embed, event=event, chosen=chosen)


def _submit(call: Call) -> Response:
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    session_id = call.path["id"]
    wallet = form.get("wallet", "")
    try:
        done = checkout_page.pay_session(call.ctx, session_id, wallet, form.get("token", ""))
    except ServiceError as exc:
        return _refused(call, session_id, exc, wallet or None)
    q: PageQuery = call.query
    if q.embed is not None:
        # Embedded: show the completed state in the frame and tell the widget (onSuccess);
        # the merchant's page decides where the shopper goes next.
        view = checkout_page.page_view(call.ctx, session_id)
        embed = embed_of(call, view.embed_origins)
        if embed is False:
            return not_embeddable()
        return _render(call, view, embed=embed, event=_success(done))
    target = str(done["success_url"]).replace("{SESSION_ID}", session_id)
    return RedirectResponse(target, status_code=303)


def _connect(call: Call) -> Response:
    """A self-custody merchant's page: the shopper chose a wallet; show the waiting state."""
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    session_id = call.path["id"]
    wallet = form.get("wallet", "")
    try:
        checkout_page.connect_wallet(call.ctx, session_id, wallet, form.get("token", ""))
    except ServiceError as exc:
        return _refused(call, session_id, exc, wallet or None)
    q: PageQuery = call.query
    qs = Embed(q.origin).qs if q.embed is not None and q.origin is not None else ""
    return RedirectResponse(f"/pay/{session_id}{qs}", status_code=303)


def _prepare(call: Call) -> Response:
    """``POST /pay/{id}/prepare``: the shopper's own wallet is to pay; the unsigned
    ``pay_bill_bnpl`` for its address."""
    post = wallet_post(call)
    try:
        p = checkout_page.prepare_payment(call.ctx, call.path["id"], post.token, post.address)
    except ServiceError as exc:
        return json_error(call, exc)
    return prepared_answer(p, "pay")


def _submit_signed(call: Call) -> Response:
    """``POST /pay/{id}/submit``: the envelope the shopper's wallet signed."""
    post = wallet_post(call)
    session_id = call.path["id"]
    try:
        done = checkout_page.submit_payment(call.ctx, session_id, post.token, post.signed_xdr)
    except ServiceError as exc:
        return json_error(call, exc)
    state = checkout_page.page_state(call.ctx, session_id)
    q: PageQuery = call.query
    if q.embed is not None and q.origin is not None:
        state["redirect_url"] = f"/pay/{session_id}{Embed(q.origin).qs}"
    else:
        state["redirect_url"] = str(done["success_url"]).replace("{SESSION_ID}", session_id)
    state["bill"] = done["bill_id"]
    state["done"] = state["status"] == "complete"
    state["next"] = False
    return JSONResponse(state, headers=security_headers(None))


ROUTES = [
    page_route("GET", "/pay/{id}", _show, "showCheckoutPage", "Hosted checkout page."),
    page_route("POST", "/pay/{id}", _submit, "submitCheckoutPage", "Confirm the payment."),
    page_route(
        "POST",
        "/pay/{id}/connect",
        _connect,
        "connectCheckoutWallet",
        "Connect the shopper's wallet (self-custody merchants).",
    ),
    page_route(
        "GET",
        "/pay/{id}/state",
        _state,
        "checkoutPageState",
        "Where the hosted page stands (its own polling).",
        embeddable=False,
    ),
    page_route(
        "POST",
        "/pay/{id}/prepare",
        _prepare,
        "prepareCheckoutPayment",
        "Prepare the payment for the shopper's own wallet to sign.",
    ),
    page_route(
        "POST",
        "/pay/{id}/submit",
        _submit_signed,
        "submitCheckoutPayment",
        "Submit the payment the shopper's own wallet signed.",
    ),
]
