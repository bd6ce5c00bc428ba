"""Hosted and embedded checkout helpers built on the client.

- :func:`redirect_url` — where to send the shopper for a session (the hosted page).
- :func:`confirm_return` — on the ``success_url`` page (or when the embedded checkout's
  ``onSuccess`` calls your server), fetch the session and get it back only if it is
  paid; otherwise :class:`CheckoutNotPaidError`.
- :func:`embed_html` — the container and ``<script>`` that embed the whole checkout in a
  merchant's page (:func:`widget_html` is the same with its defaults), as
  :class:`SafeHTML` that templates insert as it is. In templates:
  :mod:`lumenlater_sdk.checkout.jinja`, :mod:`lumenlater_sdk.checkout.flask` and the
  Django app ``lumenlater_sdk.checkout.django`` (``{% lumenlater_embed session %}``).
- :func:`authorize_pending` — a self-custody merchant's webhook handler for
  ``checkout.session.authorization_required``: sign the bill the session waits on
  (:class:`SessionNotAwaitingAuthorizationError` when there is none).
"""

from ._embed import SafeHTML, embed_html, widget_html
from ._helpers import (
    CheckoutNotPaidError,
    SessionNotAwaitingAuthorizationError,
    authorize_pending,
    confirm_return,
    redirect_url,
)

__all__ = [
    "CheckoutNotPaidError",
    "SafeHTML",
    "SessionNotAwaitingAuthorizationError",
    "authorize_pending",
    "confirm_return",
    "embed_html",
    "redirect_url",
    "widget_html",
]
