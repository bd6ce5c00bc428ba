"""The embedded checkout in Jinja templates: one line per page.

::

    from lumenlater_sdk.checkout.jinja import install
    install(env, publishable_key="pk_test_...")

    {{ lumenlater_embed(checkout_session) }}
    {{ lumenlater_embed(checkout_session, accent_color="#0b6e4f", container_id="pay") }}
    {{ order.amount | format_usdc }}

``lumenlater_embed`` is :func:`~lumenlater_sdk.checkout.embed_html` as a template
global: the markup is already escaped and comes out unescaped under autoescaping, every
value inside escaped once. ``format_usdc`` is :func:`lumenlater_sdk.format_usdc` as a
filter. Flask applications call :func:`lumenlater_sdk.checkout.flask.init_app` instead,
which reads the key from the app's config. Jinja itself is not imported here: any
environment-like object with ``globals`` and ``filters`` mappings will do.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from .._money import format_usdc
from ..types import CheckoutSession
from ._embed import SafeHTML, template_embed

__all__ = ["install", "lumenlater_embed"]


class _Environment(Protocol):
    globals: MutableMapping[str, Any]
    filters: MutableMapping[str, Any]


def _checked_key(publishable_key: str | None) -> str | None:
    # Refused when configured, not when the first page renders: a secret key in the
    # template layer is one page away from a browser.
    if publishable_key is not None and not str(publishable_key).startswith("pk_"):
        raise ValueError(
            "the embedded checkout needs a publishable key (pk_test_... / pk_live_...); "
            "never give a template a secret key"
        )
    return publishable_key


def lumenlater_embed(
    session: CheckoutSession, publishable_key: str | None = None, **options: Any
) -> SafeHTML:
    """The embed markup for *session* with *publishable_key* (no default key: see
    :func:`install` for the global that has one). *options*: ``base_url``,
    ``container_id``, ``appearance`` (a mapping of the embed script's keys) and
    ``accent_color``, ``background_color``, ``text_color``, ``border_radius``,
    ``font_family``."""
    return template_embed(
        session, _checked_key(publishable_key), options, key_setting="publishable_key"
    )


def install(
    env: _Environment,
    *,
    publishable_key: str | None,
    key_setting: str = "install(env, publishable_key=...)",
) -> None:
    """Add the ``lumenlater_embed`` global and the ``format_usdc`` filter to *env*.

    *publishable_key* is the default of every ``lumenlater_embed(...)`` call; with
    ``None`` each call must pass ``publishable_key=`` (the error names *key_setting*,
    which framework adapters set to their own setting's name). A key that is not a
    publishable key raises ``ValueError`` here.
    """
    default = _checked_key(publishable_key)

    def embed(
        session: CheckoutSession, publishable_key: str | None = None, **options: Any
    ) -> SafeHTML:
        key = _checked_key(publishable_key) if publishable_key is not None else default
        return template_embed(session, key, options, key_setting=key_setting)

    embed.__doc__ = lumenlater_embed.__doc__
    env.globals["lumenlater_embed"] = embed
    env.filters["format_usdc"] = format_usdc
