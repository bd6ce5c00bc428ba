"""The hosted checkout page ``/pay/{cs_id}``: plain HTML forms, no JavaScript needed.

A self-custody merchant's page has two more states: *connect* (the shopper picks a wallet,
``POST /pay/{id}/connect``) and *waiting* (the bill waits for the merchant's signature;
a small script polls ``GET /pay/{id}/state`` and reloads once that changed, and a "Check
again" link does the same without JavaScript).

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
from ..services import checkout
from ..services.checkout import Row
from ..services.errors import ServiceError

__all__ = ["EMBED_PROTOCOL", "EMBED_PROTOCOL_VERSION", "ROUTES", "PageQuery"]

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


def _self_custody_body(call: Call, view: checkout.PageView, qs: str, chosen: str | None) -> str:
    """The form (or waiting state) of a self-custody merchant's open session."""
    esc = html.escape
    row = view.row
    sid = esc(row["id"])
    token = checkout.form_token(call.ctx, row["id"])
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
    if wallet is None:
        return (
            f'<div class="error" role="alert"><p>This order is for a wallet that is not a'
            f" sandbox wallet ({esc(_short(str(row['customer'] or '')))}); it cannot be"
            f" paid on this page.</p></div>"
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
    view: checkout.PageView,
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
    token = checkout.form_token(call.ctx, row["id"])
    form = (
        f'<form method="post" action="/pay/{esc(row["id"])}{esc(qs)}">'
        f'<input type="hidden" name="token" value="{token}">'
        f"<fieldset><legend>Pay with a sandbox wallet</legend>"
        f"{_wallet_radios(view.wallets, chosen)}</fieldset>"
        f'<button type="submit">Confirm and pay {_usdc(int(row["amount"]))} USDC'
        f"</button></form>"
    )
    return page(
        "Checkout",
        f"<h1>Pay later with LumenLater</h1>{alert}{summary}{form}{cancel}",
        status,
        event=event,
    )


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


def _embed_of(call: Call, view: checkout.PageView) -> _Embed | Literal[False] | None:
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
        view = checkout.page_view(call.ctx, call.path["id"])
    except ServiceError:
        return _not_found()
    embed = _embed_of(call, view)
    if embed is False:
        return _not_embeddable()
    return _render(call, view, embed=embed)


def _state(call: Call) -> Response:
    return JSONResponse(
        checkout.page_state(call.ctx, call.path["id"]), headers=_security_headers(None)
    )


def _refused(call: Call, session_id: str, exc: ServiceError, chosen: str | None) -> Response:
    """The page again, with the refusal shown and the shopper's choice kept; the session
    stays as it was. Embedded, the widget hears it as an ``error`` (its ``onError``)."""
    try:
        view = checkout.page_view(call.ctx, session_id)
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
        done = checkout.pay_session(call.ctx, session_id, wallet, form.get("token", ""))
    except ServiceError as exc:
        return _refused(call, session_id, exc, wallet or None)
    q: PageQuery = call.query
    if q.embed is not None:
        # Embedded: show the completed state in the frame and tell the widget (onSuccess);
        # the merchant's page decides where the shopper goes next.
        view = checkout.page_view(call.ctx, session_id)
        embed = _embed_of(call, view)
        if embed is False:
            return _not_embeddable()
        event = {
            "type": "success",
            "billId": done["bill_id"],
            "orderId": done["order_id"],
        }
        return _render(call, view, embed=embed, event=event)
    target = str(done["success_url"]).replace("{SESSION_ID}", session_id)
    return RedirectResponse(target, status_code=303)


def _connect(call: Call) -> Response:
    """A self-custody merchant's page: the shopper chose a wallet; show the waiting state."""
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    session_id = call.path["id"]
    wallet = form.get("wallet", "")
    try:
        checkout.connect_wallet(call.ctx, session_id, wallet, form.get("token", ""))
    except ServiceError as exc:
        return _refused(call, session_id, exc, wallet or None)
    q: PageQuery = call.query
    qs = _Embed(q.origin).qs if q.embed is not None and q.origin is not None else ""
    return RedirectResponse(f"/pay/{session_id}{qs}", status_code=303)


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
]
