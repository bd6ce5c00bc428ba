"""The SDK's own StrKey codec agrees with stellar-sdk's in both directions."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stellar_sdk import Keypair, StrKey

from lumenlater_sdk._strkey import encode_account_id, encode_contract_id, is_account_id

keys = st.binary(min_size=32, max_size=32)


@given(keys)
def test_account_ids_match_stellar_sdk(key: bytes) -> None:
    address = encode_account_id(key)
    assert address == StrKey.encode_ed25519_public_key(key)
    assert is_account_id(address)


@given(keys)
def test_contract_ids_match_stellar_sdk(key: bytes) -> None:
    assert encode_contract_id(key) == StrKey.encode_contract(key)


def test_a_real_keypair_is_an_account_id() -> None:
    assert is_account_id(Keypair.random().public_key)


@given(
    keys,
    st.integers(min_value=0, max_value=55),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
)
def test_any_changed_character_is_refused_like_stellar_sdk(
    key: bytes, position: int, char: str
) -> None:
    address = encode_account_id(key)
    changed = address[:position] + char + address[position + 1 :]
    assert is_account_id(changed) is StrKey.is_valid_ed25519_public_key(changed)
    if changed != address:
        assert not is_account_id(changed)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "G" * 56,
        encode_contract_id(os.urandom(32)),  # a contract, not an account
        encode_account_id(os.urandom(32)).lower(),
        encode_account_id(os.urandom(32))[:-1],
        encode_account_id(os.urandom(32)) + "A",
        encode_account_id(os.urandom(32))[:-1] + "1",  # outside the base32 alphabet
        "G" + "é" * 55,
    ],
)
def test_malformed_addresses_are_refused(text: str) -> None:
    assert not is_account_id(text)
    assert not StrKey.is_valid_ed25519_public_key(text)


def test_only_32_byte_keys_encode() -> None:
    with pytest.raises(ValueError, match="32 bytes, not 31"):
        encode_account_id(b"\x00" * 31)
