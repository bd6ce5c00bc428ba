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

import functools
import html
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..http import Call, RouteSpec
from ..services import checkout_page
from ..services.checkout_page import Row
from ..services.errors import ServiceError
from ..services.wallets import holds_key
from . import loan
from ._own_wallet import (
    PAY_MESSAGES,
    SHOPPER_WORDS,
    json_body,
    json_error,
    prepared_answer,
    short_address,
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
    security_headers,
    usdc_text,
)

__all__ = ["EMBED_PROTOCOL", "EMBED_PROTOCOL_VERSION", "ROUTES", "SHOPPER_WORDS", "PageQuery"]


def _wallet_radios(wallets: list[Row], chosen: str | None = None) -> str:
    """The sandbox wallets, *chosen* (a wallet id, as the form sent it) checked, else the
    first."""
    esc = html.escape
    if not any(w["id"] == chosen for w in wallets):
        chosen = wallets[0]["id"] if wallets else None
    return "".join(
        f'<div><input type="radio" id="w-{esc(w["id"])}" name="wallet" value="{esc(w["id"])}"'
        f"{' checked' if w['id'] == chosen else ''} required>"
        f' <label for="w-{esc(w["id"])}">{esc(w["name"])} '
        f"<small>({esc(short_address(w['address']))})</small></label></div>"
        for w in wallets
    )


# The waiting state polls the page's own state and reloads when it changes: the merchant's
# server signs the bill (usually within seconds of the webhook); nothing to click.
_WAIT_SCRIPT = """(function(){var url=%s,since=Date.now(),slow=document.getElementById('slow');
function poll(){fetch(url,{cache:'no-store'}).then(function(r){return r.ok?r.json():null})
.then(function(s){if(s&&s.step!=='awaiting_authorization'){location.reload();return}
if(Date.now()-since>60000&&slow){slow.hidden=false}setTimeout(poll,1500)})
.catch(function(){setTimeout(poll,3000)})}setTimeout(poll,1500)})();"""


def _own_wallet_section(
    call: Call, view: checkout_page.PageView, qs: str, *, address: str | None, lead: str
) -> str:
    """ "Pay with your Stellar wallet": the shopper's wallet signs ``pay_bill_bnpl``."""
    sid = str(view.row["id"])
    return wallet_section(
        name="own",
        heading="Pay with your Stellar wallet",
        lead=lead,
        button=f"Pay {usdc_text(int(view.row['amount']))} USDC with your Stellar wallet",
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


def _self_custody_body(
    call: Call, view: checkout_page.PageView, qs: str, chosen: str | None
) -> str:
    """The form (or waiting state) of a self-custody merchant's open session."""
    esc = html.escape
    row = view.row
    sid = esc(row["id"])
    token = checkout_page.form_token(call.ctx, row["id"])
    total = usdc_text(int(row["amount"]))
    merchant = esc(view.business_name or "The merchant")
    if view.step == "connect":
        return (
            f'<form method="post" action="/pay/{sid}/connect{esc(qs)}">'
            f'<input type="hidden" name="token" value="{token}">'
            f"<fieldset><legend>Connect a sandbox wallet</legend>"
            f"{_wallet_radios(view.wallets, chosen)}</fieldset>"
            f"<p>{merchant} confirms your order with its own key once your wallet is"
            f" connected; then you pay.</p>"
            f'<button type="submit">Connect wallet</button></form>'
        )
    wallet = view.customer_wallet
    who = (
        f"{esc(wallet['name'])} <small>({esc(short_address(wallet['address']))})</small>"
        if wallet is not None
        else f"<small>{esc(short_address(str(row['customer'] or '')))}</small>"
    )
    connected = f'<p id="wallet">Wallet: {who}</p>'
    if view.step == "awaiting_authorization":
        state_url = json.dumps(f"/pay/{row['id']}/state")
        return (
            f'<section class="waiting" role="status" aria-live="polite">'
            f'<h2><span class="spinner" aria-hidden="true"></span>'
            f"Waiting for {merchant} to confirm your order</h2>"
            f"{connected}<p>The merchant signs your order with its own key. This page"
            f" continues to the payment by itself as soon as it has; this usually takes a"
            f" few seconds.</p>"
            f'<p id="slow" hidden>This is taking longer than usual. You can keep this page'
            f" open, or return to the shop and try again later.</p>"
            f'<p><a href="/pay/{sid}{esc(qs)}">Check again</a></p></section>'
            f"<script>{_WAIT_SCRIPT % state_url}</script>"
        )
    if wallet is None or view.own_wallet:
        return _own_wallet_section(
            call,
            view,
            qs,
            address=str(row["customer"]),
            lead=f"{merchant} has confirmed your order. Your wallet signs the payment;"
            " LumenLater never sees its key.",
        )
    return (
        f'<form method="post" action="/pay/{sid}{esc(qs)}">'
        f'<input type="hidden" name="token" value="{token}">'
        f"<fieldset><legend>Pay with your connected wallet</legend>{connected}"
        f"<p>{merchant} has confirmed your order.</p></fieldset>"
        f'<button type="submit">Confirm and pay {total} USDC</button></form>'
    )


def _render(
    call: Call,
    view: checkout_page.PageView,
    *,
    error: str | None = None,
    status: int = 200,
    embed: Embed | None = None,
    event: dict[str, Any] | None = None,
    chosen: str | None = None,
) -> HTMLResponse:
    esc = html.escape
    row = view.row
    qs = embed.qs if embed else ""
    items: list[dict[str, Any]] = json.loads(row["line_items"])
    lines = "".join(
        f"<tr><td>{esc(i['name'])} × {int(i['quantity'])}</td>"
        f"<td class=num>{usdc_text(int(i['quantity']) * int(i['unit_amount']))} USDC</td></tr>"
        for i in items
    ) or (
        f"<tr><td>{esc(row['description'] or row['order_id'] or 'Order')}</td>"
        f"<td class=num>{usdc_text(int(row['amount']))} USDC</td></tr>"
    )
    summary = (
        f'<section aria-labelledby="summary"><h2 id="summary">Order summary</h2>'
        f"<table><thead><tr><th scope=col>Item</th><th scope=col class=num>Amount</th>"
        f"</tr></thead><tbody>{lines}</tbody><tfoot><tr><th scope=row>Total</th>"
        f'<td class=num id="total">{usdc_text(int(row["amount"]))} USDC</td></tr></tfoot>'
        f"</table></section>"
    )
    # Embedded, the shopper is on the shop already: "cancel" tells the widget (which calls
    # the merchant's onCancel) instead of leaving.
    cancel = (
        '<p><button type="button" class="cancel" data-ll-cancel>Cancel payment</button></p>'
        if embed
        else f'<p><a href="{esc(row["cancel_url"])}">Cancel and return to the shop</a></p>'
    )
    frame = functools.partial(page, embed=embed, session_id=str(row["id"]), step=view.step)
    if view.step in ("complete", "expired"):
        # A closed session: say what happened and lead back to the shop, never to a
        # "cancel" of something already paid.
        if view.step == "complete":
            msg = "Payment complete: this order is paid and cannot be paid again."
            back = f'<p><a href="{esc(row["success_url"])}">Return to the shop</a></p>'
            if embed and event is None:
                # Paid from the shopper's own wallet, the page's script comes back here:
                # the widget hears the success now (the merchant confirms it server-side).
                event = _success(row)
        else:
            msg = "This checkout has expired and cannot be paid; start again from the shop."
            back = f'<p><a href="{esc(row["cancel_url"])}">Return to the shop</a></p>'
            if embed and event is None:
                event = {"type": "error", "code": "session_expired", "message": msg}
        loan_html = loan.loan_section(call, str(row["id"]), qs) if view.step == "complete" else ""
        return frame(
            "Checkout closed",
            f'<h1>Pay later with LumenLater</h1>{summary}<p role="status">{msg}</p>'
            f"{loan_html}{'' if embed else back}",
            200 if status == 200 else status,
            event=event,
        )
    alert = f'<div class="error" role="alert"><p>{esc(error)}</p></div>' if error else ""
    if view.self_custody:
        form = _self_custody_body(call, view, qs, chosen)
        title = "Checkout: waiting" if view.step == "awaiting_authorization" else "Checkout"
        return frame(
            title,
            f"<h1>Pay later with LumenLater</h1>{alert}{summary}{form}{cancel}",
            status,
            event=event,
        )
    token = checkout_page.form_token(call.ctx, row["id"])
    # A session its merchant pinned to a customer offers that wallet only.
    held = [
        w
        for w in view.wallets
        if holds_key(w) and (not row["customer"] or w["address"] == row["customer"])
    ]
    if view.own_wallet:
        # The shopper's own wallet has its bill already: that wallet pays it.
        form = ""
    else:
        form = (
            f'<form method="post" action="/pay/{esc(row["id"])}{esc(qs)}">'
            f'<input type="hidden" name="token" value="{token}">'
            f"<fieldset><legend>Pay with a sandbox wallet</legend>"
            f"{_wallet_radios(held, chosen)}</fieldset>"
            f'<button type="submit">Confirm and pay {usdc_text(int(row["amount"]))} USDC'
            f"</button></form>"
        )
    form += _own_wallet_section(
        call,
        view,
        qs,
        address=str(row["customer"]) if view.own_wallet else None,
        lead="Or pay from a wallet of your own: your wallet signs the payment; LumenLater"
        " never sees its key."
        if form
        else "Your wallet signs the payment; LumenLater never sees its key.",
    )
    return frame(
        "Checkout",
        f"<h1>Pay later with LumenLater</h1>{alert}{summary}{form}{cancel}",
        status,
        event=event,
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
    event = {"type": "error", "code": exc.code or exc.kind, "message": exc.message}
    return _render(
        call, view, error=exc.message, status=status, embed=embed, event=event, chosen=chosen
    )


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
    body = json_body(call)
    try:
        p = checkout_page.prepare_payment(
            call.ctx, call.path["id"], str(body.get("token", "")), str(body.get("address", ""))
        )
    except ServiceError as exc:
        return json_error(exc)
    return prepared_answer(p, "pay")


def _submit_signed(call: Call) -> Response:
    """``POST /pay/{id}/submit``: the envelope the shopper's wallet signed."""
    body = json_body(call)
    session_id = call.path["id"]
    signed = body.get("signed_xdr")
    try:
        done = checkout_page.submit_payment(
            call.ctx,
            session_id,
            str(body.get("token", "")),
            signed if isinstance(signed, str) else "",
        )
    except ServiceError as exc:
        return json_error(exc)
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
    RouteSpec(
        "GET",
        "/pay/{id}",
        _show,
        "showCheckoutPage",
        "Hosted checkout page.",
        "pages",
        query=PageQuery,
        auth="none",
        include_in_schema=False,
    ),
    RouteSpec(
        "POST",
        "/pay/{id}",
        _submit,
        "submitCheckoutPage",
        "Confirm the payment.",
        "pages",
        query=PageQuery,
        auth="none",
        include_in_schema=False,
        raw_body=True,
    ),
    RouteSpec(
        "POST",
        "/pay/{id}/connect",
        _connect,
        "connectCheckoutWallet",
        "Connect the shopper's wallet (self-custody merchants).",
        "pages",
        query=PageQuery,
        auth="none",
        include_in_schema=False,
        raw_body=True,
    ),
    RouteSpec(
        "GET",
        "/pay/{id}/state",
        _state,
        "checkoutPageState",
        "Where the hosted page stands (its own polling).",
        "pages",
        auth="none",
        include_in_schema=False,
    ),
    RouteSpec(
        "POST",
        "/pay/{id}/prepare",
        _prepare,
        "prepareCheckoutPayment",
        "Prepare the payment for the shopper's own wallet to sign.",
        "pages",
        query=PageQuery,
        auth="none",
        include_in_schema=False,
        raw_body=True,
    ),
    RouteSpec(
        "POST",
        "/pay/{id}/submit",
        _submit_signed,
        "submitCheckoutPayment",
        "Submit the payment the shopper's own wallet signed.",
        "pages",
        query=PageQuery,
        auth="none",
        include_in_schema=False,
        raw_body=True,
    ),
]
