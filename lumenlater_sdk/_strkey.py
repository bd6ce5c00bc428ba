"""Stellar's StrKey text form of account (``G…``) and contract (``C…``) ids (SEP-23).

The client validates customer addresses before a request and the webhook test helpers
make plausible ids; neither should need stellar-sdk (a heavy install that takes half a
second to import) in a plain ``pip install lumenlater-sdk``. The format is small and
fixed: a version byte, the 32-byte key, and a CRC16-XModem checksum (little-endian),
base32-encoded without padding. The test suite checks both directions against
stellar-sdk.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

__all__ = ["encode_account_id", "encode_contract_id", "is_account_id"]

_ACCOUNT = 6 << 3  # "G"
_CONTRACT = 2 << 3  # "C"


def _checksum(data: bytes) -> bytes:
    crc = binascii.crc_hqx(data, 0)  # CRC-16/XMODEM: polynomial 0x1021, initial value 0
    return crc.to_bytes(2, "little")


def _encode(version: int, key: bytes) -> str:
    if len(key) != 32:
        raise ValueError(f"a StrKey payload is 32 bytes, not {len(key)}")
    body = bytes([version]) + key
    return base64.b32encode(body + _checksum(body)).decode("ascii")


def encode_account_id(public_key: bytes) -> str:
    """The ``G…`` address of a 32-byte ed25519 public key."""
    return _encode(_ACCOUNT, public_key)


def encode_contract_id(contract_hash: bytes) -> str:
    """The ``C…`` address of a 32-byte contract id."""
    return _encode(_CONTRACT, contract_hash)


@lru_cache(maxsize=1024)
def is_account_id(address: str) -> bool:
    """Whether *address* is a well-formed ``G…`` account id (version, length, checksum)."""
    # 35 bytes are exactly 56 base32 characters: no padding and no spare bits, so any
    # string of that length in the (upper-case) alphabet decodes canonically.
    if len(address) != 56 or not address.isascii():
        return False
    try:
        raw = base64.b32decode(address)
    except binascii.Error:
        return False
    body, checksum = raw[:-2], raw[-2:]
    return body[0] == _ACCOUNT and _checksum(body) == checksum
