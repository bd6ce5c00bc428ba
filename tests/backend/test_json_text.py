"""The backend's two JSON texts: what stored payloads and fingerprints depend on."""

from __future__ import annotations

import json

from lumenlater_sdk.backend._json_text import canonical, compact


def test_compact_keeps_order_and_has_no_spaces() -> None:
    value = {"b": [1, 2], "a": {"z": None, "y": True}}
    assert compact(value) == '{"b":[1,2],"a":{"z":null,"y":true}}'
    assert json.loads(compact(value)) == value


def test_canonical_sorts_keys_at_every_level() -> None:
    one = {"b": 1, "a": {"d": 2, "c": 3}}
    two = {"a": {"c": 3, "d": 2}, "b": 1}
    assert canonical(one) == canonical(two) == '{"a":{"c":3,"d":2},"b":1}'


def test_big_ints_and_non_ascii_survive_exactly() -> None:
    # Amounts are i128 stroops: no digit may be lost to a float on the way.
    big = 2**127 - 1
    assert canonical({"amount": big}) == f'{{"amount":{big}}}'
    # Escaped, so that "é" and "\u00e9" in a request body fingerprint alike.
    assert compact("é") == canonical("é") == '"\\u00e9"'
