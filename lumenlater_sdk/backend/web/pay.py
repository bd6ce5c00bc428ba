"""The hosted checkout page ``/pay/{cs_id}``: plain HTML forms, no JavaScript needed."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..http import Call, RouteSpec
from ..services import checkout
from ..services.checkout import Row
from ..services.errors import ServiceError

__all__ = ["ROUTES"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;
color:#1a1a2e}table{width:100%;border-collapse:collapse}td,th{padding:.3rem 0;text-align:left}
td.num,th.num{text-align:right}.error{background:#fde8e8;border:1px solid #c0392b;padding:.75rem;
border-radius:.3rem}fieldset{border:1px solid #ccd;border-radius:.3rem;margin:1rem 0}
button{font-size:1rem;padding:.6rem 1.2rem}"""


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


def _render(
    call: Call,
    row: Row,
    wallets: list[Row],
    now: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    esc = html.escape
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
    open_now = row["status"] == "open" and now < int(row["expires_at"])
    if not open_now:
        state = "paid" if row["status"] == "complete" else "expired"
        msg = f'<p role="status">This checkout session has {state}; it cannot be paid.</p>'
        return _page(
            "Checkout closed",
            f"<h1>Pay later with LumenLater</h1>{summary}{msg}{cancel}",
            200 if status == 200 else status,
        )
    alert = f'<div class="error" role="alert"><p>{esc(error)}</p></div>' if error else ""
    radios = "".join(
        f'<div><input type="radio" id="w-{esc(w["id"])}" name="wallet" value="{esc(w["id"])}"'
        f"{' checked' if i == 0 else ''} required>"
        f' <label for="w-{esc(w["id"])}">{esc(w["name"])} '
        f"<small>({esc(w['address'][:6])}…{esc(w['address'][-4:])})</small></label></div>"
        for i, w in enumerate(wallets)
    )
    token = checkout.form_token(call.ctx, row["id"])
    form = (
        f'<form method="post" action="/pay/{esc(row["id"])}">'
        f'<input type="hidden" name="token" value="{token}">'
        f"<fieldset><legend>Pay with a sandbox wallet</legend>{radios}</fieldset>"
        f'<button type="submit">Confirm and pay {_usdc(int(row["amount"]))} USDC'
        f"</button></form>"
    )
    return _page(
        "Checkout", f"<h1>Pay later with LumenLater</h1>{alert}{summary}{form}{cancel}", status
    )


def _show(call: Call) -> Response:
    try:
        row, wallets, now = checkout.session_for_page(call.ctx, call.path["id"])
    except ServiceError:
        return _page("Not found", "<h1>Checkout session not found</h1>", 404)
    return _render(call, row, wallets, now)


def _submit(call: Call) -> Response:
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    session_id = call.path["id"]
    try:
        done = checkout.pay_session(
            call.ctx, session_id, form.get("wallet", ""), form.get("token", "")
        )
    except ServiceError as exc:
        try:
            row, wallets, now = checkout.session_for_page(call.ctx, session_id)
        except ServiceError:
            return _page("Not found", "<h1>Checkout session not found</h1>", 404)
        status = 402 if exc.kind == "chain_refused" else 409 if exc.kind == "conflict" else 400
        return _render(call, row, wallets, now, error=exc.message, status=status)
    target = str(done["success_url"]).replace("{SESSION_ID}", session_id)
    return RedirectResponse(target, status_code=303)


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
]
