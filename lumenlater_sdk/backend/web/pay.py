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
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode

from pydantic import StringConstraints
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..http import Call, Query, RouteSpec
from ..services import checkout_page
from ..services.checkout_page import Row
from ..services.errors import ServiceError
from ..services.wallets import holds_key

__all__ = ["EMBED_PROTOCOL", "EMBED_PROTOCOL_VERSION", "ROUTES", "SHOPPER_WORDS", "PageQuery"]

EMBED_PROTOCOL = "lumenlater-checkout"
EMBED_PROTOCOL_VERSION = 1


class PageQuery(Query):
    """The hosted page's mode: ``?embed=1&origin=<parent origin>`` inside the widget."""

    embed: Literal["1"] | None = None
    origin: Annotated[str, StringConstraints(max_length=300)] | None = None


@dataclass(frozen=True)
class _Embed:
    """The page inside the widget's iframe on *origin* (an allowed embed origin)."""

    origin: str

    @property
    def qs(self) -> str:
        return "?" + urlencode({"embed": "1", "origin": self.origin})


def _security_headers(frame_ancestor: str | None) -> dict[str, str]:
    """Who may frame the answer (one origin, or nobody), and no sniffing or referrers."""
    headers = {
        "cache-control": "no-store",
        "content-security-policy": "frame-ancestors " + (frame_ancestor or "'none'"),
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
    }
    if frame_ancestor is None:
        headers["x-frame-options"] = "DENY"
    return headers


_CSS = """body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;
color:#1a1a2e}table{width:100%;border-collapse:collapse}td,th{padding:.3rem 0;text-align:left}
td.num,th.num{text-align:right}.error{background:#fde8e8;border:1px solid #c0392b;padding:.75rem;
border-radius:.3rem}fieldset{border:1px solid #ccd;border-radius:.3rem;margin:1rem 0}
button{font-size:1rem;padding:.6rem 1.2rem}.waiting{background:#eef3fb;border:1px solid #9db4d8;
padding:.25rem 1rem;border-radius:.3rem}.waiting h2{font-size:1.15rem}.spinner{display:inline-block;
width:.9em;height:.9em;margin-right:.5em;border:.15em solid #9db4d8;border-top-color:#1a1a2e;
border-radius:50%;animation:spin 1s linear infinite;vertical-align:-.1em}
@keyframes spin{to{transform:rotate(360deg)}}"""

# Embedded: no page margins (the merchant's page frames it), the merchant's appearance
# through CSS variables (set by the bridge from the parent's ``init``).
_EMBED_CSS = """body.embedded{max-width:none;margin:0;padding:.5rem;
background:var(--ll-bg,#fff);color:var(--ll-text,#1a1a2e);font-family:var(--ll-font,system-ui,
sans-serif);accent-color:var(--ll-accent,#1a1a2e)}
body.embedded h1{font-size:1.15rem;margin:.25rem 0 .75rem}
body.embedded h2{font-size:1rem}body.embedded button[type=submit]{background:var(--ll-accent,
#1a1a2e);color:#fff;border:0;border-radius:var(--ll-radius,.3rem);cursor:pointer;width:100%}
body.embedded button[type=submit]:focus-visible,body.embedded .cancel:focus-visible{outline:3px
solid var(--ll-accent,#1a1a2e);outline-offset:1px}body.embedded fieldset,body.embedded .error,
body.embedded .waiting{border-radius:var(--ll-radius,.3rem)}body.embedded .cancel{background:none;
border:0;padding:.5rem 0;color:inherit;text-decoration:underline;cursor:pointer;font:inherit}"""

# The embedded page's side of the widget protocol. Messages go to the parent's origin
# only and are taken from it only (and from the parent window itself).
_BRIDGE = r"""(function(){
var P=%(protocol)s,V=%(version)s,O=%(origin)s,S=%(session)s,E=%(event)s;
var root=document.documentElement,main=document.querySelector('main');
function post(type,extra){var m={protocol:P,version:V,type:type,sessionId:S};
if(extra){for(var k in extra){if(Object.prototype.hasOwnProperty.call(extra,k)){m[k]=extra[k]}}}
window.parent.postMessage(m,O)}
function size(){var cs=getComputedStyle(document.body);
post('resize',{height:Math.ceil(main.getBoundingClientRect().height+
parseFloat(cs.paddingTop)+parseFloat(cs.paddingBottom))+2})}
var HEX=/^#[0-9a-fA-F]{3,8}$/,OK={accentColor:['--ll-accent',HEX],
backgroundColor:['--ll-bg',HEX],textColor:['--ll-text',HEX],
borderRadius:['--ll-radius',/^[0-9]{1,2}(\.[0-9])?(px|rem|em)$/],
fontFamily:['--ll-font',/^[A-Za-z0-9 ,'"_-]{1,120}$/]};
function appearance(a){if(!a||typeof a!=='object'){return}for(var k in OK){
if(typeof a[k]==='string'&&OK[k][1].test(a[k])){root.style.setProperty(OK[k][0],a[k])}}size()}
window.addEventListener('message',function(ev){
if(ev.origin!==O||ev.source!==window.parent){return}
var d=ev.data;if(!d||d.protocol!==P||d.version!==V){return}
if(d.type==='init'){appearance(d.appearance)}});
var c=document.querySelector('[data-ll-cancel]');
if(c){c.addEventListener('click',function(){post('cancel')})}
if(window.ResizeObserver){new ResizeObserver(size).observe(main)}
post('ready',{step:%(step)s});size();if(E){post(E.type,E)}})();"""


def _usdc(stroops: int) -> str:
    whole, frac = divmod(stroops, 10_000_000)
    return f"{whole:,}.{frac:07d}".rstrip("0").rstrip(".") if frac else f"{whole:,}.00"


def _js(value: Any) -> str:
    """*value* as a JavaScript literal that is safe inside ``<script>``."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(
    title: str,
    body: str,
    status: int = 200,
    *,
    embed: _Embed | None = None,
    session_id: str = "",
    step: str = "",
    event: dict[str, Any] | None = None,
) -> HTMLResponse:
    style = _CSS + (_EMBED_CSS if embed else "")
    script = ""
    if embed is not None:
        script = "<script>%s</script>" % (
            _BRIDGE
            % {
                "protocol": _js(EMBED_PROTOCOL),
                "version": _js(EMBED_PROTOCOL_VERSION),
                "origin": _js(embed.origin),
                "session": _js(session_id),
                "event": _js(event),
                "step": _js(step),
            }
        )
    doc = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head>"
        f"<body{' class=embedded' if embed else ''}><main>{body}</main>{script}</body></html>"
    )
    headers = _security_headers(embed.origin if embed else None)
    return HTMLResponse(doc, status_code=status, headers=headers)


# The shopper's own wallet: ask it for its address, have the backend prepare the payment,
# ask the wallet to sign it, send the signed envelope. Freighter's API shape
# (window.freighterApi): getAddress/requestAccess/getPublicKey, signTransaction(xdr,
# {networkPassphrase}) answering a string (older) or {signedTxXdr} ({error} if refused).
_OWN_WALLET_SCRIPT = r"""(function(){
var C=%(config)s,btn=document.getElementById('own-pay'),st=document.getElementById('own-status'),
er=document.getElementById('own-error'),label=btn.textContent,M=C.messages;
function show(m){er.hidden=true;st.hidden=false;st.textContent=m;st.setAttribute('data-state',m)}
function fail(m,code){st.hidden=true;er.hidden=false;er.querySelector('p').textContent=m;
er.setAttribute('data-code',code||'');btn.disabled=false;btn.textContent=label;btn.focus()}
function walletCall(f){return Promise.resolve().then(f).then(function(v){
if(v&&typeof v==='object'&&v.error){throw{wallet:true,detail:v.error}}return v},
function(e){throw(e&&e.wallet)?e:{wallet:true,detail:e}})}
function api(url,body){return fetch(url,{method:'POST',cache:'no-store',credentials:'same-origin',
headers:{'content-type':'application/json'},body:JSON.stringify(body)}).then(function(r){
return r.json().catch(function(){return{}}).then(function(d){if(!r.ok){var e=d&&d.error||{};
throw{code:e.code||'request_failed',message:e.message||M.network}}return d})},
function(){throw{code:'network',message:M.network}})}
function field(v,k){return typeof v==='string'?v:(v&&typeof v==='object'?v[k]:null)}
function address(w){if(C.address&&typeof w.getAddress!=='function'&&
typeof w.requestAccess!=='function'&&typeof w.getPublicKey!=='function'){
return Promise.resolve(C.address)}
return walletCall(function(){return typeof w.requestAccess==='function'?w.requestAccess():
typeof w.getAddress==='function'?w.getAddress():w.getPublicKey()}).then(function(v){
var a=field(v,'address')||field(v,'publicKey');if(!a){throw{wallet:true}}return a})}
btn.addEventListener('click',function(){var w=window.freighterApi;
if(!w||typeof w.signTransaction!=='function'){fail(M.no_wallet,'no_wallet');return}
btn.disabled=true;show(M.connecting);
address(w).then(function(a){show(M.preparing);return api(C.prepare,{token:C.token,address:a})})
.then(function(p){show(M.signing);return walletCall(function(){return w.signTransaction(p.xdr,
{networkPassphrase:p.network_passphrase,address:p.address})}).then(function(v){
var x=field(v,'signedTxXdr');if(!x){throw{wallet:true}}return x})})
.then(function(x){show(M.submitting);return api(C.submit,{token:C.token,signed_xdr:x})})
.then(function(s){if(s.status==='complete'){show(M.complete);btn.hidden=true;
Array.prototype.forEach.call(document.querySelectorAll('main form'),function(f){f.hidden=true});
setTimeout(function(){location.assign(s.redirect_url)},C.redirectDelay);return}
fail(M.not_complete,'not_complete')})
.catch(function(e){if(e&&e.wallet){fail(M.rejected,'wallet_rejected')}
else{fail((e&&e.message)||M.network,e&&e.code)}})});})();"""

_OWN_WALLET_MESSAGES = {
    "no_wallet": "No Stellar wallet was found in this browser. Install a Stellar wallet"
    " extension such as Freighter, reload this page and try again, or choose another way"
    " to pay.",
    "rejected": "Your wallet did not sign the payment, so nothing was charged. You can try"
    " again or choose another way to pay.",
    "network": "The payment could not be sent (the connection failed). Nothing was charged;"
    " try again.",
    "not_complete": "The payment was sent but is not confirmed yet. Reload this page in a"
    " moment to see where it stands.",
    "connecting": "Connecting to your wallet…",
    "preparing": "Preparing your payment…",
    "signing": "Confirm the payment in your wallet…",
    "submitting": "Sending your signed payment…",
    "complete": "Payment complete. Returning to the shop…",
}

SHOPPER_WORDS = {
    "invalid_signature": "Your wallet signed with another account than the one paying this"
    " order. Nothing was charged: switch to that account in your wallet and try again.",
    "transaction_mismatch": "Your wallet signed a different transaction from the one prepared"
    " for this order. Nothing was charged: try again.",
    "transaction_expired": "The payment was not signed in time and has expired. Nothing was"
    " charged: try again.",
    "transaction_stale": "Your account was used for another transaction in the meantime."
    " Nothing was charged: try again.",
    "transaction_duplicate": "This payment was already sent once; it cannot be sent again.",
    "transaction_refused": "The network refused the payment. Nothing was charged: try again.",
    "transaction_not_prepared": "This payment was not started on this page; try again.",
    "account_not_found": "This wallet's account does not exist on the network yet: fund it"
    " first, or use another wallet.",
    "insufficient_collateral": "Your wallet does not hold enough collateral to pay later for"
    " this order. Add collateral or choose another wallet.",
    "bill_expired": "This order has expired and can no longer be paid; start again from the shop.",
    "bill_not_payable": "This order cannot be paid any more; it may be paid already.",
    "session_not_open": "This checkout is closed and cannot be paid.",
    "invalid_token": "This page has expired; reload it and try again.",
    "contract_trapped": "The payment could not be completed on the network. Nothing was"
    " charged: reload the page and try again.",
}
"""What the shopper reads for a refusal of their own wallet's payment, by API code (other
codes keep the service's message)."""


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


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
        f"<small>({esc(_short(w['address']))})</small></label></div>"
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
    """ "Pay with your Stellar wallet": the shopper's wallet signs, the page's script does
    the rest (needs JavaScript; the wallet lives in the browser)."""
    esc = html.escape
    row = view.row
    sid = str(row["id"])
    total = _usdc(int(row["amount"]))
    config = {
        "prepare": f"/pay/{sid}/prepare{qs}",
        "submit": f"/pay/{sid}/submit{qs}",
        "token": checkout_page.form_token(call.ctx, sid),
        "address": address,
        "messages": _OWN_WALLET_MESSAGES,
        "redirectDelay": 1500,
    }
    account = (
        f' <span id="own-account">Account: <small>{esc(_short(address))}</small></span>'
        if address
        else ""
    )
    return (
        f'<section id="own-wallet" aria-labelledby="own-wallet-h">'
        f'<h2 id="own-wallet-h">Pay with your Stellar wallet</h2>'
        f"<p>{lead}{account}</p>"
        f'<button type="button" id="own-pay">Pay {total} USDC with your Stellar wallet</button>'
        f'<p id="own-status" role="status" aria-live="polite" hidden></p>'
        f'<div id="own-error" class="error" role="alert" hidden><p></p></div>'
        f"<noscript><p>Paying from your own wallet needs JavaScript.</p></noscript>"
        f"</section><script>{_OWN_WALLET_SCRIPT % {'config': _js(config)}}</script>"
    )


def _self_custody_body(
    call: Call, view: checkout_page.PageView, qs: str, chosen: str | None
) -> str:
    """The form (or waiting state) of a self-custody merchant's open session."""
    esc = html.escape
    row = view.row
    sid = esc(row["id"])
    token = checkout_page.form_token(call.ctx, row["id"])
    total = _usdc(int(row["amount"]))
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
    embed: _Embed | None = None,
    event: dict[str, Any] | None = None,
    chosen: str | None = None,
) -> HTMLResponse:
    esc = html.escape
    row = view.row
    qs = embed.qs if embed else ""
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
    # Embedded, the shopper is on the shop already: "cancel" tells the widget (which calls
    # the merchant's onCancel) instead of leaving.
    cancel = (
        '<p><button type="button" class="cancel" data-ll-cancel>Cancel payment</button></p>'
        if embed
        else f'<p><a href="{esc(row["cancel_url"])}">Cancel and return to the shop</a></p>'
    )
    page = functools.partial(_page, embed=embed, session_id=str(row["id"]), step=view.step)
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
        return page(
            "Checkout closed",
            f'<h1>Pay later with LumenLater</h1>{summary}<p role="status">{msg}</p>'
            f"{'' if embed else back}",
            200 if status == 200 else status,
            event=event,
        )
    alert = f'<div class="error" role="alert"><p>{esc(error)}</p></div>' if error else ""
    if view.self_custody:
        form = _self_custody_body(call, view, qs, chosen)
        title = "Checkout: waiting" if view.step == "awaiting_authorization" else "Checkout"
        return page(
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
            f'<button type="submit">Confirm and pay {_usdc(int(row["amount"]))} USDC'
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
    return page(
        "Checkout",
        f"<h1>Pay later with LumenLater</h1>{alert}{summary}{form}{cancel}",
        status,
        event=event,
    )


def _success(row: Row) -> dict[str, Any]:
    """The widget's ``success`` message (its ``onSuccess``) for the paid session *row*."""
    return {"type": "success", "billId": row["bill_id"], "orderId": row["order_id"]}


def _not_found() -> HTMLResponse:
    return _page("Not found", "<h1>Checkout session not found</h1>", 404)


def _not_embeddable() -> HTMLResponse:
    """``?embed=1`` without an allowed origin: refused, and framed by nobody."""
    return _page(
        "Checkout cannot be embedded here",
        "<h1>This checkout cannot be embedded on this site</h1><p>The site's origin is not"
        " one of the checkout's <code>embed_origins</code>.</p>",
        403,
    )


def _embed_of(call: Call, view: checkout_page.PageView) -> _Embed | Literal[False] | None:
    """The embedded mode asked for: ``None`` (the full page), an :class:`_Embed` for an
    allowed origin, ``False`` for an origin the session does not allow."""
    q: PageQuery = call.query
    if q.embed is None:
        return None
    if q.origin is None or q.origin not in view.embed_origins:
        return False
    return _Embed(q.origin)


def _show(call: Call) -> Response:
    try:
        view = checkout_page.page_view(call.ctx, call.path["id"])
    except ServiceError:
        return _not_found()
    embed = _embed_of(call, view)
    if embed is False:
        return _not_embeddable()
    return _render(call, view, embed=embed)


def _state(call: Call) -> Response:
    return JSONResponse(
        checkout_page.page_state(call.ctx, call.path["id"]), headers=_security_headers(None)
    )


def _refused(call: Call, session_id: str, exc: ServiceError, chosen: str | None) -> Response:
    """The page again, with the refusal shown and the shopper's choice kept; the session
    stays as it was. Embedded, the widget hears it as an ``error`` (its ``onError``)."""
    try:
        view = checkout_page.page_view(call.ctx, session_id)
    except ServiceError:
        return _not_found()
    embed = _embed_of(call, view)
    if embed is False:
        return _not_embeddable()
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
        embed = _embed_of(call, view)
        if embed is False:
            return _not_embeddable()
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
    qs = _Embed(q.origin).qs if q.embed is not None and q.origin is not None else ""
    return RedirectResponse(f"/pay/{session_id}{qs}", status_code=303)


def _json_error(call: Call, exc: ServiceError) -> Response:
    """A refusal of the own-wallet flow: the code, and the message in the shopper's words."""
    code = exc.code or exc.kind
    status = {
        "chain_refused": 402,
        "not_found": 404,
        "permission": 403,
        "chain_unavailable": 503,
    }.get(exc.kind, 400)
    message = SHOPPER_WORDS.get(code, exc.message)
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers=_security_headers(None),
    )


def _json_body(call: Call) -> dict[str, Any]:
    try:
        body = json.loads(call.raw or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def _prepare(call: Call) -> Response:
    """``POST /pay/{id}/prepare``: the shopper's own wallet is to pay; the unsigned
    ``pay_bill_bnpl`` for its address."""
    body = _json_body(call)
    try:
        p = checkout_page.prepare_payment(
            call.ctx, call.path["id"], str(body.get("token", "")), str(body.get("address", ""))
        )
    except ServiceError as exc:
        return _json_error(call, exc)
    answer = {
        "object": "checkout.prepared_transaction",
        "xdr": p.xdr,
        "network_passphrase": p.network_passphrase,
        "hash": p.hash,
        "address": p.source,
        "function": p.function,
        "fee": p.fee,
        "max_time": p.max_time,
    }
    return JSONResponse(answer, headers=_security_headers(None))


def _submit_signed(call: Call) -> Response:
    """``POST /pay/{id}/submit``: the envelope the shopper's wallet signed."""
    body = _json_body(call)
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
        return _json_error(call, exc)
    state = checkout_page.page_state(call.ctx, session_id)
    q: PageQuery = call.query
    if q.embed is not None and q.origin is not None:
        state["redirect_url"] = f"/pay/{session_id}{_Embed(q.origin).qs}"
    else:
        state["redirect_url"] = str(done["success_url"]).replace("{SESSION_ID}", session_id)
    state["bill"] = done["bill_id"]
    return JSONResponse(state, headers=_security_headers(None))


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
