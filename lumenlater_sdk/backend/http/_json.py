"""The one reader of JSON request bodies.

Every JSON body, the API's and the hosted page's, goes through :func:`read_json`:
``Content-Type: application/json`` (UTF-8), strict UTF-8, no duplicate keys, no
``NaN``/``Infinity``, at most :data:`MAX_DEPTH` levels of nesting, and no string (key
or value) with a character a text field refuses (``text_problem``: NUL, lone
surrogates, C0 controls). A refusal is an :class:`ApiError` naming the ``param``
where there is one, so no such value reaches a model, a service or the database.
"""

from __future__ import annotations

import json
from typing import Any

from ..services.validation import text_problem
from ._errors import ApiError, invalid, param_name

__all__ = ["MAX_DEPTH", "check_json_type", "is_json", "read_json"]

MAX_DEPTH = 8
"""Objects and arrays nest at most this deep (a session's ``line_items[0]`` is 2 deep)."""


class _Duplicate(Exception):
    """A key twice in one object (not a ValueError, so it is not taken for bad syntax)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _media_type(headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The ``Content-Type``'s media type in lower case and its parameters."""
    media, *rest = headers.get("content-type", "").split(";")
    params: dict[str, str] = {}
    for item in rest:
        name, _, value = item.partition("=")
        params[name.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), params


def is_json(headers: dict[str, str]) -> bool:
    """Whether the request says its body is JSON (whatever its charset)."""
    return _media_type(headers)[0] == "application/json"


def check_json_type(headers: dict[str, str]) -> None:
    """415 ``unsupported_media_type`` unless the body is declared ``application/json``
    (in UTF-8, the only charset JSON has)."""
    media, params = _media_type(headers)
    if media != "application/json" or params.get("charset", "utf-8") != "utf-8":
        raise ApiError(
            415,
            "invalid_request_error",
            "unsupported_media_type",
            "The body must be JSON sent as Content-Type: application/json.",
            "Content-Type",
        )


def read_json(raw: bytes) -> Any:
    """The body's JSON value; every problem is a 400 (see the module)."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except _Duplicate as exc:
        raise invalid(
            "invalid_json", f"The key {exc.key!r} appears twice in one object.", exc.key
        ) from None
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise invalid("invalid_json", "The body is not valid JSON.") from None
    _check_tree(data)
    return data


def _too_deep() -> ApiError:
    return invalid("invalid_json", f"The body nests objects or arrays over {MAX_DEPTH} deep.")


def _check_tree(data: Any) -> None:
    """Depth and characters of every key and string, without recursion (a deep
    document must not exhaust the stack here either)."""
    stack: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _check_string(value, path)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth + 1 > MAX_DEPTH:
            raise _too_deep()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and text_problem(key) is not None:
                where = param_name(path)
                message = f"A key {'in ' + where if where else 'of the body'} holds a character"
                raise invalid("parameter_invalid", message + " that is not allowed.", where)
            stack.append((item, (*path, str(key)), depth + 1))


def _check_string(value: str, path: tuple[str, ...]) -> None:
    problem = text_problem(value)
    if problem is not None:
        param = param_name(path)
        raise invalid("parameter_invalid", f"Invalid {param or 'body'}: {problem}", param)
