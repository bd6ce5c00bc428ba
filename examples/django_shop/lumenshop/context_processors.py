"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from .cart import Cart


def cart(request: HttpRequest) -> dict[str, object]:
    """``cart_count`` for the header's cart link."""
    session = getattr(request, "session", None)
    return {"cart_count": Cart(session).count if session is not None else 0}
