"""The embed markup: the container and ``<script>`` that mount the whole checkout in a
merchant's page, as a string templates accept as already safe.

:class:`SafeHTML` carries the ``__html__`` protocol that Jinja (MarkupSafe) and Django
honour, so the adapters (:mod:`.jinja`, :mod:`.flask`, the Django app in :mod:`.django`)
need no import of their framework to mark it safe: every value inside was escaped here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from urllib.parse import urlsplit

from .._embed_script import script_url
from ..types import CheckoutSession

__all__ = ["APPEARANCE_OPTIONS", "SafeHTML", "embed_html", "template_embed", "widget_html"]

WIDGET_CONTAINER_ID = "lumenlater-checkout"

APPEARANCE_OPTIONS = {
    "accent_color": "accentColor",
    "background_color": "backgroundColor",
    "text_color": "textColor",
    "border_radius": "borderRadius",
    "font_family": "fontFamily",
}
"""Template keyword → the embed script's ``appearance`` key (``accent_color="#0b6e4f"``)."""


class SafeHTML(str):
    """A string of HTML whose every interpolated value was escaped.

    Jinja's autoescaping and Django's ``conditional_escape`` call ``__html__`` and
    insert the markup as it is; anywhere else it is a plain ``str``.
    """

    __slots__ = ()

    def __html__(self) -> str:
        """The markup itself (already escaped)."""
        return str(self)


def _api_origin(session: CheckoutSession, base_url: str | None) -> str:
    url = base_url if base_url is not None else session.url
    parts = urlsplit(url)
    # Only an http(s) origin may become a <script src>: never javascript: or data:.
    if parts.scheme not in ("http", "https") or not parts.netloc:
        what = "base_url" if base_url is not None else "session.url"
        raise ValueError(f"cannot tell the API origin from {what} {url!r}")
    return url if base_url is not None else f"{parts.scheme}://{parts.netloc}"


def embed_html(
    session: CheckoutSession,
    publishable_key: str,
    *,
    base_url: str | None = None,
    container_id: str = WIDGET_CONTAINER_ID,
    appearance: Mapping[str, str] | None = None,
) -> SafeHTML:
    """HTML that embeds the whole checkout of *session* in a merchant's page, for a template.

    A container that mounts itself (the embed script's ``data-`` form, see
    ``/v1/js/lumenlater.js``) and the versioned ``<script>`` (cached for a year). The
    script is loaded from *base_url*, else the origin of ``session.url``. On success the
    shopper goes to the session's ``success_url`` unless the page cancels the
    ``lumenlater:success`` DOM event; ``lumenlater:error`` and ``lumenlater:cancel`` are
    dispatched on the container too. *appearance* takes the embed script's keys
    (``accentColor``, ``backgroundColor``, ``textColor``, ``borderRadius``,
    ``fontFamily``). Every value is HTML-escaped, and the result is a :class:`SafeHTML`
    that Jinja and Django templates insert without escaping it again. A secret key is
    refused: it must never reach a browser. The page's origin must be one of the
    session's (or the account's) ``embed_origins``.
    """
    if not isinstance(publishable_key, str) or not publishable_key.startswith("pk_"):
        raise ValueError("embed_html needs a publishable key (pk_test_... / pk_live_...)")
    if not session.client_secret:
        raise ValueError(f"checkout session {session.id} has no client_secret to embed")
    origin = _api_origin(session, base_url)
    look = f' data-appearance="{escape(json.dumps(dict(appearance)))}"' if appearance else ""
    return SafeHTML(
        f'<div id="{escape(container_id)}" data-lumenlater-checkout'
        f' data-session="{escape(session.id)}"'
        f' data-client-secret="{escape(session.client_secret)}"'
        f' data-publishable-key="{escape(publishable_key)}"{look}></div>\n'
        f'<script src="{escape(script_url(origin))}" defer></script>'
    )


def widget_html(
    session: CheckoutSession, publishable_key: str, *, base_url: str | None = None
) -> SafeHTML:
    """HTML that embeds the checkout of *session* in a merchant page: :func:`embed_html`
    with its defaults (kept for code written before it)."""
    return embed_html(session, publishable_key, base_url=base_url)


def template_embed(
    session: object,
    publishable_key: str | None,
    options: Mapping[str, object],
    *,
    key_setting: str,
) -> SafeHTML:
    """:func:`embed_html` as the template tags call it: *session* checked to be a
    :class:`~lumenlater_sdk.types.CheckoutSession` (a template's missing variable is an
    error, not an empty checkout), the key from the tag or the framework's setting
    *key_setting*, and *options* (``base_url``, ``container_id``, ``appearance`` and the
    :data:`APPEARANCE_OPTIONS` keywords, which override ``appearance``'s keys)."""
    if not isinstance(session, CheckoutSession):
        raise TypeError(
            "lumenlater_embed needs the CheckoutSession your view created, not "
            f"{type(session).__name__} {session!r:.40}"
        )
    if not publishable_key:
        raise ValueError(
            f"lumenlater_embed has no publishable key: set {key_setting} to your pk_test_... / "
            "pk_live_... key, or pass publishable_key=..."
        )
    unknown = sorted(
        set(options) - {"base_url", "container_id", "appearance"} - set(APPEARANCE_OPTIONS)
    )
    if unknown:
        known = ", ".join(["base_url", "container_id", "appearance", *APPEARANCE_OPTIONS])
        raise TypeError(f"lumenlater_embed got unknown options {unknown} (it takes {known})")
    look: dict[str, str] = {}
    given = options.get("appearance")
    if given is not None:
        if not isinstance(given, Mapping):
            raise TypeError("lumenlater_embed's appearance= must be a mapping")
        look.update({str(k): str(v) for k, v in given.items()})
    for option, key in APPEARANCE_OPTIONS.items():
        if options.get(option) is not None:
            look[key] = str(options[option])
    base_url = options.get("base_url")
    container_id = options.get("container_id")
    return embed_html(
        session,
        str(publishable_key),
        base_url=str(base_url) if base_url is not None else None,
        container_id=str(container_id) if container_id is not None else WIDGET_CONTAINER_ID,
        appearance=look or None,
    )
