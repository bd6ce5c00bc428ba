"""The backend's JSON text: compact for what it stores and sends, canonical where bytes
must match (idempotency fingerprints, the engine's contract state).

One encoder of each kind per process: ``json.dumps`` with options builds a new
``JSONEncoder`` on every call, which a request path that encodes several documents
pays for each time.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical", "compact"]

_COMPACT = json.JSONEncoder(separators=(",", ":")).encode
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def compact(value: Any) -> str:
    """JSON with no spaces, keys in the order given, non-ASCII escaped."""
    return _COMPACT(value)


def canonical(value: Any) -> str:
    """:func:`compact` with keys sorted: equal values give equal text (ints keep every digit)."""
    return _CANONICAL(value)
