"""The dashboard's SVG chart renderer: well-formed SVG, bars and points in proportion,
every text escaped, an all-zero series drawn without dividing by zero."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from lumenlater_sdk.backend.web.dashboard._charts import chart

_NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def test_bars_are_in_proportion_to_their_values() -> None:
    svg = _svg(chart("Volume", ["a", "b", "c"], [10, 5, 0], height=180))
    bars = svg.findall("s:rect", _NS)
    heights = [float(b.get("height", "nan")) for b in bars]
    assert len(bars) == 3
    assert heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 0
    tallest = max(heights)
    assert tallest == pytest.approx(180 - 22 - 26)  # the plot area's full height
    # Every bar stands on the same baseline.
    bottoms = {round(float(b.get("y", "0")) + float(b.get("height", "0")), 1) for b in bars}
    assert len(bottoms) == 1
    tips = [t.text for t in svg.findall("s:rect/s:title", _NS)]
    assert tips == ["a: 10", "b: 5", "c: 0"]
    assert svg.get("role") == "img" and svg.find("s:title", _NS) is not None


def test_a_line_chart_has_one_point_per_value() -> None:
    svg = _svg(chart("Rate", ["d1", "d2"], [0.5, 1.0], kind="line", fmt=lambda v: f"{v:.0%}"))
    points = svg.findall("s:circle", _NS)
    assert len(points) == 2 and svg.find("s:polyline", _NS) is not None
    ys = [float(p.get("cy", "nan")) for p in points]
    assert ys[1] < ys[0]  # higher value, higher on the page
    assert [t.text for t in svg.findall("s:circle/s:title", _NS)] == ["d1: 50%", "d2: 100%"]


def test_all_zeros_and_no_values_draw_an_empty_chart() -> None:
    zeros = _svg(chart("Nothing", ["a", "b"], [0, 0]))
    assert all(float(b.get("height", "1")) == 0 for b in zeros.findall("s:rect", _NS))
    empty = _svg(chart("Empty", [], []))
    assert empty.findall("s:rect", _NS) == [] and empty.find("s:line", _NS) is not None


def test_text_is_escaped() -> None:
    markup = chart('<script>alert("x")</script>', ["<b>&"], [1], fmt=lambda v: "<i>")
    assert "<script>" not in markup and "<b>" not in markup and "<i>" not in markup
    svg = _svg(markup)
    assert svg.find("s:title", _NS) is not None
    assert svg.find("s:title", _NS).text == '<script>alert("x")</script>'  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("labels", "values", "extra"),
    [(["a"], [1, 2], {}), (["a"], [-1], {}), (["a"], [1], {"color": "red;x"})],
)
def test_bad_input_is_refused(
    labels: list[str], values: list[float], extra: dict[str, str]
) -> None:
    with pytest.raises(ValueError):
        chart("t", labels, values, **extra)  # type: ignore[arg-type]
