"""The dashboard's forms (POST): each checks the session and the form's token, calls a
service for the signed-in merchant, and redirects back (303) with a notice."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.responses import Response

from ...http import Call
from ...services import api_keys, webhook_endpoints
from ...services import clock as clock_service
from ...services.errors import NotFound, ServiceError
from ._auth import with_form
from ._frame import page, redirect
from .pages import clock_page, keys

__all__ = ["advance_clock", "parse_duration", "resend_event", "reveal_keys", "roll_key"]

ROLL_GRACE = {"0": 0, "3600": 3600, "86400": 86_400}
"""How long a rolled key may keep working beside its successor: the form's choices."""

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"^\s*(\d{1,10})\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> int | None:
    """``20d``, ``3h``, ``90m``, ``45s`` or bare seconds as seconds; ``None`` if it is
    none of those."""
    match = _DURATION.match(text)
    if match is None:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def advance_clock(call: Call) -> Response:
    """``POST /dashboard/clock/advance`` (``duration``)."""
    checked = with_form(call)
    if isinstance(checked, Response):
        return checked
    who, fields = checked
    seconds = parse_duration(fields.get("duration", ""))
    if seconds is None or seconds <= 0:
        return clock_page(
            call, error="Give a duration such as 20d, 3h, 90m or 3600 (seconds).", status=400
        )
    try:
        clock_service.advance(call.ctx, seconds, who.merchant_id)
    except ServiceError as exc:
        return clock_page(call, error=exc.message, status=400)
    return redirect("/dashboard/clock?done=advanced")


def resend_event(call: Call) -> Response:
    """``POST /dashboard/events/{id}/resend`` (optional ``endpoint``; ``back``: return to
    the endpoint's page rather than the event's)."""
    checked = with_form(call)
    if isinstance(checked, Response):
        return checked
    who, fields = checked
    event_id = call.path["id"]
    endpoint = fields.get("endpoint") or None
    try:
        webhook_endpoints.resend_event(call.ctx, who.merchant_id, event_id, endpoint=endpoint)
    except NotFound:
        return page(
            "message.html",
            title="Not found",
            status=404,
            heading="No such event",
            text="This account has no such event or webhook endpoint.",
            **who.frame("events"),
        )
    except ServiceError as exc:
        return page(
            "message.html",
            title="Not resent",
            status=400,
            heading="The event was not resent",
            text=exc.message,
            **who.frame("events"),
        )
    if fields.get("back") == "endpoint" and endpoint:
        return redirect(f"/dashboard/webhooks/{quote(endpoint, safe='')}?done=resent")
    return redirect(f"/dashboard/events/{quote(event_id, safe='')}?done=resent")


def reveal_keys(call: Call) -> Response:
    """``POST /dashboard/keys/reveal``: the keys page with each test key shown again
    (a POST, so a key never sits in a URL or the history)."""
    checked = with_form(call)
    if isinstance(checked, Response):
        return checked
    return keys(call, reveal=True)


def roll_key(call: Call) -> Response:
    """``POST /dashboard/keys/{id}/roll`` (``expires_in``: 0, 3600 or 86400 seconds): a
    new key replaces the key; the page shows the new one once."""
    checked = with_form(call)
    if isinstance(checked, Response):
        return checked
    who, fields = checked
    grace = ROLL_GRACE.get(fields.get("expires_in", "0"))
    if grace is None:
        return keys(call, error="Choose how long the old key keeps working.", status=400)
    try:
        new = api_keys.roll_key(call.ctx, who.merchant_id, call.path["id"], expires_in=grace)
    except NotFound:
        return keys(call, error="This account has no such key.", status=404)
    except ServiceError as exc:
        return keys(call, error=exc.message, status=400)
    return keys(call, new_key=new)
