"""Stellar address checks, remembered: the same few customer and contract addresses
arrive on every request, and each check is a base32 decode plus a CRC16 in Python."""

from __future__ import annotations

from functools import lru_cache

from stellar_sdk import StrKey

__all__ = ["is_account", "is_account_or_contract", "is_contract"]


@lru_cache(maxsize=8192)
def is_account(value: str) -> bool:
    """Whether *value* is a valid ``G…`` account address (checksum included)."""
    return bool(StrKey.is_valid_ed25519_public_key(value))


@lru_cache(maxsize=1024)
def is_contract(value: str) -> bool:
    """Whether *value* is a valid ``C…`` contract address (checksum included)."""
    return bool(StrKey.is_valid_contract(value))


def is_account_or_contract(value: str) -> bool:
    """Either of the two (what a Soroban ``Address`` argument may be)."""
    return is_account(value) or is_contract(value)
