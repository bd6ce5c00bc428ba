"""What the command line's words mean: nested ``-d`` keys, durations and amounts.

No I/O here, so every rule is unit tested on its own:

* :func:`parse_data` turns ``-d`` pairs into nested parameters, the Stripe CLI's form
  style: ``line_items[0][name]=Mug`` builds a list of dicts, ``metadata[k]=v`` a dict,
  ``enabled_events[]=bill.paid`` appends to a list. Values stay text; the command
  converts them by the SDK method's types.
* :func:`parse_duration`: ``20d``, ``3h``, ``90m``, ``45s``, ``1d12h``, or whole seconds.
* :func:`parse_amount`: ``12.50`` (or ``12.50usdc``, ``12usdc``) is USDC, converted
  exactly with :func:`~lumenlater_sdk.usdc`; a whole number (or ``125000000stroops``)
  is stroops, the API's own unit.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .._money import usdc

__all__ = [
    "AMOUNT_HELP",
    "DURATION_HELP",
    "ParamError",
    "parse_amount",
    "parse_data",
    "parse_duration",
]

AMOUNT_HELP = (
    "USDC with a decimal point (12.50) or stroops as a whole number (125000000); also "
    "12usdc or 125000000stroops (1 USDC = 10000000 stroops)"
)
DURATION_HELP = "a duration: 20d, 3h, 90m, 45s, 1d12h, or whole seconds"


class ParamError(ValueError):
    """A parameter the user wrote that cannot mean anything; the text says which and why."""


# A key is a name then any number of [segment]s: ``line_items[0][name]``, ``tags[]``.
_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_KEY = re.compile(rf"({_NAME})((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_APPEND = ""  # the segment of ``name[]``


def parse_data(pairs: list[str]) -> dict[str, Any]:
    """``-d`` pairs → nested parameters (values are strings).

    ``["line_items[0][name]=Mug", "metadata[k]=v"]`` →
    ``{"line_items": [{"name": "Mug"}], "metadata": {"k": "v"}}``. List indexes must
    count up from 0 without gaps; a key given twice, or used both as a value and as a
    container, is an error naming the key.
    """
    root: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ParamError(f"expected NAME=VALUE, got {pair!r}")
        match = _KEY.fullmatch(key.strip())
        if match is None:
            raise ParamError(
                f"malformed parameter name {key!r}: use name, name[key], name[0][key] or name[]"
            )
        path: list[str] = [match.group(1), *_SEGMENT.findall(match.group(2))]
        _assign(root, path, value, key.strip())
    result: dict[str, Any] = _finish(root, "")
    return result


def _assign(root: dict[str, Any], path: list[str], value: str, key: str) -> None:
    node: dict[Any, Any] | _Indexed = root
    for depth, seg in enumerate(path):
        where = _display(path[: depth + 1])
        child: Any = seg
        if isinstance(node, _Indexed):
            if seg == _APPEND:
                child = len(node.items)
                where = _display([*path[:depth], child])
            elif seg.isdigit():
                child = int(seg)
            else:
                raise ParamError(
                    f"{key}: {_display(path[:depth])} is a list, so [{seg}] must be a number"
                )
            children: dict[Any, Any] = node.items
        else:
            if seg == _APPEND and depth > 0:
                raise ParamError(
                    f"{key}: [] appends to a list, but {_display(path[:depth])} is a map"
                )
            children = node
        if depth == len(path) - 1:
            if child in children:
                raise ParamError(f"{where} is given twice")
            children[child] = value
            return
        wants_list = path[depth + 1].isdigit() or path[depth + 1] == _APPEND
        existing = children.get(child)
        if existing is None:
            existing = _Indexed() if wants_list else {}
            children[child] = existing
        elif isinstance(existing, str):
            raise ParamError(f"{where} is given both as a value and as {key}")
        elif isinstance(existing, _Indexed) != wants_list:
            kind = "list" if isinstance(existing, _Indexed) else "map"
            raise ParamError(f"{key}: {where} is a {kind} in another -d")
        node = existing


class _Indexed:
    """A list being built: its items by index until every -d is read."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[int, Any] = {}


def _finish(node: Any, where: str) -> Any:
    if isinstance(node, _Indexed):
        indexes = sorted(node.items)
        if indexes != list(range(len(indexes))):
            missing = next(i for i in range(len(indexes) + 1) if i not in node.items)
            raise ParamError(f"{where}[{missing}] is missing: list indexes count up from 0")
        return [_finish(node.items[i], f"{where}[{i}]") for i in indexes]
    if isinstance(node, dict):
        return {k: _finish(v, f"{where}[{k}]" if where else k) for k, v in node.items()}
    return node


def _display(path: list[Any]) -> str:
    if not path:
        return ""
    return str(path[0]) + "".join(f"[{p}]" for p in path[1:])


_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)([wdhms]))+")
_PART = re.compile(r"(\d+)([wdhms])")


def parse_duration(text: str) -> int:
    """``"1d12h"`` → ``129600``; a bare whole number is seconds (``"90"`` → ``90``)."""
    raw = text.strip().lower().replace(" ", "")
    if raw.isdigit():
        return int(raw)
    if not raw or _DURATION.fullmatch(raw) is None:
        raise ParamError(f"{text!r} is not {DURATION_HELP}")
    seen: set[str] = set()
    total = 0
    for number, unit in _PART.findall(raw):
        if unit in seen:
            raise ParamError(f"{text!r} gives {unit!r} twice")
        seen.add(unit)
        total += int(number) * _UNITS[unit]
    return total


_AMOUNT = re.compile(r"([0-9][0-9_,]*(?:\.[0-9]*)?|\.[0-9]+)\s*(usdc|stroops?)?", re.IGNORECASE)


def parse_amount(text: str, name: str = "amount") -> int:
    """An amount as written on the command line → integer stroops, exactly.

    ``"12.50"`` / ``"12.50usdc"`` / ``"12usdc"`` → ``125000000`` (USDC, at most 7
    decimals); ``"125000000"`` / ``"125000000stroops"`` → ``125000000``. Never a float.
    """
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise ParamError(f"{name}: {text!r} is not an amount; use {AMOUNT_HELP}")
    number, unit = match.group(1).replace("_", "").replace(",", ""), (match.group(2) or "").lower()
    if unit.startswith("stroop"):
        if not number.isdigit():
            raise ParamError(f"{name}: stroops are whole numbers, not {text!r}")
        return int(number)
    if unit == "usdc" or "." in number:
        try:
            return usdc(Decimal(number))
        except ValueError:
            raise ParamError(
                f"{name}: {text!r} has more than 7 decimal places (USDC's smallest unit is "
                "0.0000001)"
            ) from None
    return int(number)
