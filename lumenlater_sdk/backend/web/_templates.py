"""The hosted pages' templates (``web/templates``): Jinja2 with autoescaping on for
everything, so a merchant's name, a line item or an order id can never become markup.

Only values built here are marked safe: the page's own styles and scripts (constants)
with their data written as JavaScript literals by :func:`js_literal`, which escapes
``<``, ``>`` and ``&`` so no string can close a ``<script>``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ... import format_usdc

__all__ = ["js_literal", "percent", "render", "script", "short_address"]


def short_address(address: str) -> str:
    """``GABCDE…WXYZ``: enough of a Stellar address for a shopper to recognise it."""
    return f"{address[:6]}…{address[-4:]}"


def _date(timestamp: int) -> str:
    """Ledger time as a shopper reads a date (UTC, said so)."""
    return datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%-d %B %Y, %H:%M UTC")


def percent(scaled: int) -> str:
    """A protocol rate (scaled by 10^7) as a shopper reads it: ``3_000_000`` → ``30 %``."""
    return f"{scaled / 100_000:g} %"


def js_literal(value: Any) -> str:
    """*value* as a JavaScript literal that is safe inside ``<script>``."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script(source: str, **values: Any) -> Markup:
    """The page script *source* (a constant with ``%(name)s`` slots) with *values* written
    into it as JavaScript literals, ready for a ``<script>`` element."""
    return Markup(source % {k: js_literal(v) for k, v in values.items()})


_ENV = Environment(
    loader=PackageLoader("lumenlater_sdk.backend.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    # Package data that never changes while the server runs: no stat() per render.
    auto_reload=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(usdc=format_usdc, date=_date, short=short_address)


def render(name: str, **context: Any) -> str:
    """The template *name* rendered with *context*."""
    return _ENV.get_template(name).render(**context)
