"""Pagination values shared by every layer: what a list request asks for, what it gets.

Plain data with no behaviour, so that routes, services and the store can all name
them without depending on one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Page", "PageRequest"]


@dataclass(frozen=True)
class PageRequest:
    """``limit`` (1–100) and at most one of ``starting_after`` / ``ending_before``."""

    limit: int = 10
    starting_after: str | None = None
    ending_before: str | None = None


@dataclass(frozen=True)
class Page:
    """Rows newest first, and whether more lie beyond them in the paging direction."""

    rows: list[dict[str, Any]]
    has_more: bool
