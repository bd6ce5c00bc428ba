"""The checkout helpers: redirect, return confirmation, embeddable widget markup."""

from __future__ import annotations

from collections.abc import Awaitable
from html import escape
from typing import overload
from urllib.parse import urlsplit

from .._client import AsyncLumenLater, LumenLater
from ..errors import LumenLaterError
from ..types import CheckoutSession

__all__ = ["CheckoutNotPaidError", "confirm_return", "redirect_url", "widget_html"]

WIDGET_CONTAINER_ID = "lumenlater-checkout"


class CheckoutNotPaidError(LumenLaterError):
    """The shopper came back but the session is not paid (still open, or expired).

    ``session`` is the retrieved session; ``status`` / ``payment_status`` say why.
    """

    def __init__(self, session: CheckoutSession) -> None:
        super().__init__(
            f"checkout session {session.id} is not paid "
            f"(status={session.status}, payment_status={session.payment_status})"
        )
        self.session = session
        self.status = session.status
        self.payment_status = session.payment_status


def redirect_url(session: CheckoutSession) -> str:
    """The hosted payment page to redirect the shopper to (``session.url``).

    Raises ``ValueError`` if the session can no longer be paid.
    """
    if session.status != "open":
        raise ValueError(f"checkout session {session.id} is {session.status}, not open")
    return session.url


def _check_session_id(session_id: str) -> str:
    # The id comes back from the browser (success_url query string): refuse anything else early.
    if not isinstance(session_id, str) or not session_id.startswith("cs_"):
        raise ValueError(f"not a checkout session id: {session_id!r}")
    return session_id


def _paid(session: CheckoutSession) -> CheckoutSession:
    if session.payment_status != "paid":
        raise CheckoutNotPaidError(session)
    return session


async def _confirm_async(client: AsyncLumenLater, session_id: str) -> CheckoutSession:
    return _paid(await client.checkout.sessions.retrieve(session_id))


@overload
def confirm_return(client: LumenLater, session_id: str) -> CheckoutSession: ...
@overload
def confirm_return(client: AsyncLumenLater, session_id: str) -> Awaitable[CheckoutSession]: ...
def confirm_return(
    client: LumenLater | AsyncLumenLater, session_id: str
) -> CheckoutSession | Awaitable[CheckoutSession]:
    """Retrieve the session the shopper returned from; return it only if it is paid.

    Never trust the redirect itself: this asks the API. Raises
    :class:`CheckoutNotPaidError` when the session is unpaid (open or expired) and the
    client's usual errors otherwise. With an :class:`~lumenlater_sdk.AsyncLumenLater`
    the result is awaitable.
    """
    _check_session_id(session_id)
    if isinstance(client, AsyncLumenLater):
        return _confirm_async(client, session_id)
    return _paid(client.checkout.sessions.retrieve(session_id))


def widget_html(
    session: CheckoutSession, publishable_key: str, *, base_url: str | None = None
) -> str:
    """HTML that embeds the payment widget for *session* in a merchant page.

    The script is loaded from ``{base}/v1/js/lumenlater.js`` where *base* is the origin of
    ``session.url`` unless *base_url* is given. The container carries the session id,
    its ``client_secret`` and the publishable key as ``data-`` attributes. Every value is
    HTML-escaped. A secret key is refused: it must never reach a browser.
    """
    if not isinstance(publishable_key, str) or not publishable_key.startswith("pk_"):
        raise ValueError("widget_html needs a publishable key (pk_test_... / pk_live_...)")
    if not session.client_secret:
        raise ValueError(f"checkout session {session.id} has no client_secret to embed")
    if base_url is None:
        parts = urlsplit(session.url)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"cannot tell the API origin from session.url {session.url!r}")
        base_url = f"{parts.scheme}://{parts.netloc}"
    src = escape(f"{base_url.rstrip('/')}/v1/js/lumenlater.js")
    return (
        f'<script src="{src}" defer></script>\n'
        f'<div id="{WIDGET_CONTAINER_ID}"'
        f' data-session="{escape(session.id)}"'
        f' data-client-secret="{escape(session.client_secret)}"'
        f' data-publishable-key="{escape(publishable_key)}"></div>'
    )
