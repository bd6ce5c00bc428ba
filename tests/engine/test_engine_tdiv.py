"""The contracts' integer division truncates toward zero (Rust's i128 `/`), for every sign."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumenlater_sdk.backend.chain.local._math import tdiv

_INT = st.integers(min_value=-(2**127), max_value=2**127 - 1)


@given(_INT, _INT.filter(lambda b: b != 0))
def test_tdiv_truncates_toward_zero(a: int, b: int) -> None:
    q = tdiv(a, b)
    assert abs(q) == abs(a) // abs(b)
    assert q == 0 or (q < 0) == ((a < 0) != (b < 0))


_VECTORS = [
    *[(7, 2, 3), (-7, 2, -3), (7, -2, -3), (-7, -2, 3), (0, 5, 0), (0, -5, 0), (1, 1, 1)],
    *[(-1, 1, -1), (5, 1, 5), (-5, -1, 5), (1, 2, 0), (-1, 2, 0), (-1, -2, 0), (1, -2, 0)],
]


@pytest.mark.parametrize(("a", "b", "q"), _VECTORS)
def test_tdiv_vectors(a: int, b: int, q: int) -> None:
    assert tdiv(a, b) == q


@pytest.mark.parametrize("a", [0, 1, -1])
def test_tdiv_by_zero_says_so(a: int) -> None:
    with pytest.raises(ZeroDivisionError, match=r"^division by zero$"):
        tdiv(a, 0)
