"""Soroban authorization entries signed outside the backend (SOROBAN.md §8), I/O free.

A self-custody merchant (and a shopper in their own wallet) signs its part of a call
as an account does on Stellar: an address-credentials ``SorobanAuthorizationEntry``
whose signature covers the ``ENVELOPE_TYPE_SOROBAN_AUTHORIZATION`` preimage (network
id, nonce, expiration ledger, invocation). :func:`request_authorization` makes the
unsigned entry the backend hands out; :func:`check_signed_entry` is what both
gateways (and the sandbox's RPC endpoint) verify before a call may use it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stellar_sdk import Address, Keypair, StrKey, scval, xdr
from stellar_sdk.auth import build_authorization_preimage

from ._codec import encode_args

__all__ = [
    "AUTHORIZATION_LEDGERS",
    "AuthorizationError",
    "AuthorizationRequest",
    "check_signed_entry",
    "contract_invocation",
    "decode_entry",
    "request_authorization",
    "signature_payload",
    "verify_signature",
]

AUTHORIZATION_LEDGERS = 17_280
"""How long a handed-out entry may be signed and used: a day of 5-second ledgers, as
long as the bill it creates stays payable."""


class AuthorizationError(ValueError):
    """A signed entry that cannot authorise the call: the reason, for the caller."""


@dataclass(frozen=True)
class AuthorizationRequest:
    """An unsigned entry for *address* to sign: *entry_xdr* is base64 XDR whose
    credentials carry *nonce* and *signature_expiration_ledger*."""

    address: str
    contract_id: str
    function: str
    entry_xdr: str
    nonce: int
    signature_expiration_ledger: int
    network_passphrase: str


def contract_invocation(
    contract_id: str,
    contract: str,
    function: str,
    args: Sequence[Any],
    children: Sequence[xdr.SorobanAuthorizedInvocation] = (),
) -> xdr.SorobanAuthorizedInvocation:
    """The invocation ``contract.function(*args)`` (arguments encoded as SOROBAN.md says)."""
    return xdr.SorobanAuthorizedInvocation(
        function=xdr.SorobanAuthorizedFunction(
            xdr.SorobanAuthorizedFunctionType.SOROBAN_AUTHORIZED_FUNCTION_TYPE_CONTRACT_FN,
            contract_fn=xdr.InvokeContractArgs(
                Address(contract_id).to_xdr_sc_address(),
                xdr.SCSymbol(function.encode()),
                encode_args(contract, function, list(args)),
            ),
        ),
        sub_invocations=list(children),
    )


def request_authorization(
    *,
    address: str,
    invocation: xdr.SorobanAuthorizedInvocation,
    contract_id: str,
    function: str,
    latest_ledger: int,
    network_passphrase: str,
) -> AuthorizationRequest:
    """An unsigned entry for *address* over *invocation*: a fresh random nonce, valid for
    :data:`AUTHORIZATION_LEDGERS` after *latest_ledger*."""
    nonce = secrets.randbits(63)
    expiration = latest_ledger + AUTHORIZATION_LEDGERS
    entry = xdr.SorobanAuthorizationEntry(
        xdr.SorobanCredentials(
            xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_ADDRESS,
            address=xdr.SorobanAddressCredentials(
                Address(address).to_xdr_sc_address(),
                xdr.Int64(nonce),
                xdr.Uint32(expiration),
                xdr.SCVal(xdr.SCValType.SCV_VOID),
            ),
        ),
        invocation,
    )
    return AuthorizationRequest(
        address, contract_id, function, entry.to_xdr(), nonce, expiration, network_passphrase
    )


def decode_entry(text: object) -> xdr.SorobanAuthorizationEntry:
    """A base64 ``SorobanAuthorizationEntry``, or :class:`AuthorizationError`."""
    if not isinstance(text, str) or not text:
        raise AuthorizationError("signed_entry_xdr must be a base64 SorobanAuthorizationEntry")
    try:
        raw = base64.b64decode(text, validate=True)
        entry = xdr.SorobanAuthorizationEntry.from_xdr_bytes(raw)
    except (binascii.Error, ValueError, IndexError, EOFError):
        raise AuthorizationError("signed_entry_xdr is not a SorobanAuthorizationEntry") from None
    except Exception:  # the XDR unpacker raises its own types for truncated input
        raise AuthorizationError("signed_entry_xdr is not a SorobanAuthorizationEntry") from None
    if entry.to_xdr_bytes() != raw:
        raise AuthorizationError("signed_entry_xdr has bytes after the entry")
    return entry


def signature_payload(
    entry: xdr.SorobanAuthorizationEntry, expiration: int, network_passphrase: str
) -> bytes:
    """The 32 bytes an account signs: sha256 of the entry's authorization preimage."""
    preimage = build_authorization_preimage(entry, expiration, network_passphrase)
    return hashlib.sha256(preimage.to_xdr_bytes()).digest()


def verify_signature(address: str, signature: xdr.SCVal, payload: bytes) -> None:
    """An account's signature, ``Vec[Map{public_key: Bytes, signature: Bytes}]`` (ed25519,
    the master key only), over *payload*; :class:`AuthorizationError` says what is wrong."""
    if signature.type != xdr.SCValType.SCV_VEC or not signature.vec or not signature.vec.sc_vec:
        raise AuthorizationError(f"{address}: no signature")
    key = StrKey.decode_ed25519_public_key(address)
    for item in signature.vec.sc_vec:
        try:
            fields = scval.from_struct(item)
            public_key = scval.from_bytes(fields["public_key"])
            sig = scval.from_bytes(fields["signature"])
        except Exception:
            raise AuthorizationError(f"{address}: malformed signature") from None
        if public_key != key:
            raise AuthorizationError(f"{address}: signed by another key")
        try:
            Keypair.from_raw_ed25519_public_key(public_key).verify(payload, sig)
        except Exception:
            raise AuthorizationError(f"{address}: bad signature") from None


def check_signed_entry(
    entry: xdr.SorobanAuthorizationEntry,
    *,
    network_passphrase: str,
    invocation: xdr.SorobanAuthorizedInvocation,
) -> tuple[str, int, int]:
    """``(address, nonce, expiration ledger)`` of an address-credentials entry that
    authorises exactly *invocation* with a valid signature of *address*'s key. Whether
    the nonce is unused and the expiration not passed is the ledger's to say."""
    creds = entry.credentials
    if creds.type != xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_ADDRESS:
        raise AuthorizationError(f"credentials {creds.type.name} cannot authorise this call")
    assert creds.address is not None
    ac = creds.address
    address = Address.from_xdr_sc_address(ac.address).address
    if not address.startswith("G"):
        raise AuthorizationError(f"{address}: only account addresses can sign here")
    if entry.root_invocation.to_xdr_bytes() != invocation.to_xdr_bytes():
        raise AuthorizationError(f"{address}: the entry authorises another invocation")
    expiration = ac.signature_expiration_ledger.uint32
    payload = signature_payload(entry, expiration, network_passphrase)
    verify_signature(address, ac.signature, payload)
    return address, ac.nonce.int64, expiration
