"""The codec's value layer as a caller sees it: exact encodings and exact refusals.

Every value type of SOROBAN.md §2 and §5 is reached through the public functions
(``encode_result``/``decode_result``, ``encode_args``/``decode_args``,
``encode_data_value``/``decode_data_value``): what a value becomes on the wire
(compared with ``stellar_sdk.xdr`` values built by hand), and, for a value of the
wrong Python type or a ScVal that is not the canonical encoding, the exception
type and its message word for word, including *where* the bad part sits.
"""

from __future__ import annotations

from typing import Any

import pytest
from codec_support import CORE_ID, ZERO, X, refusal, sym
from stellar_sdk import scval, xdr

from lumenlater_sdk.backend.chain.soroban import (
    decode_args,
    decode_data_value,
    decode_result,
    encode_args,
    encode_data_value,
    encode_result,
)


def u32(n: int) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_U32, u32=xdr.Uint32(n))


def u64(n: int) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_U64, u64=xdr.Uint64(n))


def i128(n: int) -> xdr.SCVal:
    parts = xdr.Int128Parts(xdr.Int64(n >> 64), xdr.Uint64(n & (2**64 - 1)))
    return xdr.SCVal(X.SCV_I128, i128=parts)


def u128(n: int) -> xdr.SCVal:
    parts = xdr.UInt128Parts(xdr.Uint64(n >> 64), xdr.Uint64(n & (2**64 - 1)))
    return xdr.SCVal(X.SCV_U128, u128=parts)


def string(text: str) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_STRING, str=xdr.SCString(text.encode()))


def vec(*items: xdr.SCVal) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_VEC, vec=xdr.SCVec(list(items)))


def smap(*entries: tuple[xdr.SCVal, xdr.SCVal]) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_MAP, map=xdr.SCMap([xdr.SCMapEntry(k, v) for k, v in entries]))


def b64(val: xdr.SCVal) -> str:
    return str(val.to_xdr())


ZERO_ADDRESS = scval.to_address(ZERO)
METADATA = smap((sym("decimal"), u32(7)), (sym("name"), string("n")), (sym("symbol"), string("s")))


# --- exact encodings ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("contract", "function", "value", "expected"),
    [
        ("lp_token", "utilization_ratio", 0, u32(0)),
        ("lp_token", "utilization_ratio", 2**32 - 1, u32(2**32 - 1)),
        ("bnpl_core", "create_bill", 2**64 - 1, u64(2**64 - 1)),
        ("usdc", "total_supply", -(2**127), i128(-(2**127))),
        ("usdc", "total_supply", 2**127 - 1, i128(2**127 - 1)),
        ("usdc", "total_supply", -1, i128(-1)),
        ("lp_token", "exchange_rate", 2**128 - 1, u128(2**128 - 1)),
        ("bnpl_core", "is_admin", True, xdr.SCVal(X.SCV_BOOL, b=True)),
        ("bnpl_core", "is_admin", False, xdr.SCVal(X.SCV_BOOL, b=False)),
        ("usdc", "name", "USD Coin é", string("USD Coin é")),
        ("lp_token", "update_index", None, xdr.SCVal(X.SCV_VOID)),
        ("lp_token", "get_bnpl_core", None, xdr.SCVal(X.SCV_VOID)),
        ("lp_token", "get_bnpl_core", CORE_ID, scval.to_address(CORE_ID)),
        ("bnpl_core", "get_user_bills", [], vec()),
        ("bnpl_core", "get_user_bills", [3, 1], vec(u64(3), u64(1))),
        ("bnpl_core", "get_user_total_debt", (5, -6), vec(i128(5), i128(-6))),
        ("lp_token", "metadata", {"symbol": "s", "name": "n", "decimal": 7}, METADATA),
        (
            "bnpl_core",
            "get_merchant",
            {"status": "Approved", "merchant_info_id": "m"},
            smap((sym("merchant_info_id"), string("m")), (sym("status"), vec(sym("Approved")))),
        ),
        (
            "bnpl_core",
            "get_protocol_constants",
            {"b": 2, "a": 1, "": 0},
            smap((string(""), i128(0)), (string("a"), i128(1)), (string("b"), i128(2))),
        ),
    ],
)
def test_results_encode_as_built_by_hand_and_decode_back(
    contract: str, function: str, value: Any, expected: xdr.SCVal
) -> None:
    encoded = encode_result(contract, function, value)
    assert b64(encoded) == b64(expected)
    assert decode_result(contract, function, xdr.SCVal.from_xdr(b64(expected))) == value


def test_an_address_argument_is_the_account_or_contract_address() -> None:
    account = xdr.SCAddress(
        xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT,
        account_id=xdr.AccountID(
            xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(bytes(32)))
        ),
    )
    encoded = encode_args("bnpl_core", "is_admin", [ZERO])
    assert [b64(v) for v in encoded] == [b64(xdr.SCVal(X.SCV_ADDRESS, address=account))]
    assert decode_args("bnpl_core", "is_admin", encoded) == [ZERO]


def test_a_unit_enum_argument_is_a_one_symbol_vec() -> None:
    encoded = encode_args("bnpl_core", "update_merchant_status", [ZERO, ZERO, "Suspended"])
    assert b64(encoded[2]) == b64(vec(sym("Suspended")))
    args = [ZERO, ZERO, "Suspended"]
    assert decode_args("bnpl_core", "update_merchant_status", encoded) == args


def test_empty_map_and_vec_without_body_decode_as_empty() -> None:
    # XDR lets a Vec or Map ScVal carry no body at all (an absent optional).
    no_vec, no_map = xdr.SCVal(X.SCV_VEC), xdr.SCVal(X.SCV_MAP)
    assert no_vec.vec is None and no_map.map is None
    assert decode_result("bnpl_core", "get_user_bills", no_vec) == []
    assert decode_data_value("lp_token", "balances", no_map) == {}
    assert decode_result("bnpl_core", "get_protocol_constants", no_map) == {}


# --- integers at their bounds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "function", "value", "message"),
    [
        (
            "lp_token",
            "utilization_ratio",
            2**32,
            "4294967296 is out of range for u32 (0 to 2**32 - 1)",
        ),
        ("lp_token", "utilization_ratio", -1, "u32 is unsigned, got the negative -1"),
        (
            "bnpl_core",
            "create_bill",
            2**64,
            "18446744073709551616 is out of range for u64 (0 to 2**64 - 1)",
        ),
        (
            "usdc",
            "total_supply",
            2**127,
            f"{2**127} is out of range for i128 (-2**127 to 2**127 - 1)",
        ),
        (
            "usdc",
            "total_supply",
            -(2**127) - 1,
            f"{-(2**127) - 1} is out of range for i128 (-2**127 to 2**127 - 1)",
        ),
        (
            "lp_token",
            "exchange_rate",
            2**128,
            f"{2**128} is out of range for u128 (0 to 2**128 - 1)",
        ),
    ],
)
def test_integers_one_past_their_bounds_are_refused(
    contract: str, function: str, value: int, message: str
) -> None:
    where = f"{contract}.{function} result"
    assert refusal(ValueError, encode_result, contract, function, value) == f"{where}: {message}"


# --- wrong Python types ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("contract", "function", "value", "message"),
    [
        ("lp_token", "utilization_ratio", True, "u32 must be an int, got bool True"),
        ("bnpl_core", "is_admin", 1, "bool must be True or False, got int 1"),
        ("bnpl_core", "is_admin", None, "bool must be True or False, got NoneType None"),
        ("lp_token", "update_index", 0, "() must be None, got int 0"),
        ("lp_token", "update_index", False, "() must be None, got bool False"),
        ("usdc", "name", b"x", "String must be a str, got bytes b'x'"),
        ("lp_token", "underlying_asset", 5, "Address must be a str (G… or C…), got int 5"),
        # Option: a value that is not None must be the inner type, refused at the same place.
        ("lp_token", "get_bnpl_core", 5, "Address must be a str (G… or C…), got int 5"),
        ("bnpl_core", "get_user_bills", 5, "Vec<u64> must be a list or tuple, got int 5"),
        (
            "bnpl_core",
            "get_user_bills",
            {1: 2},
            "Vec<u64> must be a list or tuple, got dict {1: 2}",
        ),
        ("bnpl_core", "get_user_bills", "12", "Vec<u64> must be a list or tuple, got str '12'"),
        ("bnpl_core", "get_user_bills", {1}, "Vec<u64> must be a list or tuple, got set {1}"),
        (
            "bnpl_core",
            "get_user_total_debt",
            None,
            "(i128, i128) must be a list or tuple, got NoneType None",
        ),
        (
            "bnpl_core",
            "get_protocol_constants",
            [("a", 1)],
            "Map<String, i128> must be a dict, got list [('a', 1)]",
        ),
        (
            "lp_token",
            "metadata",
            [7, "n", "s"],
            "TokenMetadata must be a dict of its fields, got list [7, 'n', 's']",
        ),
        (
            "bnpl_core",
            "get_merchant",
            {"status": 2, "merchant_info_id": "m"},
            "MerchantStatus must be a variant name (str), got int 2",
        ),
    ],
)
def test_a_value_of_the_wrong_python_type_is_a_type_error(
    contract: str, function: str, value: Any, message: str
) -> None:
    where = f"{contract}.{function} result"
    if function == "get_merchant":
        where += ".status"
    assert refusal(TypeError, encode_result, contract, function, value) == (f"{where}: {message}")


def test_a_long_value_is_shown_cut_to_sixty_characters() -> None:
    def shown(value: str) -> str:
        message = refusal(TypeError, encode_result, "lp_token", "update_index", value)
        return message.removeprefix("lp_token.update_index result: () must be None, got ")

    assert shown("a" * 58) == "str '" + "a" * 58 + "'"  # repr of 60 characters: whole
    assert shown("a" * 59) == "str '" + "a" * 56 + "..."  # 61: 57 kept and "..."
    assert shown("b" * 500) == "str '" + "b" * 56 + "..."


# --- values that do not fit -----------------------------------------------------------------------
def test_enum_variants_are_checked_by_name() -> None:
    where = "bnpl_core.update_merchant_status argument 3 (new_status)"
    assert refusal(
        ValueError, encode_args, "bnpl_core", "update_merchant_status", [ZERO, ZERO, "Gone"]
    ) == (
        f"{where}: 'Gone' is not a MerchantStatus variant"
        " (one of None, Pending, Approved, Rejected, Suspended, Cancelled)"
    )
    for bad, message in [
        (vec(), "a MerchantStatus variant is Vec[Symbol(name)], got a Vec of 0"),
        (
            vec(sym("Approved"), u32(1)),
            "a MerchantStatus variant is Vec[Symbol(name)], got a Vec of 2",
        ),
        (sym("Approved"), "expected SCV_VEC (MerchantStatus), got SCV_SYMBOL"),
        (u32(2), "expected SCV_VEC (MerchantStatus), got SCV_U32"),
        (
            vec(sym("Gone")),
            "'Gone' is not a MerchantStatus variant"
            " (one of None, Pending, Approved, Rejected, Suspended, Cancelled)",
        ),
    ]:
        args = [ZERO_ADDRESS, ZERO_ADDRESS, bad]
        assert (
            refusal(ValueError, decode_args, "bnpl_core", "update_merchant_status", args)
            == f"{where}: {message}"
        )
    # The variant's name must be a Symbol: the message points at element 0.
    args = [ZERO_ADDRESS, ZERO_ADDRESS, vec(u32(2))]
    assert refusal(ValueError, decode_args, "bnpl_core", "update_merchant_status", args) == (
        f"{where}[0]: expected SCV_SYMBOL (Symbol), got SCV_U32"
    )


def test_struct_fields_must_match_when_encoding() -> None:
    where = "lp_token.metadata result"
    for value, problem in [
        ({"decimal": 7}, "; missing name, symbol"),
        ({"decimal": 7, "name": "n", "symbol": "s", "zz": 1, 5: 2}, "; unknown 5, zz"),
        ({"name": "n", "x": 1, "a": 2}, "; missing decimal, symbol; unknown a, x"),
    ]:
        assert refusal(ValueError, encode_result, "lp_token", "metadata", value) == (
            f"{where}: TokenMetadata fields do not match{problem}"
        )
    bad = {"decimal": 2**32, "name": "n", "symbol": "s"}
    assert refusal(ValueError, encode_result, "lp_token", "metadata", bad) == (
        f"{where}.decimal: 4294967296 is out of range for u32 (0 to 2**32 - 1)"
    )


def test_a_struct_map_must_be_exactly_the_fields_in_order() -> None:
    where = "lp_token.metadata result"
    d, n, s = (sym("decimal"), u32(7)), (sym("name"), string("n")), (sym("symbol"), string("s"))
    for val, problem in [
        (smap(d), "; missing name, symbol"),
        (xdr.SCVal(X.SCV_MAP), "; missing decimal, name, symbol"),
        (smap(d, n, s, (sym("x"), u32(1)), (sym("y"), u32(2))), "; unknown x, y"),
        (smap(d, (sym("nam"), string("n")), s), "; missing name; unknown nam"),
        (smap(d, d, n, s), "; a field is repeated"),
        (
            smap(n, d, s),
            "; keys must be sorted by field name (decimal, name, symbol),"
            " got name, decimal, symbol",
        ),
    ]:
        assert refusal(ValueError, decode_result, "lp_token", "metadata", val) == (
            f"{where}: TokenMetadata map does not match the struct{problem}"
        )
    assert refusal(ValueError, decode_result, "lp_token", "metadata", vec()) == (
        f"{where}: expected SCV_MAP (TokenMetadata), got SCV_VEC"
    )
    keyed_by_string = smap((string("decimal"), u32(7)), n, s)
    assert refusal(ValueError, decode_result, "lp_token", "metadata", keyed_by_string) == (
        f"{where} key 0: expected SCV_SYMBOL (Symbol), got SCV_STRING"
    )
    wrong_field = smap((sym("decimal"), u64(7)), n, s)
    assert refusal(ValueError, decode_result, "lp_token", "metadata", wrong_field) == (
        f"{where}.decimal: expected SCV_U32 (u32), got SCV_U64"
    )
    assert refusal(TypeError, decode_result, "lp_token", "metadata", {"decimal": 7}) == (
        f"{where}: expected a stellar_sdk.xdr.SCVal, got dict {{'decimal': 7}}"
    )


def test_vecs_and_tuples_name_the_bad_element() -> None:
    bills = "bnpl_core.get_user_bills result"
    assert refusal(TypeError, encode_result, "bnpl_core", "get_user_bills", [1, "x"]) == (
        f"{bills}[1]: u64 must be an int, got str 'x'"
    )
    assert refusal(
        ValueError, decode_result, "bnpl_core", "get_user_bills", vec(u64(1), u32(2))
    ) == (f"{bills}[1]: expected SCV_U64 (u64), got SCV_U32")
    assert refusal(ValueError, decode_result, "bnpl_core", "get_user_bills", u64(1)) == (
        f"{bills}: expected SCV_VEC (Vec<u64>), got SCV_U64"
    )
    debt = "bnpl_core.get_user_total_debt result"
    for value in [(1, 2, 3), (1,), []]:
        assert refusal(ValueError, encode_result, "bnpl_core", "get_user_total_debt", value) == (
            f"{debt}: (i128, i128) has 2 elements, got {len(value)}"
        )
    assert refusal(ValueError, encode_result, "bnpl_core", "get_user_total_debt", [1, 2**127]) == (
        f"{debt}[1]: {2**127} is out of range for i128 (-2**127 to 2**127 - 1)"
    )
    for val in [vec(i128(1)), vec(i128(1), i128(2), i128(3)), xdr.SCVal(X.SCV_VEC)]:
        n = len(val.vec.sc_vec) if val.vec else 0
        assert refusal(ValueError, decode_result, "bnpl_core", "get_user_total_debt", val) == (
            f"{debt}: (i128, i128) has 2 elements, got {n}"
        )
    assert refusal(
        ValueError, decode_result, "bnpl_core", "get_user_total_debt", vec(i128(1), u128(2))
    ) == (f"{debt}[1]: expected SCV_I128 (i128), got SCV_U128")
    assert decode_result("bnpl_core", "get_user_total_debt", vec(i128(1), i128(-2))) == (1, -2)


def test_option_is_void_or_the_bare_value() -> None:
    where = "lp_token.get_bnpl_core result"
    assert decode_result("lp_token", "get_bnpl_core", xdr.SCVal(X.SCV_VOID)) is None
    assert decode_result("lp_token", "get_bnpl_core", scval.to_address(CORE_ID)) == CORE_ID
    assert refusal(ValueError, decode_result, "lp_token", "get_bnpl_core", vec()) == (
        f"{where}: expected SCV_ADDRESS (Address), got SCV_VEC"
    )
    assert refusal(ValueError, encode_result, "lp_token", "get_bnpl_core", "GABC") == (
        f"{where}: 'GABC' is not a G… account or C… contract address"
    )


# --- maps --------------------------------------------------------------------------------------
BAL = "lp_token storage balances value"
ALLOW = "lp_token storage allowance value"


class SameText(str):
    """A str that equals only itself: two of them with one text are two dict keys."""

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


def test_map_encoding_refusals_name_the_key() -> None:
    assert refusal(TypeError, encode_data_value, "lp_token", "balances", [(1, 1)]) == (
        f"{BAL}: Map<Address, u128> must be a dict, got list [(1, 1)]"
    )
    assert refusal(TypeError, encode_data_value, "lp_token", "balances", {5: 1}) == (
        f"{BAL} key 5: Address must be a str (G… or C…), got int 5"
    )
    assert refusal(ValueError, encode_data_value, "lp_token", "balances", {ZERO: -1}) == (
        f"{BAL}['{ZERO}']: u128 is unsigned, got the negative -1"
    )
    assert refusal(ValueError, encode_data_value, "lp_token", "allowance", {(ZERO,): 1}) == (
        f"{ALLOW} key ('{ZERO}',): (Address, Address) has 2 elements, got 1"
    )
    twins = {SameText("a"): 1, SameText("a"): 2}
    assert len(twins) == 2
    where = "bnpl_core.get_protocol_constants result"
    assert refusal(ValueError, encode_result, "bnpl_core", "get_protocol_constants", twins) == (
        f"{where}: two keys of the dict encode to the same ScVal"
    )


def test_map_decoding_refusals() -> None:
    one = u128(1)
    assert refusal(ValueError, decode_data_value, "lp_token", "balances", u32(1)) == (
        f"{BAL}: expected SCV_MAP (Map<Address, u128>), got SCV_U32"
    )
    wrong_value = smap((ZERO_ADDRESS, i128(1)))
    assert refusal(ValueError, decode_data_value, "lp_token", "balances", wrong_value) == (
        f"{BAL}['{ZERO}']: expected SCV_U128 (u128), got SCV_I128"
    )
    repeated = smap((ZERO_ADDRESS, one), (ZERO_ADDRESS, one))
    assert refusal(ValueError, decode_data_value, "lp_token", "balances", repeated) == (
        f"{BAL}: Map<Address, u128> repeats a key"
    )
    contract_first = smap((scval.to_address(CORE_ID), one), (ZERO_ADDRESS, one))
    assert refusal(ValueError, decode_data_value, "lp_token", "balances", contract_first) == (
        f"{BAL}: Map<Address, u128> keys are not in ascending Soroban value order"
    )
    # Keys are ordered (as the host orders any ScVal) before they are decoded as the
    # key type: each of these maps is in order, so the key type is what is refused.
    for keys, got in [
        ([xdr.SCVal(X.SCV_BOOL, b=False), xdr.SCVal(X.SCV_BOOL, b=True)], "SCV_BOOL"),
        ([u32(1), u32(2)], "SCV_U32"),
        ([u64(1), u64(2**64 - 1)], "SCV_U64"),
        ([i128(-1), i128(1)], "SCV_I128"),
        ([u128(1), u128(2**64)], "SCV_U128"),
        ([string("a"), string("b")], "SCV_STRING"),
        ([sym("a"), sym("b")], "SCV_SYMBOL"),
        ([vec(u32(1)), vec(u32(2))], "SCV_VEC"),
        ([xdr.SCVal(X.SCV_VEC), vec(u32(0))], "SCV_VEC"),
    ]:
        val = smap(*((k, one) for k in keys))
        assert refusal(ValueError, decode_data_value, "lp_token", "balances", val) == (
            f"{BAL} key 0: expected SCV_ADDRESS (Address), got {got}"
        )
        backwards = smap(*((k, one) for k in reversed(keys)))
        assert refusal(ValueError, decode_data_value, "lp_token", "balances", backwards) == (
            f"{BAL}: Map<Address, u128> keys are not in ascending Soroban value order"
        )
    for keys in [[sym("a"), u32(1)], [u64(0), u32(1)], [string(""), u128(9)]]:  # by type first
        val = smap(*((k, one) for k in keys))
        assert refusal(ValueError, decode_data_value, "lp_token", "balances", val) == (
            f"{BAL}: Map<Address, u128> keys are not in ascending Soroban value order"
        )
    for key in [xdr.SCVal(X.SCV_VOID), xdr.SCVal(X.SCV_BYTES, bytes=xdr.SCBytes(b"a"))]:
        val = smap((key, one), (ZERO_ADDRESS, one))
        assert refusal(ValueError, decode_data_value, "lp_token", "balances", val) == (
            f"no ordering for {key.type.name} map keys"
        )


def test_allowance_map_is_keyed_by_an_address_pair() -> None:
    a, c = ZERO_ADDRESS, scval.to_address(CORE_ID)
    val = smap((vec(a, c), u128(5)), (vec(c, a), u128(6)))
    assert decode_data_value("lp_token", "allowance", val) == {
        (ZERO, CORE_ID): 5,
        (CORE_ID, ZERO): 6,
    }
    assert b64(
        encode_data_value("lp_token", "allowance", {(CORE_ID, ZERO): 6, (ZERO, CORE_ID): 5})
    ) == b64(val)
    # A Vec key without a body orders as the empty Vec and is refused as too short.
    short = smap((xdr.SCVal(X.SCV_VEC), u128(1)), (vec(a, c), u128(5)))
    assert refusal(ValueError, decode_data_value, "lp_token", "allowance", short) == (
        f"{ALLOW} key 0: (Address, Address) has 2 elements, got 0"
    )
    bad_element = smap((vec(a, u32(1)), u128(1)))
    assert refusal(ValueError, decode_data_value, "lp_token", "allowance", bad_element) == (
        f"{ALLOW} key 0[1]: expected SCV_ADDRESS (Address), got SCV_U32"
    )
