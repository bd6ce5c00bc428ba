"""The codec's refusals of malformed calls, results and events, word for word.

Each case names what was wrong (the argument list, the topic list, one topic, the
data) and where (contract, function or event), so a caller can tell a bad call
from a bad value. ``args=`` of ``encode_result``/``decode_result`` is checked
against the signature exactly as ``encode_args`` checks it.
"""

from __future__ import annotations

from typing import Any

import pytest
from codec_support import ZERO, refusal
from stellar_sdk import scval

from lumenlater_sdk.backend.chain.soroban import (
    decode_args,
    decode_event,
    decode_result,
    encode_args,
    encode_event,
    encode_result,
)


# --- argument lists -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "shown"),
    [("1", "str '1'"), (b"1", "bytes b'1'"), ({1}, "set {1}"), (None, "NoneType None")],
)
def test_an_argument_list_that_is_no_list_is_refused(args: Any, shown: str) -> None:
    expected = f"bnpl_core.get_bill: arguments must be a list, got {shown}"
    value = scval.to_uint64(1)
    assert refusal(TypeError, lambda: encode_args("bnpl_core", "get_bill", args)) == expected
    assert (
        refusal(TypeError, lambda: decode_args("bnpl_core", "get_bill", args))
        == f"bnpl_core.get_bill: ScVal arguments must be a list, got {shown}"
    )
    if args is not None:  # args=None means "not given"
        assert (
            refusal(TypeError, lambda: encode_result("bnpl_core", "get_bill", {}, args=args))
            == expected
        )
        assert (
            refusal(TypeError, lambda: decode_result("bnpl_core", "get_bill", value, args=args))
            == expected
        )


@pytest.mark.parametrize("args", [[], [1, 2], (1, 2, 3)])
def test_a_result_for_the_wrong_argument_count_is_refused(args: Any) -> None:
    expected = f"bnpl_core.get_bill takes 1 arguments (bill_id: u64), got {len(args)}"
    assert (
        refusal(ValueError, lambda: encode_result("bnpl_core", "get_bill", {}, args=args))
        == expected
    )
    assert (
        refusal(
            ValueError,
            lambda: decode_result("bnpl_core", "get_bill", scval.to_uint64(1), args=args),
        )
        == expected
    )


def test_a_result_for_the_right_arguments_is_the_result_without_them() -> None:
    # The arguments are only checked: the result is the same with or without them.
    assert encode_result("usdc", "decimals", 7, args=[]) == scval.to_uint32(7)
    assert encode_result("bnpl_core", "get_user_bills", [1, 2], args=(ZERO,)) == (
        encode_result("bnpl_core", "get_user_bills", [1, 2])
    )
    assert decode_result("bnpl_core", "repay_bill", scval.to_void(), args=[7]) is None
    assert decode_result("lp_token", "deposit", scval.to_int128(5), args=(ZERO, 5)) == 5


# --- event topic lists ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("topics", "shown"),
    [
        ((), "tuple ()"),
        ([], "list []"),
        ("burn", "str 'burn'"),
        (b"burn", "bytes b'burn'"),
        ({"burn"}, "set {'burn'}"),
        (None, "NoneType None"),
    ],
)
def test_encode_event_refuses_a_topic_list_that_is_empty_or_no_list(
    topics: Any, shown: str
) -> None:
    assert (
        refusal(TypeError, lambda: encode_event("usdc", topics, 1))
        == f"usdc event: topics must be a non-empty tuple or list, got {shown}"
    )


@pytest.mark.parametrize("topics", [(), [], {scval.to_symbol("burn")}, None])
def test_decode_event_refuses_a_topic_list_that_is_empty_or_no_list(topics: Any) -> None:
    assert (
        refusal(ValueError, lambda: decode_event("usdc", topics, scval.to_int128(1)))
        == "usdc event: expected a non-empty list of topic ScVals"
    )


@pytest.mark.parametrize(("name", "shown"), [(1, "int 1"), (b"burn", "bytes b'burn'")])
def test_encode_event_refuses_a_first_topic_that_is_no_name(name: Any, shown: str) -> None:
    assert (
        refusal(TypeError, lambda: encode_event("usdc", (name, ZERO), 1))
        == f"usdc event: the first topic must be its name, got {shown}"
    )


@pytest.mark.parametrize("count", [1, 2, 4])
def test_decode_event_refuses_the_wrong_topic_count(count: int) -> None:
    topics = [scval.to_symbol("transfer"), *[scval.to_address(ZERO)] * (count - 1)]
    assert (
        refusal(ValueError, lambda: decode_event("usdc", topics, scval.to_int128(1)))
        == "usdc event transfer has 3 topic ScVals (name, from: Address, to: Address),"
        f" got {count}"
    )


# --- one topic, the data --------------------------------------------------------------------
def test_encode_event_names_the_topic_it_refuses() -> None:
    assert (
        refusal(TypeError, lambda: encode_event("usdc", ("burn", 1), 1))
        == "usdc event burn topic 1 (from): Address must be a str (G… or C…), got int 1"
    )
    assert (
        refusal(ValueError, lambda: encode_event("usdc", ("transfer", ZERO, "GABC"), 1))
        == "usdc event transfer topic 2 (to): 'GABC' is not a G… account or C… contract address"
    )


def test_encode_event_names_the_data_it_refuses() -> None:
    assert (
        refusal(TypeError, lambda: encode_event("usdc", ("burn", ZERO), 1.0))
        == "usdc event burn data: i128 must be an int, got float 1.0"
    )
