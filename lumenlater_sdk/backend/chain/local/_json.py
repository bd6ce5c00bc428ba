"""The engine's canonical JSON: how contract state, events and calls are stored."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps", "loads"]

# One encoder for every call: json.dumps with options builds a new one each time.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): Python ints keep every digit."""
    return _ENCODE(value)


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return json.loads(text)
