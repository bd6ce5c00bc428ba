"""The hosted pages' frame: one HTML document shape with its styles, the security
headers every answer carries, and the embedded mode (the widget's iframe) with its side
of the ``postMessage`` protocol (see :mod:`.pay`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from markupsafe import Markup
from pydantic import StringConstraints
from starlette.responses import HTMLResponse

from ..http import Call, Query, RouteSpec
from ._templates import render, script

__all__ = [
    "EMBED_PROTOCOL",
    "EMBED_PROTOCOL_VERSION",
    "Embed",
    "PageQuery",
    "embed_of",
    "message",
    "not_embeddable",
    "not_found",
    "page",
    "page_route",
    "security_headers",
]

EMBED_PROTOCOL = "lumenlater-checkout"
EMBED_PROTOCOL_VERSION = 1


class PageQuery(Query):
    """The hosted page's mode: ``?embed=1&origin=<parent origin>`` inside the widget."""

    embed: Literal["1"] | None = None
    origin: Annotated[str, StringConstraints(max_length=300)] | None = None


@dataclass(frozen=True)
class Embed:
    """The page inside the widget's iframe on *origin* (an allowed embed origin)."""

    origin: str

    @property
    def qs(self) -> str:
        return "?" + urlencode({"embed": "1", "origin": self.origin})


def security_headers(frame_ancestor: str | None) -> dict[str, str]:
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


# The page's own look: no third-party assets. Colours meet WCAG AA contrast (text 4.5:1,
# the accent's white label 6.7:1); controls are at least 44 px tall; nothing is wider
# than a 360 px screen. Embedded, the merchant's appearance sets the --ll-* variables.
CSS = Markup(  # a constant
    """*{box-sizing:border-box}
body{margin:0;background:#f3f4f7;color:var(--ll-text,#1f2330);
font:16px/1.5 var(--ll-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}
main{max-width:32rem;margin:1.5rem auto;padding:1.25rem 1.25rem 1rem;background:var(--ll-bg,#fff);
border:1px solid #dfe2ea;border-radius:var(--ll-radius,.75rem);box-shadow:0 1px 3px #0000000f}
h1{font-size:1.35rem;line-height:1.25;margin:.25rem 0 1rem}
h2{font-size:1.05rem;margin:1.25rem 0 .5rem}
.merchant{margin:0;font-weight:600;color:#555b6e;letter-spacing:.01em}
.sandbox{margin:-.25rem 0 .75rem;padding:.4rem .75rem;background:#fff4ce;color:#5c4400;
border:1px solid #e8cf7a;border-radius:.4rem;font-size:.9rem}
table{width:100%;border-collapse:collapse}td,th{padding:.35rem 0;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap;padding-left:1rem}
thead th{font-size:.85rem;color:#555b6e;font-weight:600;border-bottom:1px solid #dfe2ea}
tfoot th,tfoot td{border-top:1px solid #dfe2ea;font-weight:700;font-size:1.1rem;padding-top:.5rem}
.terms{background:#f6f8fc;border:1px solid #dfe2ea;border-radius:.5rem;padding:.25rem 1rem;
margin:1rem 0;font-size:.95rem}.terms h2{margin:.6rem 0 .25rem;font-size:1rem}
.terms ul{margin:.25rem 0 .6rem;padding-left:1.1rem}.terms li{margin:.25rem 0}
dl.terms{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem;padding:.6rem 1rem}
dl.terms dt{color:#555b6e}dl.terms dd{margin:0;font-weight:600}
fieldset{border:1px solid #dfe2ea;border-radius:.5rem;margin:1rem 0;padding:.5rem .75rem}
legend{font-weight:600;padding:0 .25rem}
.choice{display:flex;align-items:center;gap:.5rem;min-height:44px}
.choice input{width:1.15rem;height:1.15rem;margin:0;accent-color:var(--ll-accent,#1d4ed8)}
.choice label{flex:1;cursor:pointer}.choice small,#wallet small{color:#555b6e}
button{font:inherit;min-height:44px;cursor:pointer}
button.primary,.own-wallet button{display:block;width:100%;padding:.65rem 1rem;border:0;
border-radius:var(--ll-radius,.5rem);background:var(--ll-accent,#1d4ed8);color:#fff;font-weight:600}
.own-wallet button{background:#fff;color:var(--ll-accent,#1d4ed8);
border:2px solid var(--ll-accent,#1d4ed8)}
button:disabled{opacity:.6;cursor:progress}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid var(--ll-accent,#1d4ed8);
outline-offset:2px}
a{color:var(--ll-accent,#1d4ed8)}a.back{display:inline-block;padding:.6rem 0;min-height:44px}
.error{background:#fdecec;color:#7a1a12;border:1px solid #b42318;border-radius:.5rem;
padding:.1rem .9rem;margin:1rem 0}
.outcome{font-weight:600}.outcome.complete{color:#0f5132}
.waiting{background:#eef3fb;border:1px solid #9db4d8;padding:.25rem 1rem;border-radius:.5rem}
.waiting h2{font-size:1.05rem}
.spinner{display:inline-block;width:.9em;height:.9em;margin-right:.5em;
border:.15em solid #9db4d8;border-top-color:#1f2330;border-radius:50%;
animation:spin 1s linear infinite;vertical-align:-.1em}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spinner{animation:none}}
footer p{text-align:center;color:#555b6e;font-size:.85rem;margin:.5rem 1rem 1.5rem}
code{font-size:.85em;overflow-wrap:anywhere}
@media (max-width:420px){main{margin:0;border:0;border-radius:0;padding:1rem .9rem}}"""
)

# Embedded: no page margins or card (the merchant's page frames it).
EMBED_CSS = Markup(  # a constant
    """body.embedded{background:var(--ll-bg,#fff)}body.embedded main{max-width:none;margin:0;
padding:.5rem;border:0;box-shadow:none}body.embedded h1{font-size:1.15rem;margin:.25rem 0 .75rem}
body.embedded .cancel{background:none;border:0;padding:.5rem 0;color:inherit;
text-decoration:underline;font:inherit}"""
)

# The embedded page's side of the widget protocol. Messages go to the parent's origin
# only and are taken from it only (and from the parent window itself).
BRIDGE = r"""(function(){
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


def page(
    template: str,
    *,
    title: str,
    status: int = 200,
    embed: Embed | None = None,
    session_id: str = "",
    step: str = "",
    event: dict[str, Any] | None = None,
    merchant: str | None = None,
    sandbox: bool = False,
    **context: Any,
) -> HTMLResponse:
    """The hosted page *template* in its frame: the merchant's name, the sandbox banner in
    test mode, the styles, and in embedded mode the widget bridge (announcing *step*,
    then *event* if any)."""
    bridge = None
    if embed is not None:
        bridge = script(
            BRIDGE,
            protocol=EMBED_PROTOCOL,
            version=EMBED_PROTOCOL_VERSION,
            origin=embed.origin,
            session=session_id,
            event=event,
            step=step,
        )
    doc = render(
        template,
        title=title,
        css=CSS + (EMBED_CSS if embed else ""),
        embed=embed,
        bridge=bridge,
        merchant=merchant,
        sandbox=sandbox,
        step=step,
        **context,
    )
    headers = security_headers(embed.origin if embed else None)
    return HTMLResponse(doc, status_code=status, headers=headers)


def message(
    heading: str, text: str, status: int, *, back_url: str | None = None, **frame: Any
) -> HTMLResponse:
    """A page that only says something (a dead end, with the way back if known)."""
    return page(
        "message.html", title=heading, status=status, heading=heading, text=text,
        back_url=back_url, **frame,
    )  # fmt: skip


def not_found() -> HTMLResponse:
    """An unknown checkout session (nothing is known of its shop)."""
    return message(
        "Checkout session not found",
        "This checkout link is not valid. Go back to the shop and start the checkout again.",
        404,
    )


def not_embeddable() -> HTMLResponse:
    """``?embed=1`` without an allowed origin: refused, and framed by nobody."""
    return message(
        "This checkout cannot be embedded on this site",
        "The site's origin is not one of the checkout's embed_origins.",
        403,
    )


def page_route(
    method: str,
    path: str,
    handler: Callable[[Call], Any],
    operation_id: str,
    summary: str,
    *,
    embeddable: bool = True,
) -> RouteSpec:
    """A route of the hosted pages: no API key, not in the API's OpenAPI document; a
    POST hands its body to the handler unparsed (a form, or the wallet script's JSON);
    *embeddable* routes take the embedded mode's query."""
    return RouteSpec(
        method,
        path,
        handler,
        operation_id,
        summary,
        "pages",
        query=PageQuery if embeddable else None,
        auth="none",
        include_in_schema=False,
        raw_body=method == "POST",
    )


def embed_of(call: Call, allowed: list[str]) -> Embed | Literal[False] | None:
    """The embedded mode asked for: ``None`` (the full page), an :class:`Embed` for an
    allowed origin (one of *allowed*), ``False`` for another."""
    q: PageQuery = call.query
    if q.embed is None:
        return None
    if q.origin is None or q.origin not in allowed:
        return False
    return Embed(q.origin)
