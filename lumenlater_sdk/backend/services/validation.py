"""Field rules every entry point shares: URLs and metadata, defined once.

The HTTP layer wraps these functions into its request types (``http.Url``,
``http.Metadata``), so a request is checked against the same rule as a direct
call of a service. Each raises :class:`ValueError` with a short reason; services
turn it into :class:`~.errors.InvalidRequest` with :func:`invalid_field`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidRequest

__all__ = [
    "MAX_METADATA_KEYS",
    "MAX_METADATA_KEY_LENGTH",
    "MAX_METADATA_VALUE_LENGTH",
    "MAX_URL_LENGTH",
    "check_metadata",
    "check_url",
    "invalid_field",
    "merge_metadata",
]

MAX_URL_LENGTH = 2048
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500


def check_url(value: Any) -> str:
    """An absolute ``http://`` or ``https://`` URL with a host, at most 2048 characters."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        host = urlsplit(value).hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        host = None
    if not host:
        raise ValueError("must be an http(s) URL")
    return value


def _check_entry(key: Any, value: Any) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_METADATA_KEY_LENGTH:
        raise ValueError(f"metadata keys must be 1-{MAX_METADATA_KEY_LENGTH} characters")
    if not isinstance(value, str) or len(value) > MAX_METADATA_VALUE_LENGTH:
        raise ValueError(
            f"metadata values must be strings of at most {MAX_METADATA_VALUE_LENGTH} characters"
        )


def check_metadata(value: Any) -> dict[str, str]:
    """At most 50 string keys of 1–40 characters, each with a string value of at most 500."""
    if not isinstance(value, Mapping):
        raise ValueError("metadata must be an object of string keys and values")
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"metadata can have at most {MAX_METADATA_KEYS} keys")
    for k, v in value.items():
        _check_entry(k, v)
    return dict(value)


def merge_metadata(base: Mapping[str, str], changes: Any) -> dict[str, str]:
    """*base* updated with *changes*, where an empty value removes its key; the result
    obeys :func:`check_metadata`. ``None`` changes nothing."""
    if changes is None:
        return dict(base)
    if not isinstance(changes, Mapping):
        raise ValueError("metadata must be an object of string keys and values")
    merged = dict(base)
    for k, v in changes.items():
        _check_entry(k, v)
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = v
    return check_metadata(merged)


def invalid_field(param: str, exc: ValueError) -> InvalidRequest:
    """The 400 for a field that broke one of these rules (as the HTTP layer words it)."""
    return InvalidRequest(f"Invalid {param}: {exc}", code="parameter_invalid", param=param)
