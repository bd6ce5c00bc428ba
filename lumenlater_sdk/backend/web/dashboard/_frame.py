"""The dashboard's frame: its templates (Jinja2, autoescaped), styles, security headers,
cookies and forms.

No script, no third-party asset: the CSP allows the page's own inline styles and
nothing else, and no site may frame it. The session cookie is HttpOnly and
SameSite=Strict (Secure when the backend's base URL is https); every form carries a
token a page of another site cannot know (:mod:`...services.dashboard_auth`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.responses import HTMLResponse, RedirectResponse

from .... import format_usdc
from ...http import Call

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "clear_cookie",
    "cookie",
    "form",
    "page",
    "pretty_json",
    "redirect",
    "set_cookie",
    "stamp",
]

SESSION_COOKIE = "ll_dashboard"
LOGIN_COOKIE = "ll_dashboard_login"
_PATH = "/dashboard"

_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def stamp(timestamp: int | None) -> str:
    """A Unix time as the dashboard shows it (UTC, to the second); blank for none."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def pretty_json(value: Any) -> str:
    """*value* as indented JSON (escaped by the template like any text)."""
    return json.dumps(value, indent=2, sort_keys=False)


_ENV = Environment(
    loader=PackageLoader("lumenlater_sdk.backend.web.dashboard", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    auto_reload=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(
    usdc=format_usdc,
    units=lambda amount: format_usdc(amount, currency=False),  # LP tokens, table columns
    stamp=stamp,
    pretty=pretty_json,
)

CSS = Markup(  # a constant
    """*{box-sizing:border-box}body{margin:0;background:#f3f4f7;color:#1f2330;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#1f2330;color:#fff;padding:.5rem 1.25rem;display:flex;flex-wrap:wrap;
align-items:center;gap:.25rem 1rem}header .brand{font-weight:700;margin-right:.5rem}
header .mode{background:#fff4ce;color:#5c4400;border-radius:.3rem;padding:0 .5rem;font-size:.85rem;
font-weight:600}header nav{display:flex;flex-wrap:wrap;gap:.1rem .2rem;flex:1}
header nav a{color:#dfe2ea;text-decoration:none;padding:.3rem .5rem;border-radius:.3rem}
header nav a[aria-current=page]{background:#3b4257;color:#fff}
header form{margin:0}header button{background:none;border:1px solid #6b7280;color:#dfe2ea;
border-radius:.3rem;padding:.2rem .6rem;font:inherit;cursor:pointer}
main{max-width:72rem;margin:1rem auto;padding:0 1.25rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #dfe2ea;border-radius:.6rem;padding:.75rem 1rem;
margin:0 0 1rem;overflow-x:auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:1rem}
.stat{font-size:1.5rem;font-weight:700}.muted{color:#555b6e;font-size:.9rem}
table{width:100%;border-collapse:collapse;font-size:.92rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #eceef3;vertical-align:top}
th{color:#555b6e;font-weight:600;font-size:.82rem;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;white-space:nowrap}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
code{overflow-wrap:anywhere}pre{background:#f6f8fc;border:1px solid #dfe2ea;border-radius:.4rem;
padding:.75rem;overflow-x:auto;margin:.25rem 0}pre.wrap{white-space:pre-wrap;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:1rem;padding:0 .55rem;font-size:.8rem;font-weight:600;
background:#eceef3;color:#1f2330}.badge.ok{background:#dcf5e7;color:#0f5132}
.badge.warn{background:#fff4ce;color:#5c4400}.badge.bad{background:#fdecec;color:#7a1a12}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.25rem;margin:0}
dl.fields dt{color:#555b6e}dl.fields dd{margin:0;overflow-wrap:anywhere}
a{color:#1d4ed8}form.inline{display:inline}
input[type=text],input[type=password]{font:inherit;padding:.45rem .6rem;border:1px solid #9aa1b1;
border-radius:.4rem;min-width:16rem;max-width:100%}
button.primary,button.secondary{font:inherit;border-radius:.4rem;padding:.4rem .9rem;cursor:pointer;
min-height:2.25rem}button.primary{background:#1d4ed8;color:#fff;border:0;font-weight:600}
button.secondary{background:#fff;color:#1d4ed8;border:1px solid #1d4ed8}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #1d4ed8;
outline-offset:2px}
.notice{background:#dcf5e7;border:1px solid #86c9a4;color:#0f5132;border-radius:.4rem;
padding:.5rem .9rem;margin:0 0 1rem}.error{background:#fdecec;border:1px solid #b42318;
color:#7a1a12;border-radius:.4rem;padding:.5rem .9rem;margin:0 0 1rem}
.login{max-width:28rem;margin:3rem auto}.login input{width:100%;margin:.25rem 0 .75rem}
.pager{display:flex;gap:1rem;margin:.5rem 0}
svg.chart{width:100%;height:auto}
svg .chart-title{font:600 13px system-ui,sans-serif;fill:#1f2330}
svg .chart-max,svg .chart-label{font:11px system-ui,sans-serif;fill:#555b6e}
@media (max-width:700px){header nav{flex-basis:100%;order:3}main{padding:0 .75rem}}"""
)


def page(
    template: str,
    *,
    title: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The dashboard page *template* in its frame."""
    context.setdefault("nav", None)
    context.setdefault("business_name", "")
    context.setdefault("form_token", "")
    context.setdefault("notice", None)
    context.setdefault("error", None)
    context.setdefault("refresh", None)
    html = _ENV.get_template(template).render(title=title, css=CSS, **context)
    return HTMLResponse(html, status_code=status, headers={**_HEADERS, **(headers or {})})


def redirect(url: str) -> RedirectResponse:
    """A 303 to *url* (a form's answer: the browser then GETs the page)."""
    return RedirectResponse(url, status_code=303, headers=_HEADERS)


def cookie(call: Call, name: str) -> str | None:
    """The request's cookie *name*, if sent."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(call.headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no cookie at all
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


def set_cookie(response: Any, call: Call, name: str, value: str, max_age: int) -> None:
    """Set an HttpOnly, SameSite=Strict cookie on the dashboard's path."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=_PATH,
        httponly=True,
        samesite="strict",
        secure=call.ctx.config.base_url.startswith("https://"),
    )


def clear_cookie(response: Any, call: Call, name: str) -> None:
    """Remove the cookie *name*."""
    response.delete_cookie(
        name,
        path=_PATH,
        httponly=True,
        samesite="strict",
        secure=call.ctx.config.base_url.startswith("https://"),
    )


def form(call: Call) -> dict[str, str]:
    """The POSTed form's fields (the last of a repeated one)."""
    return dict(parse_qsl(call.raw.decode("utf-8", "replace")))
