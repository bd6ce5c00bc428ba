"""How commands print API objects: JSON (the default, for ``jq``) or ``--format table``.

A list prints as the API's own list shape, ``{"object": "list", "data": [...],
"has_more": ...}``, so one JSON document comes out whether one object or many.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["FORMATS", "add_format_option", "render_list", "render_object"]

FORMATS = ("json", "table")
_CELL = 40  # widest table cell; longer values end in "…"


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """``--format json|table``."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        help="json: the API's JSON (a list as {object: list, data: [...], has_more}); "
        "table: aligned columns for reading (default: json)",
    )


def render_object(obj: Mapping[str, Any], fmt: str) -> str:
    """One object: indented JSON, or a two-column FIELD VALUE table."""
    if fmt == "json":
        return json.dumps(obj, indent=2)
    rows = [(key, _cell(value)) for key, value in obj.items()]
    return _table(["FIELD", "VALUE"], rows)


def render_list(items: Sequence[Mapping[str, Any]], has_more: bool, fmt: str) -> str:
    """Objects of one kind: a JSON list object, or a table of their scalar fields."""
    if fmt == "json":
        return json.dumps({"object": "list", "data": list(items), "has_more": has_more}, indent=2)
    nested = {k for item in items for k, v in item.items() if isinstance(v, (dict, list))}
    columns: list[str] = []
    for item in items:  # fields never nested in any item, in the order the API gives them
        for key in item:
            if key not in columns and key not in nested and key != "object":
                columns.append(key)
    columns.sort(key=lambda c: c != "id")  # the id first, the rest as given
    rows = [tuple(_cell(item.get(c)) for c in columns) for item in items]
    footer = f"\n({len(items)} shown; more exist, raise --max)" if has_more else ""
    if not items:
        return "(no objects)"
    return _table([c.upper() for c in columns], rows) + footer


def _cell(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
             for line in [header, *rows]]  # fmt: skip
    return "\n".join(lines)
