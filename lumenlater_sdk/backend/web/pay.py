"""The hosted checkout page ``/pay/{cs_id}``: plain HTML forms, no JavaScript needed.

A self-custody merchant's page has two more states: *connect* (the shopper picks a wallet,
``POST /pay/{id}/connect``) and *waiting* (the bill waits for the merchant's signature;
a small script polls ``GET /pay/{id}/state`` and reloads once that changed, and a "Check
again" link does the same without JavaScript)."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..http import Call, RouteSpec
from ..services import checkout
from ..services.checkout import Row
from ..services.errors import ServiceError

__all__ = ["ROUTES"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;
color:#1a1a2e}table{width:100%;border-collapse:collapse}td,th{padding:.3rem 0;text-align:left}
td.num,th.num{text-align:right}.error{background:#fde8e8;border:1px solid #c0392b;padding:.75rem;
border-radius:.3rem}fieldset{border:1px solid #ccd;border-radius:.3rem;margin:1rem 0}
button{font-size:1rem;padding:.6rem 1.2rem}.waiting{background:#eef3fb;border:1px solid #9db4d8;
padding:.25rem 1rem;border-radius:.3rem}.waiting h2{font-size:1.15rem}.spinner{display:inline-block;
width:.9em;height:.9em;margin-right:.5em;border:.15em solid #9db4d8;border-top-color:#1a1a2e;
border-radius:50%;animation:spin 1s linear infinite;vertical-align:-.1em}
@keyframes spin{to{transform:rotate(360deg)}}"""


def _usdc(stroops: int) -> str:
    whole, frac = divmod(stroops, 10_000_000)
    return f"{whole:,}.{frac:07d}".rstrip("0").rstrip(".") if frac else f"{whole:,}.00"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers={"cache-control": "no-store"})


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def _wallet_radios(wallets: list[Row]) -> str:
    esc = html.escape
    return "".join(
        f'<div><input type="radio" id="w-{esc(w["id"])}" name="wallet" value="{esc(w["id"])}"'
        f"{' checked' if i == 0 else ''} required>"
        f' <label for="w-{esc(w["id"])}">{esc(w["name"])} '
        f"<small>({esc(_short(w['address']))})</small></label></div>"
        for i, w in enumerate(wallets)
    )


# The waiting state polls the page's own state and reloads when it changes: the merchant's
# server signs the bill (usually within seconds of the webhook); nothing to click.
_WAIT_SCRIPT = """(function(){var url=%s,since=Date.now(),slow=document.getElementById('slow');
function poll(){fetch(url,{cache:'no-store'}).then(function(r){return r.ok?r.json():null})
.then(function(s){if(s&&s.step!=='awaiting_authorization'){location.reload();return}
if(Date.now()-since>60000&&slow){slow.hidden=false}setTimeout(poll,1500)})
.catch(function(){setTimeout(poll,3000)})}setTimeout(poll,1500)})();"""


def _self_custody_body(call: Call, view: checkout.PageView) -> str:
    """The form (or waiting state) of a self-custody merchant's open session."""
    esc = html.escape
    row = view.row
    sid = esc(row["id"])
    token = checkout.form_token(call.ctx, row["id"])
    total = _usdc(int(row["amount"]))
    merchant = esc(view.business_name or "The merchant")
    if view.step == "connect":
        return (
            f'<form method="post" action="/pay/{sid}/connect">'
            f'<input type="hidden" name="token" value="{token}">'
            f"<fieldset><legend>Connect a sandbox wallet</legend>"
            f"{_wallet_radios(view.wallets)}</fieldset>"
            f"<p>{merchant} confirms your order with its own key once your wallet is"
            f" connected; then you pay.</p>"
            f'<button type="submit">Connect wallet</button></form>'
        )
    wallet = view.customer_wallet
    who = (
        f"{esc(wallet['name'])} <small>({esc(_short(wallet['address']))})</small>"
        if wallet is not None
        else f"<small>{esc(_short(str(row['customer'] or '')))}</small>"
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
            f'<p><a href="/pay/{sid}">Check again</a></p></section>'
            f"<script>{_WAIT_SCRIPT % state_url}</script>"
        )
    if wallet is None:
        return (
            f'<div class="error" role="alert"><p>This order is for a wallet that is not a'
            f" sandbox wallet ({esc(_short(str(row['customer'] or '')))}); it cannot be"
            f" paid on this page.</p></div>"
        )
    return (
        f'<form method="post" action="/pay/{sid}">'
        f'<input type="hidden" name="token" value="{token}">'
        f"<fieldset><legend>Pay with your connected wallet</legend>{connected}"
        f"<p>{merchant} has confirmed your order.</p></fieldset>"
        f'<button type="submit">Confirm and pay {total} USDC</button></form>'
    )


def _render(
    call: Call,
    view: checkout.PageView,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    esc = html.escape
    row = view.row
    items: list[dict[str, Any]] = json.loads(row["line_items"])
    lines = "".join(
        f"<tr><td>{esc(i['name'])} × {int(i['quantity'])}</td>"
        f"<td class=num>{_usdc(int(i['quantity']) * int(i['unit_amount']))} USDC</td></tr>"
        for i in items
    ) or (
        f"<tr><td>{esc(row['description'] or row['order_id'] or 'Order')}</td>"
        f"<td class=num>{_usdc(int(row['amount']))} USDC</td></tr>"
    )
    summary = (
        f'<section aria-labelledby="summary"><h2 id="summary">Order summary</h2>'
        f"<table><thead><tr><th scope=col>Item</th><th scope=col class=num>Amount</th>"
        f"</tr></thead><tbody>{lines}</tbody><tfoot><tr><th scope=row>Total</th>"
        f'<td class=num id="total">{_usdc(int(row["amount"]))} USDC</td></tr></tfoot>'
        f"</table></section>"
    )
    cancel = f'<p><a href="{esc(row["cancel_url"])}">Cancel and return to the shop</a></p>'
    if view.step in ("complete", "expired"):
        # A closed session: say what happened and lead back to the shop, never to a
        # "cancel" of something already paid.
        if view.step == "complete":
            msg = "Payment complete: this order is paid and cannot be paid again."
            back = f'<p><a href="{esc(row["success_url"])}">Return to the shop</a></p>'
        else:
            msg = "This checkout has expired and cannot be paid; start again from the shop."
            back = f'<p><a href="{esc(row["cancel_url"])}">Return to the shop</a></p>'
        return _page(
            "Checkout closed",
            f'<h1>Pay later with LumenLater</h1>{summary}<p role="status">{msg}</p>{back}',
            200 if status == 200 else status,
        )
    alert = f'<div class="error" role="alert"><p>{esc(error)}</p></div>' if error else ""
    if view.self_custody:
        form = _self_custody_body(call, view)
        title = "Checkout: waiting" if view.step == "awaiting_authorization" else "Checkout"
        return _page(
            title, f"<h1>Pay later with LumenLater</h1>{alert}{summary}{form}{cancel}", status
        )
    token = checkout.form_token(call.ctx, row["id"])
    form = (
        f'<form method="post" action="/pay/{esc(row["id"])}">'
        f'<input type="hidden" name="token" value="{token}">'
        f"<fieldset><legend>Pay with a sandbox wallet</legend>"
        f"{_wallet_radios(view.wallets)}</fieldset>"
        f'<button type="submit">Confirm and pay {_usdc(int(row["amount"]))} USDC'
        f"</button></form>"
    )
    return _page(
        "Checkout", f"<h1>Pay later with LumenLater</h1>{alert}{summary}{form}{cancel}", status
    )


def _not_found() -> HTMLResponse:
    return _page("Not found", "<h1>Checkout session not found</h1>", 404)


def _show(call: Call) -> Response:
    try:
        view = checkout.page_view(call.ctx, call.path["id"])
    except ServiceError:
        return _not_found()
    return _render(call, view)


def _state(call: Call) -> Response:
    return JSONResponse(
        checkout.page_state(call.ctx, call.path["id"]), headers={"cache-control": "no-store"}
    )


def _refused(call: Call, session_id: str, exc: ServiceError) -> Response:
    """The page again, with the refusal shown; the session stays as it was."""
    try:
        view = checkout.page_view(call.ctx, session_id)
    except ServiceError:
        return _not_found()
    status = 402 if exc.kind == "chain_refused" else 409 if exc.kind == "conflict" else 400
    return _render(call, view, error=exc.message, status=status)


def _submit(call: Call) -> Response:
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    session_id = call.path["id"]
    try:
        done = checkout.pay_session(
            call.ctx, session_id, form.get("wallet", ""), form.get("token", "")
        )
    except ServiceError as exc:
        return _refused(call, session_id, exc)
    target = str(done["success_url"]).replace("{SESSION_ID}", session_id)
    return RedirectResponse(target, status_code=303)


def _connect(call: Call) -> Response:
    """A self-custody merchant's page: the shopper chose a wallet; show the waiting state."""
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    session_id = call.path["id"]
    try:
        checkout.connect_wallet(call.ctx, session_id, form.get("wallet", ""), form.get("token", ""))
    except ServiceError as exc:
        return _refused(call, session_id, exc)
    return RedirectResponse(f"/pay/{session_id}", status_code=303)


ROUTES = [
    RouteSpec(
        "GET",
        "/pay/{id}",
        _show,
        "showCheckoutPage",
        "Hosted checkout page.",
        "pages",
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
]
