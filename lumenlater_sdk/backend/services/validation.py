"""Field rules every entry point shares: URLs and metadata, defined once.

The HTTP layer wraps these functions into its request types (``http.Url``,
``http.Metadata``), so a request is checked against the same rule as a direct
call of a service. Each raises :class:`ValueError` with a short reason; services
turn it into :class:`~.errors.InvalidRequest` with :func:`invalid_field`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidRequest

__all__ = [
    "MAX_AMOUNT",
    "MAX_EMBED_ORIGINS",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_KEY_LENGTH",
    "MAX_METADATA_VALUE_LENGTH",
    "MAX_URL_LENGTH",
    "check_metadata",
    "check_origin",
    "check_origins",
    "check_url",
    "invalid_field",
    "merge_metadata",
    "text_problem",
]

MAX_AMOUNT = 2**62
"""The largest amount in stroops, for one amount and for any sum or product of them (a
line's ``quantity * unit_amount``, a session's total): the database's 64-bit integers
hold it with room to spare, and no total can overflow them."""
MAX_URL_LENGTH = 2048
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500
MAX_EMBED_ORIGINS = 20

# scheme://host[:port], nothing else: a DNS name (letters, digits, '-', '.'), an IPv4
# address or a bracketed IPv6 address. No user info, path, query, fragment or wildcard.
_ORIGIN = re.compile(
    r"^(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?\Z"
)


# Characters no text field takes: NUL and lone surrogates (neither PostgreSQL nor UTF-8
# can store them) and the other C0 controls but tab, newline and carriage return.
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# A URL also refuses spaces, DEL, the C1 controls and backslashes: parsers (Python's,
# a browser's, an HTTP client's) strip or reinterpret them differently, so the URL we
# check would not be the URL that is fetched or followed.
_BAD_URL = re.compile(r"[\x00-\x20\x7f-\x9f\\\ud800-\udfff]")
_HOST = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_.])?\Z")


def text_problem(value: str) -> str | None:
    """Why *value* cannot be a text field (a reason), or ``None`` if it can."""
    m = _BAD_TEXT.search(value)
    if m is None:
        return None
    return f"must not contain the character U+{ord(m.group()):04X}"


def _check_host(host: str) -> None:
    if ":" in host:  # urlsplit drops the brackets of an IPv6 address
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError("must be an http(s) URL with a valid host name") from None
        return
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("must be an http(s) URL with a valid host name") from None
    if not _HOST.match(ascii_host):
        raise ValueError("must be an http(s) URL with a valid host name")


def check_url(value: Any) -> str:
    """An absolute ``http://`` or ``https://`` URL with a host, at most 2048 characters,
    parsed rather than prefix-checked: no control characters, spaces or backslashes, no
    user info (``https://shop.example@elsewhere``), a valid host and port. Returned with
    the scheme in lower case."""
    if not isinstance(value, str):
        raise ValueError("must be an http(s) URL")
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    bad = _BAD_URL.search(value)
    if bad is not None:
        raise ValueError(f"must not contain the character U+{ord(bad.group()):04X}")
    try:
        parts = urlsplit(value)
        host, port = parts.hostname, parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        raise ValueError("must be an http(s) URL with a valid host and port") from None
    if parts.scheme.lower() not in ("http", "https") or not value[len(parts.scheme) :].startswith(
        "://"
    ):
        raise ValueError("must be an http(s) URL")
    if not host:
        raise ValueError("must be an http(s) URL with a host")
    if "@" in parts.netloc:
        raise ValueError("must not carry a user name or password")
    if parts.netloc.endswith(":") or port == 0:
        raise ValueError("must be an http(s) URL with a valid host and port")
    _check_host(host)
    return parts.scheme.lower() + value[len(parts.scheme) :]


def check_origin(value: Any) -> str:
    """A web origin as browsers send it (``https://shop.example``, ``http://127.0.0.1:8000``):
    ``http`` or ``https``, a host, an optional port, no path (not even ``/``), no wildcard.
    Returned in the form a browser's ``Origin`` header has it: lower case, without the
    scheme's default port."""
    if not isinstance(value, str) or len(value) > 300:
        raise ValueError("must be an origin such as https://shop.example")
    m = _ORIGIN.match(value.lower())
    if m is None:
        raise ValueError(
            f"{value!r} is not an origin: scheme://host[:port] with no path, query or"
            " wildcard (e.g. https://shop.example)"
        )
    scheme, host, port = m["scheme"], m["host"], m["port"]
    if port is not None:
        number = int(port)
        if not 1 <= number <= 65535:
            raise ValueError(f"{value!r} has an invalid port")
        default = (scheme, number) in (("http", 80), ("https", 443))
        port = None if default else str(number)
    return f"{scheme}://{host}" + (f":{port}" if port else "")


_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def check_origins(value: Any, *, livemode: bool = False) -> list[str]:
    """A list of at most 20 origins (:func:`check_origin`), normalized, duplicates dropped.
    In live mode only ``https`` origins (and loopback ones, for development) are taken: a
    page served over plain HTTP could be changed on its way to the shopper."""
    if not isinstance(value, list | tuple):
        raise ValueError("must be a list of origins")
    if len(value) > MAX_EMBED_ORIGINS:
        raise ValueError(f"can hold at most {MAX_EMBED_ORIGINS} origins")
    out: list[str] = []
    for item in value:
        origin = check_origin(item)
        parts = _ORIGIN.match(origin)
        assert parts is not None  # check_origin returned it
        if livemode and parts["scheme"] == "http" and parts["host"] not in _LOOPBACK:
            raise ValueError(f"{origin!r} is not https: live mode embeds in https pages only")
        if origin not in out:
            out.append(origin)
    return out


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
