"""The engine's canonical JSON: how contract state, events and calls are stored."""

from __future__ import annotations

import json
from typing import Any

from ..._json_text import canonical

__all__ = ["dumps", "loads"]


# The backend's canonical text itself, not a call around it: the engine encodes
# every state value and event with it.
dumps = canonical
"""Canonical JSON (sorted keys, no spaces): Python ints keep every digit."""


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return json.loads(text)
