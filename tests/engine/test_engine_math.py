"""The integer formulas on their own: truncating division and the fee arithmetic."""

from __future__ import annotations

from engine_support import DAY
from hypothesis import given, settings
from hypothesis import strategies as st

from lumenlater_sdk.backend.chain.local import ProtocolConstants
from lumenlater_sdk.backend.chain.local._math import (
    borrowing_power,
    late_fee,
    split_fee,
    tdiv,
)

C = ProtocolConstants()
I128 = st.integers(-(1 << 127), (1 << 127) - 1)


def test_tdiv_truncates_toward_zero_unlike_floor() -> None:
    assert tdiv(7, 2) == 3 and 7 // 2 == 3
    assert tdiv(-7, 2) == -3 and -7 // 2 == -4
    assert tdiv(7, -2) == -3
    assert tdiv(-7, -2) == 3
    assert tdiv(0, -5) == 0


@settings(max_examples=300, deadline=None)
@given(a=I128, b=I128.filter(lambda b: b != 0))
def test_tdiv_is_rust_division(a: int, b: int) -> None:
    q = tdiv(a, b)
    r = a - q * b
    assert abs(r) < abs(b)
    assert r == 0 or (r > 0) == (a > 0)  # the remainder takes the dividend's sign


def test_late_fee_uses_whole_days_after_grace() -> None:
    start = 1_000_000
    assert late_fee(10**10, start, start + 14 * DAY, C) == 0
    assert late_fee(10**10, start, start + 15 * DAY - 1, C) == 0
    assert late_fee(10**10, start, start + 15 * DAY, C) == 8_219_178
    assert late_fee(10**10, start, start + 20 * DAY, C) == 49_315_068


def test_fee_split_truncates_each_part() -> None:
    split = split_fee(49_315_068, C)
    assert (split.treasury, split.insurance, split.lp) == (9_863_013, 4_931_506, 34_520_547)
    assert split.dust(49_315_068) == 2


def test_borrowing_power_health_factor_is_integer_division() -> None:
    bp = borrowing_power(lp_balance=1_000, interest=10, principal=290, c=C)
    assert bp.max_borrowing == 900
    assert bp.current_debt == 300
    assert bp.available_borrowing == 600
    assert bp.required_collateral == 333  # 300 * 1.11
    assert bp.overall_health_factor == 3
    assert borrowing_power(100, 0, 500, C).available_borrowing == 0  # never negative


def test_health_factor_with_the_smallest_debt_and_with_none() -> None:
    # One stroop of debt is a debt: the factor is max borrowing over it, not the no-debt 1.
    assert (
        borrowing_power(lp_balance=1_000, interest=0, principal=1, c=C).overall_health_factor == 900
    )
    assert (
        borrowing_power(lp_balance=1_000, interest=1, principal=0, c=C).overall_health_factor == 900
    )
    assert (
        borrowing_power(lp_balance=1_000, interest=0, principal=0, c=C).overall_health_factor == 1
    )
