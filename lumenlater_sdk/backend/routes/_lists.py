"""List envelopes: ``{"object": "list", "data", "has_more", "url"}``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..http import ListQuery
from ..paging import PageRequest
from ..services.errors import InvalidRequest

__all__ = ["encoded_list", "list_body", "page_of"]


def page_of(query: ListQuery) -> PageRequest:
    """The pagination part of a list query."""
    if query.starting_after and query.ending_before:
        raise InvalidRequest(
            "Use starting_after or ending_before, not both.",
            code="parameter_invalid",
            param="ending_before",
        )
    return PageRequest(query.limit, query.starting_after, query.ending_before)


def list_body(data: Sequence[dict[str, Any]], has_more: bool, url: str) -> dict[str, Any]:
    """A list envelope."""
    return {"object": "list", "data": list(data), "has_more": has_more, "url": url}


def encoded_list(docs: Sequence[bytes], has_more: bool, url: str) -> bytes:
    """A list envelope around already-encoded JSON objects (stored events)."""
    return (
        b'{"object":"list","data":['
        + b",".join(docs)
        + b'],"has_more":'
        + (b"true" if has_more else b"false")
        + b',"url":'
        + json.dumps(url).encode()
        + b"}"
    )
