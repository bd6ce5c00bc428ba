"""Signing in and out of the dashboard, and the check every page and form makes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from ...http import Call, Limit, MemoryBuckets
from ...services import dashboard_auth, merchants
from ...services.errors import ServiceError
from ._frame import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    cookie,
    form,
    page,
    redirect,
    set_cookie,
)

__all__ = [
    "SignInGuard",
    "Signed",
    "link",
    "login_form",
    "login_submit",
    "logout",
    "signed_in",
    "to_login",
    "with_form",
]

_LOGIN_SECONDS = 3600


class SignInGuard:
    """Failed sign-ins (a wrong key, a used or unknown link) per client address, limited
    like the API's failed keys: *burst* tries, then one more each 1/*rate* seconds. Kept
    in this process's memory, one guard per app."""

    def __init__(self, rate: float = 0.2, burst: int = 10) -> None:
        self.limit = Limit("dashboard-sign-in", rate, burst)
        self._buckets = MemoryBuckets()

    def may_try(self, client: str) -> bool:
        """Whether *client* has a failed try left."""
        return self._buckets.decide(self.limit, client, take=False).allowed

    def failed(self, client: str) -> None:
        """Count a failed try of *client*."""
        self._buckets.decide(self.limit, client, take=True)


_THROTTLED = "Too many failed sign-ins from this address; wait a minute and try again."


@dataclass(frozen=True)
class Signed:
    """A signed-in request: the merchant, its name, and the token its forms carry."""

    merchant_id: str
    business_name: str
    form_token: str

    def frame(self, nav: str) -> dict[str, Any]:
        """What the frame shows of the merchant, with *nav* marked current."""
        return {"nav": nav, "business_name": self.business_name, "form_token": self.form_token}


def signed_in(call: Call) -> Signed | None:
    """The signed-in merchant, or ``None`` (the page then answers :func:`to_login`)."""
    session = cookie(call, SESSION_COOKIE)
    merchant_id = dashboard_auth.session_merchant(call.ctx, session)
    if merchant_id is None or session is None:
        return None
    try:
        name = merchants.account(call.ctx, merchant_id)["business_name"]
    except ServiceError:  # a session of a merchant that is gone
        return None
    return Signed(merchant_id, str(name), dashboard_auth.form_token(call.ctx, session))


def to_login() -> Response:
    """Where a request without a session goes."""
    return redirect("/dashboard/login")


def with_form(call: Call) -> tuple[Signed, dict[str, str]] | Response:
    """A signed-in POST's fields, or the answer that refuses it: the sign-in page without
    a session, 403 without the form's token (a request another site made)."""
    who = signed_in(call)
    if who is None:
        return to_login()
    fields = form(call)
    session = cookie(call, SESSION_COOKIE)
    if not dashboard_auth.valid_form_token(call.ctx, session, fields.get("form_token")):
        return page(
            "message.html",
            title="Form expired",
            status=403,
            heading="This form could not be accepted",
            text="Its security token is missing or stale. Go back, reload the page and try again.",
            **who.frame(""),
        )
    return who, fields


def login_form(call: Call, *, error: str | None = None, status: int = 200) -> Response:
    """``GET /dashboard/login``: the sign-in form (and a fresh sign-in cookie its token
    is bound to)."""
    if error is None and signed_in(call) is not None:
        return redirect("/dashboard")
    anchor = secrets.token_urlsafe(24)
    response = page(
        "login.html",
        title="Sign in",
        status=status,
        login_token=dashboard_auth.form_token(call.ctx, anchor),
        error=error,
    )
    set_cookie(response, call, LOGIN_COOKIE, anchor, _LOGIN_SECONDS)
    return response


def login_submit(call: Call, *, guard: SignInGuard) -> Response:
    """``POST /dashboard/login``: a test secret key starts a session (429 once *guard*
    counted too many failures from the caller's address)."""
    fields = form(call)
    anchor = cookie(call, LOGIN_COOKIE)
    if not dashboard_auth.valid_form_token(call.ctx, anchor, fields.get("form_token")):
        return login_form(call, error="The sign-in form expired; try again.", status=403)
    if not guard.may_try(call.client):
        return login_form(call, error=_THROTTLED, status=429)
    try:
        session = dashboard_auth.sign_in_with_key(call.ctx, fields.get("api_key", ""))
    except ServiceError as exc:
        guard.failed(call.client)
        return login_form(call, error=exc.message, status=400)
    return _start(call, session)


def link(call: Call, *, guard: SignInGuard) -> Response:
    """``GET /dashboard/link/{token}``: a one-time link starts a session, once."""
    if not guard.may_try(call.client):
        return login_form(call, error=_THROTTLED, status=429)
    session = dashboard_auth.redeem_link(call.ctx, call.path["token"])
    if session is None:
        guard.failed(call.client)
        return login_form(
            call,
            error="That sign-in link was used already or has expired. Run `lumenlater"
            " dashboard` for a new one, or sign in with your test secret key.",
            status=400,
        )
    return _start(call, session)


def logout(call: Call) -> Response:
    """``POST /dashboard/logout``: end the session on the server, and forget its cookie."""
    checked = with_form(call)
    if isinstance(checked, Response):
        return checked
    dashboard_auth.sign_out(call.ctx, cookie(call, SESSION_COOKIE))
    response = redirect("/dashboard/login")
    clear_cookie(response, call, SESSION_COOKIE)
    return response


def _start(call: Call, session: str) -> Response:
    response = redirect("/dashboard")
    set_cookie(response, call, SESSION_COOKIE, session, dashboard_auth.SESSION_SECONDS)
    clear_cookie(response, call, LOGIN_COOKIE)
    return response
