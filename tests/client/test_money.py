"""Amounts are int stroops; ``usdc()`` reads them from text, ``format_usdc()`` prints them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lumenlater_sdk import format_usdc, usdc


@pytest.mark.parametrize(
    ("stroops", "text"),
    [
        (0, "0.00 USDC"),
        (1, "0.0000001 USDC"),
        (usdc("187.5"), "187.50 USDC"),
        (usdc("150"), "150.00 USDC"),
        (usdc("40.25"), "40.25 USDC"),
        (usdc("1234567.8912345"), "1,234,567.8912345 USDC"),
        (usdc("0.1"), "0.10 USDC"),
        (usdc("0.105"), "0.105 USDC"),
        (-usdc("12.3"), "-12.30 USDC"),
        (2**62, "461,168,601,842.7387904 USDC"),
    ],
)
def test_format_usdc(stroops: int, text: str) -> None:
    assert format_usdc(stroops) == text
    assert format_usdc(stroops, currency=False) == text.removesuffix(" USDC")
    # Never rounded: the text reads back to the same stroops.
    assert usdc(text.removesuffix(" USDC").replace(",", "")) == stroops


@pytest.mark.parametrize("bad", [1.5, True, "12", Decimal("1"), None])
def test_format_usdc_takes_int_stroops_only(bad: object) -> None:
    with pytest.raises(TypeError, match="int number of stroops"):
        format_usdc(bad)  # type: ignore[arg-type]
