"""The signature scheme of DESIGN §4, checked against an independent stdlib computation."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webhook_support import OTHER_SECRET, SECRET

from lumenlater_sdk.webhooks import SignatureVerificationError, sign, verify_signature
from lumenlater_sdk.webhooks.testing import make_event

NOW = 1_800_000_000
BODY = json.dumps(make_event("bill.paid", now=NOW), separators=(",", ":")).encode()


def stdlib_header(body: bytes, secret: str, t: int) -> str:
    """The header computed straight from DESIGN §4 with nothing but the stdlib."""
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def reason(
    body: bytes | str, header: object, secret: str | list[str] = SECRET, **kw: object
) -> str:
    with pytest.raises(SignatureVerificationError) as info:
        verify_signature(body, header, secret, now=NOW, **kw)  # type: ignore[arg-type]
    return info.value.reason


def test_independent_stdlib_signature_verifies() -> None:
    verify_signature(BODY, stdlib_header(BODY, SECRET, NOW), SECRET, now=NOW)


def test_sign_matches_the_stdlib_computation_exactly() -> None:
    assert sign(BODY, SECRET, timestamp=NOW) == stdlib_header(BODY, SECRET, NOW)


def test_sign_uses_lowercase_hex_and_current_time_by_default() -> None:
    header = sign(BODY, SECRET)
    t, v1 = header.split(",")
    assert t.startswith("t=") and t[2:].isdigit()
    assert v1.startswith("v1=") and v1[3:] == v1[3:].lower() and len(v1) == 3 + 64
    verify_signature(BODY, header, SECRET)


def test_sign_with_several_secrets_gives_one_v1_each_in_order() -> None:
    header = sign(BODY, [SECRET, OTHER_SECRET], timestamp=NOW)
    parts = header.split(",")
    assert parts[0] == f"t={NOW}"
    assert parts[1] == stdlib_header(BODY, SECRET, NOW).split(",")[1]
    assert parts[2] == stdlib_header(BODY, OTHER_SECRET, NOW).split(",")[1]
    verify_signature(BODY, header, SECRET, now=NOW)
    verify_signature(BODY, header, OTHER_SECRET, now=NOW)


def test_str_payload_is_utf8() -> None:
    text = '{"note":"café ✓"}'
    header = stdlib_header(text.encode("utf-8"), SECRET, NOW)
    verify_signature(text, header, SECRET, now=NOW)
    assert sign(text, SECRET, NOW) == header


@pytest.mark.parametrize("index", [0, len(BODY) // 2, len(BODY) - 1])
def test_tampering_one_byte_fails(index: int) -> None:
    header = sign(BODY, SECRET, NOW)
    tampered = bytearray(BODY)
    tampered[index] ^= 0x01
    assert reason(bytes(tampered), header) == "no_matching_signature"


def test_reserialised_json_fails() -> None:
    header = sign(BODY, SECRET, NOW)
    reserialised = json.dumps(json.loads(BODY)).encode()  # same data, other spacing
    assert json.loads(reserialised) == json.loads(BODY)
    assert reason(reserialised, header) == "no_matching_signature"


def test_wrong_secret_fails() -> None:
    assert reason(BODY, sign(BODY, OTHER_SECRET, NOW)) == "no_matching_signature"


def test_signature_for_another_timestamp_fails() -> None:
    v1 = sign(BODY, SECRET, NOW).split(",")[1]
    assert reason(BODY, f"t={NOW + 1},{v1}") == "no_matching_signature"


def test_any_of_several_v1_entries_may_match() -> None:
    good = stdlib_header(BODY, SECRET, NOW).split(",")[1]
    header = f"t={NOW},v1={'0' * 64},{good},v1=zz"
    verify_signature(BODY, header, SECRET, now=NOW)
    assert reason(BODY, f"t={NOW},v1={'0' * 64},v1={'f' * 64}") == "no_matching_signature"


def test_list_of_secrets_accepts_any() -> None:
    header = stdlib_header(BODY, OTHER_SECRET, NOW)
    verify_signature(BODY, header, [SECRET, OTHER_SECRET], now=NOW)
    assert reason(BODY, header, [SECRET]) == "no_matching_signature"
    with pytest.raises(ValueError):
        verify_signature(BODY, header, [], now=NOW)


def test_unknown_schemes_and_spaces_are_tolerated() -> None:
    v1 = stdlib_header(BODY, SECRET, NOW).split(",")[1]
    verify_signature(BODY, f" t={NOW} , v0=abc, {v1} ,v2=def", SECRET, now=NOW)


@pytest.mark.parametrize("offset", [0, 300, -300])
def test_timestamp_within_tolerance_both_ways(offset: int) -> None:
    header = sign(BODY, SECRET, NOW)
    verify_signature(BODY, header, SECRET, now=NOW + offset)


def test_timestamp_too_old() -> None:
    header = sign(BODY, SECRET, NOW - 301)
    assert reason(BODY, header) == "timestamp_too_old"
    verify_signature(BODY, header, SECRET, tolerance=400, now=NOW)
    verify_signature(BODY, header, SECRET, tolerance=None, now=NOW)


def test_timestamp_in_the_future() -> None:
    header = sign(BODY, SECRET, NOW + 301)
    assert reason(BODY, header) == "timestamp_in_future"
    with pytest.raises(SignatureVerificationError, match="future"):
        verify_signature(BODY, header, SECRET, now=NOW)


def test_old_timestamp_with_bad_signature_reports_the_signature() -> None:
    assert reason(BODY, f"t={NOW - 10_000},v1={'a' * 64}") == "no_matching_signature"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header(header: str | None) -> None:
    assert reason(BODY, header) == "missing_header"
    with pytest.raises(SignatureVerificationError, match="No X-LumenLater-Signature header"):
        verify_signature(BODY, header, SECRET, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"v1={'a' * 64}",  # no timestamp
        f"t={NOW}",  # no signature
        f"t={NOW},v1=",  # empty signature
        f"t=abc,v1={'a' * 64}",
        f"t=-5,v1={'a' * 64}",
        f"t=١٢٣,v1={'a' * 64}",  # Arabic-Indic digits: str.isdigit() but not ASCII
        f"t={'9' * 5000},v1={'a' * 64}",
        f"t={NOW},t={NOW},v1={'a' * 64}",
        f"=x,t={NOW},v1={'a' * 64}",
        f"t={NOW},,v1={'a' * 64}",
    ],
)
def test_malformed_header(header: str) -> None:
    assert reason(BODY, header) == "malformed_header"


def test_non_ascii_signature_is_no_match_not_a_crash() -> None:
    assert reason(BODY, f"t={NOW},v1=é{'a' * 63}") == "no_matching_signature"


def test_bytes_header_is_accepted() -> None:
    verify_signature(BODY, sign(BODY, SECRET, NOW).encode(), SECRET, now=NOW)  # type: ignore[arg-type]


@given(st.one_of(st.text(), st.binary(), st.none(), st.integers(), st.lists(st.text())))
def test_parser_raises_only_signature_errors_on_any_input(header: object) -> None:
    try:
        verify_signature(BODY, header, SECRET, now=NOW)  # type: ignore[arg-type]
    except SignatureVerificationError as exc:
        assert exc.reason in {"missing_header", "malformed_header", "no_matching_signature"}
    else:
        pytest.fail("a random header verified")


GOOD_V1 = stdlib_header(BODY, SECRET, NOW).split(",")[1]

_ITEM = st.one_of(
    st.builds(lambda t: f"t={t}", st.integers(min_value=-(10**20), max_value=10**20)),
    st.builds(lambda v: f"v1={v}", st.text(max_size=80)),
    st.text(max_size=30),
    st.sampled_from([f"t={NOW}", GOOD_V1, f" {GOOD_V1} ", f"t= {NOW}", "v0=abc", "v1=", "t="]),
)


def model_outcome(header: str) -> str:
    """DESIGN §4's header rules, written independently of the parser: the reason a
    header is refused for BODY at NOW, or "ok"."""
    if not header.strip():
        return "missing_header"
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            return "malformed_header"
        if name == "t":
            if timestamp is not None or not re.fullmatch(r"[0-9]{1,12}", value):
                return "malformed_header"
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return "malformed_header"
    if timestamp != NOW or GOOD_V1[3:] not in signatures:
        return "no_matching_signature"
    return "ok"


@settings(max_examples=500)
@given(st.lists(_ITEM, max_size=6).map(",".join))
def test_parser_agrees_with_the_header_rules(header: str) -> None:
    try:
        verify_signature(BODY, header, SECRET, now=NOW)
        outcome = "ok"
    except SignatureVerificationError as exc:
        assert exc.message
        outcome = exc.reason
    assert outcome == model_outcome(header)
    # The list-of-secrets path decides the same.
    try:
        verify_signature(BODY, header, [OTHER_SECRET, SECRET], now=NOW)
        listed = "ok"
    except SignatureVerificationError as exc:
        listed = exc.reason
    assert listed == outcome


@given(st.binary(max_size=2048), st.integers(min_value=0, max_value=10**12 - 1))
def test_sign_then_verify_roundtrip(body: bytes, t: int) -> None:
    verify_signature(body, sign(body, [OTHER_SECRET, SECRET], t), SECRET, tolerance=None)
    verify_signature(body, stdlib_header(body, SECRET, t), SECRET, now=t)
