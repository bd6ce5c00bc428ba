"""The hosted pages' frame: one HTML document shape with its styles, the security
headers every answer carries, and the embedded mode (the widget's iframe) with its side
of the ``postMessage`` protocol (see :mod:`.pay`)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from pydantic import StringConstraints
from starlette.responses import HTMLResponse

from ..http import Call, Query

__all__ = [
    "EMBED_PROTOCOL",
    "EMBED_PROTOCOL_VERSION",
    "Embed",
    "PageQuery",
    "embed_of",
    "js_literal",
    "not_embeddable",
    "not_found",
    "page",
    "security_headers",
    "usdc_text",
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


CSS = """body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;
color:#1a1a2e}table{width:100%;border-collapse:collapse}td,th{padding:.3rem 0;text-align:left}
td.num,th.num{text-align:right}.error{background:#fde8e8;border:1px solid #c0392b;padding:.75rem;
border-radius:.3rem}fieldset{border:1px solid #ccd;border-radius:.3rem;margin:1rem 0}
button{font-size:1rem;padding:.6rem 1.2rem}.waiting{background:#eef3fb;border:1px solid #9db4d8;
padding:.25rem 1rem;border-radius:.3rem}.waiting h2{font-size:1.15rem}.spinner{display:inline-block;
width:.9em;height:.9em;margin-right:.5em;border:.15em solid #9db4d8;border-top-color:#1a1a2e;
border-radius:50%;animation:spin 1s linear infinite;vertical-align:-.1em}
@keyframes spin{to{transform:rotate(360deg)}}
dl.terms{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dl.terms dt{color:#4a4a68}
dl.terms dd{margin:0}"""

# Embedded: no page margins (the merchant's page frames it), the merchant's appearance
# through CSS variables (set by the bridge from the parent's ``init``).
EMBED_CSS = """body.embedded{max-width:none;margin:0;padding:.5rem;
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


def usdc_text(stroops: int) -> str:
    whole, frac = divmod(stroops, 10_000_000)
    return f"{whole:,}.{frac:07d}".rstrip("0").rstrip(".") if frac else f"{whole:,}.00"


def js_literal(value: Any) -> str:
    """*value* as a JavaScript literal that is safe inside ``<script>``."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(
    title: str,
    body: str,
    status: int = 200,
    *,
    embed: Embed | None = None,
    session_id: str = "",
    step: str = "",
    event: dict[str, Any] | None = None,
) -> HTMLResponse:
    style = CSS + (EMBED_CSS if embed else "")
    script = ""
    if embed is not None:
        script = "<script>%s</script>" % (
            BRIDGE
            % {
                "protocol": js_literal(EMBED_PROTOCOL),
                "version": js_literal(EMBED_PROTOCOL_VERSION),
                "origin": js_literal(embed.origin),
                "session": js_literal(session_id),
                "event": js_literal(event),
                "step": js_literal(step),
            }
        )
    doc = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head>"
        f"<body{' class=embedded' if embed else ''}><main>{body}</main>{script}</body></html>"
    )
    headers = security_headers(embed.origin if embed else None)
    return HTMLResponse(doc, status_code=status, headers=headers)


def not_found() -> HTMLResponse:
    return page("Not found", "<h1>Checkout session not found</h1>", 404)


def not_embeddable() -> HTMLResponse:
    """``?embed=1`` without an allowed origin: refused, and framed by nobody."""
    return page(
        "Checkout cannot be embedded here",
        "<h1>This checkout cannot be embedded on this site</h1><p>The site's origin is not"
        " one of the checkout's <code>embed_origins</code>.</p>",
        403,
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
