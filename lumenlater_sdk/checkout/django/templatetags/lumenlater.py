"""``{% load lumenlater %}``: the ``lumenlater_embed`` tag and the ``format_usdc`` filter."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from ...._money import format_usdc as _format_usdc
from ..._embed import SafeHTML, template_embed
from ..apps import SETTING

__all__ = ["format_usdc", "lumenlater_embed", "register"]

register = template.Library()


def lumenlater_embed(session: Any, publishable_key: str | None = None, **options: Any) -> SafeHTML:
    """``{% lumenlater_embed checkout_session %}``: the container and script that embed
    the session's checkout. The key is ``publishable_key=``, else the
    ``LUMENLATER_PUBLISHABLE_KEY`` setting; options as
    :func:`lumenlater_sdk.checkout.jinja.lumenlater_embed` (``accent_color=``,
    ``container_id=``, ``appearance=``, ``base_url=`` ...)."""
    key = publishable_key if publishable_key is not None else getattr(settings, SETTING, None)
    if key is not None and not str(key).startswith("pk_"):
        raise ValueError(f"{SETTING} / publishable_key= must be a publishable key (pk_...)")
    return template_embed(session, key, options, key_setting=f"settings.{SETTING}")


def format_usdc(amount: int) -> str:
    """``{{ 1875000000|format_usdc }}`` → ``187.50 USDC`` (stroops; a float is a TypeError)."""
    return _format_usdc(amount)


# Registered by calls rather than decorators: django is untyped for mypy.
register.simple_tag(lumenlater_embed)
register.filter("format_usdc", format_usdc)
