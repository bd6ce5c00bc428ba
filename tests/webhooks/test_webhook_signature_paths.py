"""Every way a receiver can call ``verify_signature`` enforces the same rules.

The verifier has a fast path for the common shape (bytes body, one secret, one
``v1``) and a general one; a receiver cannot tell which it gets, so each rule here
is checked on every input shape a real receiver produces: a list of secrets, a
header with two ``v1`` entries during rotation, ``str`` and ``bytearray`` bodies,
a ``bytes`` header, spaces and unknown schemes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from webhook_support import OTHER_SECRET, SECRET

from lumenlater_sdk.webhooks import SignatureVerificationError, verify_signature
from lumenlater_sdk.webhooks.testing import make_event

NOW = 1_800_000_000
BODY = json.dumps(make_event("bill.paid", now=NOW), separators=(",", ":")).encode()


def mac(secret: str, t: int, body: bytes = BODY) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Shape:
    """One way of presenting (body, header, secret) to the verifier."""

    name: str
    call: Callable[[int, dict[str, Any]], None]


def _plain(t: int, kw: dict[str, Any]) -> None:
    verify_signature(BODY, f"t={t},v1={mac(SECRET, t)}", SECRET, **kw)


def _secret_list(t: int, kw: dict[str, Any]) -> None:
    verify_signature(BODY, f"t={t},v1={mac(SECRET, t)}", [OTHER_SECRET, SECRET], **kw)


def _one_secret_in_a_list(t: int, kw: dict[str, Any]) -> None:
    verify_signature(BODY, f"t={t},v1={mac(SECRET, t)}", [SECRET], **kw)


def _two_v1_rotation(t: int, kw: dict[str, Any]) -> None:
    header = f"t={t},v1={mac(OTHER_SECRET, t)},v1={mac(SECRET, t)}"
    verify_signature(BODY, header, SECRET, **kw)


def _str_body(t: int, kw: dict[str, Any]) -> None:
    verify_signature(BODY.decode(), f"t={t},v1={mac(SECRET, t)}", SECRET, **kw)


def _bytearray_body(t: int, kw: dict[str, Any]) -> None:
    verify_signature(bytearray(BODY), f"t={t},v1={mac(SECRET, t)}", SECRET, **kw)


def _memoryview_body(t: int, kw: dict[str, Any]) -> None:
    verify_signature(memoryview(BODY), f"t={t},v1={mac(SECRET, t)}", SECRET, **kw)


def _bytes_header(t: int, kw: dict[str, Any]) -> None:
    header = f"t={t},v1={mac(SECRET, t)}".encode()
    verify_signature(BODY, header, SECRET, **kw)  # type: ignore[arg-type]


def _spaces_and_other_schemes(t: int, kw: dict[str, Any]) -> None:
    header = f" t={t} , v0=abc, v1={mac(SECRET, t)} "
    verify_signature(BODY, header, SECRET, **kw)


def _v1_first(t: int, kw: dict[str, Any]) -> None:
    verify_signature(BODY, f"v1={mac(SECRET, t)},t={t}", SECRET, **kw)


SHAPES = [
    Shape("plain", _plain),
    Shape("secret_list", _secret_list),
    Shape("one_secret_in_a_list", _one_secret_in_a_list),
    Shape("two_v1_rotation", _two_v1_rotation),
    Shape("str_body", _str_body),
    Shape("bytearray_body", _bytearray_body),
    Shape("memoryview_body", _memoryview_body),
    Shape("bytes_header", _bytes_header),
    Shape("spaces_and_other_schemes", _spaces_and_other_schemes),
    Shape("v1_first", _v1_first),
]
shapes = pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])


def refusal(shape: Shape, t: int, **kw: Any) -> str:
    with pytest.raises(SignatureVerificationError) as info:
        shape.call(t, kw)
    return info.value.reason


@shapes
@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_signed_within_the_default_tolerance_is_accepted(shape: Shape, offset: int) -> None:
    shape.call(NOW + offset, {"now": NOW})


@shapes
@pytest.mark.parametrize("age", [301, 3600, 86400])
def test_an_old_signature_is_refused(shape: Shape, age: int) -> None:
    assert refusal(shape, NOW - age, now=NOW) == "timestamp_too_old"


@shapes
@pytest.mark.parametrize("ahead", [301, 86400])
def test_a_signature_from_the_future_is_refused(shape: Shape, ahead: int) -> None:
    assert refusal(shape, NOW + ahead, now=NOW) == "timestamp_in_future"


@shapes
def test_the_boundary_moves_with_a_custom_tolerance(shape: Shape) -> None:
    shape.call(NOW - 60, {"now": NOW, "tolerance": 60})
    shape.call(NOW + 60, {"now": NOW, "tolerance": 60})
    assert refusal(shape, NOW - 61, now=NOW, tolerance=60) == "timestamp_too_old"
    assert refusal(shape, NOW + 61, now=NOW, tolerance=60) == "timestamp_in_future"


@shapes
def test_zero_tolerance_means_this_very_second_only(shape: Shape) -> None:
    shape.call(NOW, {"now": NOW, "tolerance": 0})
    assert refusal(shape, NOW - 1, now=NOW, tolerance=0) == "timestamp_too_old"
    assert refusal(shape, NOW + 1, now=NOW, tolerance=0) == "timestamp_in_future"


@shapes
def test_a_fractional_now_is_compared_exactly(shape: Shape) -> None:
    # 300.5 s old with a clock that has sub-second precision: too old.
    assert refusal(shape, NOW - 300, now=NOW + 0.5) == "timestamp_too_old"
    shape.call(NOW - 300, {"now": NOW + 0.0})


@shapes
def test_none_tolerance_turns_the_time_check_off(shape: Shape) -> None:
    shape.call(NOW - 10 * 365 * 86400, {"now": NOW, "tolerance": None})
    shape.call(NOW + 86400, {"now": NOW, "tolerance": None})


@shapes
def test_a_signed_timestamp_of_more_than_twelve_digits_is_malformed(shape: Shape) -> None:
    # Correctly signed, and with the time check off: the digits' count alone refuses it,
    # on the fast path (which reads the digits by position) as on parse_header.
    assert refusal(shape, 10**12, tolerance=None) == "malformed_header"
    shape.call(10**12 - 1, {"tolerance": None})


@shapes
def test_without_now_the_real_clock_is_used(shape: Shape) -> None:
    fresh = int(time.time())
    shape.call(fresh, {})
    assert refusal(shape, fresh - 3600) == "timestamp_too_old"
    assert refusal(shape, fresh + 3600) == "timestamp_in_future"


@shapes
def test_a_bad_signature_is_reported_before_the_time(shape: Shape) -> None:
    # A forged header must not learn whether its timestamp would have passed.
    def forged(t: int, kw: dict[str, Any]) -> None:
        verify_signature(BODY, f"t={t},v1={mac(SECRET, t, b'other body')}", SECRET, **kw)

    assert refusal(Shape("forged", forged), NOW - 86400, now=NOW) == "no_matching_signature"
    assert refusal(Shape("forged", forged), NOW, now=NOW) == "no_matching_signature"
    # ...and the shape itself still passes with the right body.
    shape.call(NOW, {"now": NOW})


@pytest.mark.parametrize(
    "secret",
    [SECRET, [SECRET], [OTHER_SECRET, SECRET]],
    ids=["str", "list", "rotation_list"],
)
def test_wrong_secret_is_refused_on_every_path(secret: str | list[str]) -> None:
    header = f"t={NOW},v1={mac('whsec_someone_else', NOW)}"
    with pytest.raises(SignatureVerificationError) as info:
        verify_signature(BODY, header, secret, now=NOW)
    assert info.value.reason == "no_matching_signature"


@pytest.mark.parametrize("body", [BODY, BODY.decode(), bytearray(BODY)], ids=type)
def test_a_changed_body_is_refused_on_every_path(body: bytes | str | bytearray) -> None:
    header = f"t={NOW},v1={mac(SECRET, NOW, BODY + b' ')}"
    with pytest.raises(SignatureVerificationError) as info:
        verify_signature(body, header, [SECRET], now=NOW)
    assert info.value.reason == "no_matching_signature"
    with pytest.raises(SignatureVerificationError):
        verify_signature(body, header, SECRET, now=NOW)


def test_the_signed_message_is_timestamp_dot_body() -> None:
    # A signature of the body alone, or of "t" + body without the dot, is not accepted.
    for message in (BODY, f"{NOW}".encode() + BODY, f"{NOW}:".encode() + BODY):
        wrong = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
        for secret in (SECRET, [SECRET]):
            with pytest.raises(SignatureVerificationError):
                verify_signature(BODY, f"t={NOW},v1={wrong}", secret, now=NOW)


def test_uppercase_hex_is_not_the_lowercase_signature() -> None:
    # DESIGN §4 fixes lowercase hex; comparing case-insensitively would widen the match.
    upper = mac(SECRET, NOW).upper()
    for secret in (SECRET, [SECRET]):
        with pytest.raises(SignatureVerificationError):
            verify_signature(BODY, f"t={NOW},v1={upper}", secret, now=NOW)


def test_a_truncated_signature_is_refused() -> None:
    short = mac(SECRET, NOW)[:-1]
    for secret in (SECRET, [SECRET]):
        with pytest.raises(SignatureVerificationError):
            verify_signature(BODY, f"t={NOW},v1={short}", secret, now=NOW)


def test_an_empty_secret_list_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^at least one webhook secret is required$"):
        verify_signature(BODY, f"t={NOW},v1={mac(SECRET, NOW)}", [], now=NOW)


def test_non_ascii_secret_is_encoded_as_utf8() -> None:
    secret = "whsec_é_ünïcode"
    verify_signature(BODY, f"t={NOW},v1={mac(secret, NOW)}", secret, now=NOW)
    verify_signature(BODY, f"t={NOW},v1={mac(secret, NOW)}", [secret], now=NOW)


def test_error_messages_say_how_far_off_the_time_is() -> None:
    with pytest.raises(SignatureVerificationError) as old:
        verify_signature(BODY, f"t={NOW - 900},v1={mac(SECRET, NOW - 900)}", SECRET, now=NOW)
    assert str(old.value) == "Timestamp too old: signed 900 s ago (tolerance 300 s)"
    with pytest.raises(SignatureVerificationError) as ahead:
        verify_signature(BODY, f"t={NOW + 900},v1={mac(SECRET, NOW + 900)}", SECRET, now=NOW)
    assert str(ahead.value) == "Timestamp in the future: 900 s ahead (tolerance 300 s)"
    with pytest.raises(SignatureVerificationError) as list_path:
        verify_signature(BODY, f"t={NOW + 900},v1={mac(SECRET, NOW + 900)}", [SECRET], now=NOW)
    assert str(list_path.value) == str(ahead.value)


def test_refusal_messages_name_the_check() -> None:
    with pytest.raises(SignatureVerificationError) as no_match:
        verify_signature(BODY, f"t={NOW},v1={mac(OTHER_SECRET, NOW)}", SECRET, now=NOW)
    assert str(no_match.value) == (
        "No signature in the header matches the payload for the given secret(s)"
    )
    with pytest.raises(SignatureVerificationError) as not_str:
        verify_signature(BODY, 12345, SECRET, now=NOW)  # type: ignore[arg-type]
    assert str(not_str.value) == "Malformed X-LumenLater-Signature header: not a string"
    assert not_str.value.reason == "malformed_header"


@pytest.mark.parametrize(
    "header",
    [
        "x={t},v1={sig}",  # not a t= item, though shaped like one
        "tt{t},v1={sig}",
        "t={t},t==5,v1={sig}",  # a second t entry, however spelled
        "T={t},v1={sig}",
    ],
)
def test_lookalikes_of_a_valid_header_are_malformed(header: str) -> None:
    text = header.format(t=NOW, sig=mac(SECRET, NOW))
    for secret in (SECRET, [SECRET]):
        with pytest.raises(SignatureVerificationError) as info:
            verify_signature(BODY, text, secret, now=NOW)
        assert info.value.reason == "malformed_header", text
