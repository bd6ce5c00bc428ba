"""Tiny server-rendered SVG charts for the dashboard: bars (amounts, counts) and a line
(rates), with no script and no third-party asset.

Every text that goes into the SVG is escaped; numbers are formatted by the caller's
*fmt*. A chart of all zeros draws an empty baseline rather than dividing by zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from markupsafe import Markup, escape

__all__ = ["chart"]

_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 8, 8, 22, 26


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    fmt: Callable[[float], str] = _num,
    kind: Literal["bar", "line"] = "bar",
    width: int = 960,
    height: int = 200,
    color: str = "#1d4ed8",
) -> Markup:
    """An SVG chart of *values* (one per label, none negative), titled *title*, with the
    largest value marked and each point's label and value in its tooltip (``<title>``)."""
    if len(labels) != len(values):
        raise ValueError("one label per value")
    if any(v < 0 for v in values):
        raise ValueError("values must not be negative")
    if not color.startswith("#") or not all(c in "0123456789abcdefABCDEF" for c in color[1:]):
        raise ValueError("color must be a #hex colour")
    top = max(values, default=0)
    inner_w = width - _PAD_LEFT - _PAD_RIGHT
    inner_h = height - _PAD_TOP - _PAD_BOTTOM
    base = _PAD_TOP + inner_h
    n = max(len(values), 1)
    step = inner_w / n

    def y(v: float) -> float:
        return base - (v / top * inner_h if top > 0 else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_PAD_LEFT}" y="14" class="chart-title">{escape(title)}</text>',
        f'<text x="{width - _PAD_RIGHT}" y="14" text-anchor="end" class="chart-max">'
        f"max {escape(fmt(top))}</text>",
        f'<line x1="{_PAD_LEFT}" y1="{base}" x2="{width - _PAD_RIGHT}" y2="{base}" '
        f'stroke="#9aa1b1"/>',
    ]
    if kind == "bar":
        bar_w = max(step * 0.7, 1)
        for i, (label, v) in enumerate(zip(labels, values, strict=True)):
            x = _PAD_LEFT + i * step + (step - bar_w) / 2
            h = base - y(v)
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y(v):.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{color}" data-value="{escape(str(v))}">'
                f"<title>{escape(label)}: {escape(fmt(v))}</title></rect>"
            )
    else:
        points = [(_PAD_LEFT + i * step + step / 2, y(v)) for i, v in enumerate(values)]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(
                f'<polyline class="line" points="{path}" fill="none" stroke="{color}" '
                f'stroke-width="2"/>'
            )
        for (px, py), label, v in zip(points, labels, values, strict=True):
            parts.append(
                f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}" '
                f'data-value="{escape(str(v))}"><title>{escape(label)}: {escape(fmt(v))}'
                f"</title></circle>"
            )
    # First, middle and last labels under the axis: enough to read the range.
    # The outer ones aligned inwards, so they are never cut off at the edges.
    last = len(labels) - 1
    for i in sorted({0, len(labels) // 2, last} if labels else set()):
        x, anchor = _PAD_LEFT + i * step + step / 2, "middle"
        if i == 0 and last > 0:
            x, anchor = _PAD_LEFT, "start"
        elif i == last and last > 0:
            x, anchor = width - _PAD_RIGHT, "end"
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" class="chart-label">'
            f"{escape(labels[i])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
