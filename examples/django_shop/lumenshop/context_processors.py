"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .cart import Cart


def cart(request: HttpRequest) -> dict[str, object]:
    """``cart_count`` for the header's cart link; ``embedded_checkout`` when the shop can
    embed LumenLater's checkout (it has a publishable key)."""
    session = getattr(request, "session", None)
    return {
        "cart_count": Cart(session).count if session is not None else 0,
        "embedded_checkout": bool(settings.LUMENLATER_PUBLISHABLE_KEY),
    }
