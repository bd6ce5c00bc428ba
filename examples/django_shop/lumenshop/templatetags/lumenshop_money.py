"""Template filters: ``{% load lumenshop_money %}{{ amount|usdc }}``."""

from __future__ import annotations

from django import template

from ..money import format_usdc

register = template.Library()


@register.filter(name="usdc")
def usdc(stroops: int) -> str:
    """An integer stroop amount as ``"12.50 USDC"``."""
    return format_usdc(int(stroops))
