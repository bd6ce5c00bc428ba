"""Who may open the sandbox dashboard: sign-in with a test secret key or a one-time link,
the session it starts, and the tokens that protect its forms.

A session is a random token kept server-side as a hash only (merchant, created,
expiry, revoked), and in an HttpOnly cookie as the token with a MAC under the backend's
``secret_key``: a cookie that is not ours is refused before the database is asked, and
one that is ends when it expires or when :func:`sign_out` revokes it (a copy of the
cookie is then worth nothing). A one-time link's token is stored as a hash
only, works once, and expires after :data:`LINK_SECONDS`. Form tokens are MACs of the
session (or, before sign-in, of a random cookie): a page of another site cannot know
them. Every comparison is constant-time. Only test mode: a live key or a backend in
live mode is refused.
"""

from __future__ import annotations

import hmac
import secrets

from .._crypto import hash_key
from ..store import dashboard_links as link_store
from ..store import dashboard_sessions as session_store
from . import api_keys
from .context import ServiceContext
from .errors import InvalidRequest, ServiceError

__all__ = [
    "LINK_SECONDS",
    "SESSION_SECONDS",
    "create_link",
    "form_token",
    "redeem_link",
    "session_merchant",
    "sign_in_with_key",
    "sign_out",
    "valid_form_token",
]

SESSION_SECONDS = 12 * 3600
LINK_SECONDS = 10 * 60


def _now(ctx: ServiceContext) -> int:
    return int(ctx.config.clock())


def _refuse(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="dashboard_sign_in_refused", param="api_key")


def _require_test_backend(ctx: ServiceContext) -> None:
    if ctx.config.livemode:
        raise _refuse("The dashboard is for test mode only; this backend runs in live mode.")


def _session(ctx: ServiceContext, merchant_id: str) -> str:
    """A new session: stored by its token's hash, answered as the cookie's value."""
    token = secrets.token_urlsafe(24)
    now = _now(ctx)
    with ctx.db.transaction() as tx:
        session_store.insert_session(
            tx, hash_key(token), merchant_id, expires_at=now + SESSION_SECONDS, now=now
        )
    return f"{token}.{ctx.box.mac('dashboard-session|' + token)}"


def _token(ctx: ServiceContext, session: str | None) -> str | None:
    """The session token a cookie carries, if the cookie is genuine (its MAC is ours)."""
    if ctx.config.livemode or not session or len(session) > 300:
        return None
    token, _, mac = session.rpartition(".")
    if not token or not hmac.compare_digest(mac, ctx.box.mac("dashboard-session|" + token)):
        return None
    return token


def sign_in_with_key(ctx: ServiceContext, api_key: str) -> str:
    """A new session for the merchant of the test secret key *api_key*, or
    :class:`InvalidRequest` (``dashboard_sign_in_refused``) saying why not."""
    _require_test_backend(ctx)
    key = api_key.strip()
    try:
        principal = api_keys.authenticate(ctx, key)
    except ServiceError as exc:  # revoked or expired
        raise _refuse(exc.message) from None
    if principal is None:
        raise _refuse("That is not an API key of this sandbox.")
    if principal.livemode or principal.kind != "secret":
        raise _refuse("Sign in with a test secret key (sk_test_…).")
    return _session(ctx, principal.merchant_id)


def create_link(ctx: ServiceContext, merchant_id: str) -> tuple[str, int]:
    """A one-time sign-in token for *merchant_id* (put it in ``/dashboard/link/{token}``)
    and when it expires."""
    _require_test_backend(ctx)
    token = "dl_" + secrets.token_urlsafe(24)
    now = _now(ctx)
    with ctx.db.transaction() as tx:
        link_store.insert_link(tx, hash_key(token), merchant_id, now + LINK_SECONDS, now)
    return token, now + LINK_SECONDS


def redeem_link(ctx: ServiceContext, token: str) -> str | None:
    """A session for the link's merchant, once; ``None`` for a used, expired or unknown
    link."""
    if ctx.config.livemode or not token.startswith("dl_") or len(token) > 100:
        return None
    with ctx.db.transaction() as tx:
        merchant_id = link_store.take_link(tx, hash_key(token), _now(ctx))
    return None if merchant_id is None else _session(ctx, merchant_id)


def session_merchant(ctx: ServiceContext, session: str | None) -> str | None:
    """The merchant of a session cookie that is genuine, unexpired and not signed out."""
    token = _token(ctx, session)
    if token is None:
        return None
    with ctx.db.reads() as tx:
        return session_store.session_merchant(tx, hash_key(token), _now(ctx))


def sign_out(ctx: ServiceContext, session: str | None) -> bool:
    """Revoke the session of the cookie *session*; whether one was open."""
    token = _token(ctx, session)
    if token is None:
        return False
    with ctx.db.transaction() as tx:
        return session_store.revoke_session(tx, hash_key(token), _now(ctx))


def form_token(ctx: ServiceContext, anchor: str) -> str:
    """The token a form must carry: a MAC of *anchor* (the session cookie, or before
    sign-in the random sign-in cookie)."""
    return ctx.box.mac("dashboard-form|" + anchor)


def valid_form_token(ctx: ServiceContext, anchor: str | None, token: str | None) -> bool:
    """Whether *token* is the form token of *anchor* (both present)."""
    if not anchor or not token:
        return False
    return hmac.compare_digest(token, form_token(ctx, anchor))
