"""Self-custody merchant signing, without I/O: check the entry the API asks to sign, sign it.

A self-custody merchant's bill comes back from ``POST /v1/bills`` in status
``requires_authorization`` with a :class:`~lumenlater_sdk.types.ChainAuthorization`: an
unsigned ``SorobanAuthorizationEntry`` for ``bnpl_core.create_bill``. Before anything is
signed, :func:`check_authorization` decodes the entry and refuses it unless it authorizes
exactly ``create_bill(bill.merchant, bill.customer, bill.amount, bill.order_id or "")`` on
the announced contract, with address credentials for the merchant, no sub-invocations, and
the nonce and expiration ledger the JSON states. :func:`signed_entry_xdr` then signs the
32-byte payload ``sha256(HashIDPreimage(ENVELOPE_TYPE_SOROBAN_AUTHORIZATION, ...))`` and
attaches the signature as ``stellar_sdk.auth.authorize_entry`` does.

The sync and async bills resources share everything here; they only send. stellar-sdk is
imported on first use (the ``stellar`` extra), never when ``lumenlater_sdk`` is imported.
"""

from __future__ import annotations

import copy
import hashlib
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ._extras import install_hint
from .errors import (
    AuthorizationMismatchError,
    AuthorizationRequiredError,
    MissingExtraError,
    SignerMismatchError,
)

if TYPE_CHECKING:
    from stellar_sdk import Keypair

    from .types import Account, Bill, ChainAuthorization

__all__ = [
    "AUTHORIZATION_STATUS",
    "ENROLL_MERCHANT",
    "SIGNING_EXTRA",
    "AuthorizationPlan",
    "StellarSigner",
    "authorization_body",
    "authorize_key",
    "awaits_authorization",
    "check_authorization",
    "check_enrollment",
    "enrollment_body",
    "make_signer",
    "signed_entry_xdr",
]

AUTHORIZATION_STATUS = "requires_authorization"
SIGNING_EXTRA = "stellar"
CREATE_BILL = "create_bill"
_AUTHORIZE_SUFFIX = ":authorize"
_MAX_KEY = 255
_ARG_NAMES = ("merchant", "customer", "amount", "order_id")
_INT64 = re.compile(r"-?[0-9]{1,19}\Z")

SigningCallable = Callable[[bytes], bytes]
"""Signs a 32-byte payload with the merchant's ed25519 key: returns the 64-byte signature."""


def _stellar() -> Any:
    """The stellar_sdk package, or :class:`MissingExtraError` naming the extra to install."""
    try:
        import stellar_sdk
        import stellar_sdk.exceptions
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("stellar_sdk"):
            raise
        raise MissingExtraError(
            "Signing a self-custody bill needs stellar-sdk, which is not installed: "
            + install_hint(SIGNING_EXTRA),
            extra=SIGNING_EXTRA,
            name=exc.name,
        ) from exc
    return stellar_sdk


# --- the signer -----------------------------------------------------------------------


class StellarSigner:
    """The client's merchant signer. Its ``repr`` shows the public address only, never a key."""

    __slots__ = ("_sign", "address")

    def __init__(self, sign: SigningCallable, address: str | None) -> None:
        self._sign = sign
        self.address = address
        """The keypair's ``G…`` address, or ``None`` for a callable (known only from the bill)."""

    def sign(self, payload: bytes) -> bytes:
        """The signer's raw answer for *payload* (checked by :func:`signed_entry_xdr`)."""
        return self._sign(payload)

    def __repr__(self) -> str:
        return f"<StellarSigner {self.address or 'callable'}>"

    def __reduce__(self) -> Any:
        raise TypeError("a StellarSigner holds a signing key and cannot be pickled")


def make_signer(value: Keypair | SigningCallable | None) -> StellarSigner | None:
    """Validate a client's ``stellar_signer=`` argument (no stellar-sdk import here).

    A ``stellar_sdk.Keypair`` must hold its secret; anything else must be a callable
    ``(payload: bytes) -> bytes``. Error messages never include the value.
    """
    if value is None:
        return None
    keypair_cls = getattr(sys.modules.get("stellar_sdk"), "Keypair", None)
    if keypair_cls is not None and isinstance(value, keypair_cls):
        if not value.can_sign():
            raise ValueError(
                "stellar_signer: this Keypair has no secret key (made with "
                "Keypair.from_public_key?); pass Keypair.from_secret(...) or a signing callable"
            )
        return StellarSigner(value.sign, value.public_key)
    if callable(value):
        return StellarSigner(value, None)
    raise TypeError(
        "stellar_signer must be a stellar_sdk.Keypair with a secret key "
        "(Keypair.from_secret(...)) or a callable (payload: bytes) -> bytes returning the "
        f"64-byte ed25519 signature, not a {type(value).__name__}"
    )


# --- the bill's state and the request -------------------------------------------------


def awaits_authorization(bill: Bill) -> bool:
    """Whether *bill* waits for its merchant's signature before it goes on chain."""
    return bill.status == AUTHORIZATION_STATUS


def authorize_key(create_key: str) -> str:
    """The Idempotency-Key of the authorize call made by ``bills.create`` with *create_key*.

    ``K + ":authorize"``; a key too long for that (over 245 characters) is replaced by its
    SHA-256 first, so the same create key always gives the same authorize key.
    """
    key = create_key + _AUTHORIZE_SUFFIX
    if len(key) <= _MAX_KEY:
        return key
    return hashlib.sha256(create_key.encode()).hexdigest() + _AUTHORIZE_SUFFIX


def authorization_body(bill: Bill, signer: StellarSigner | None) -> dict[str, str]:
    """The body of ``POST /v1/bills/{id}/authorize`` for *bill*, checked and signed.

    Raises :class:`AuthorizationRequiredError` without a signer (before needing
    stellar-sdk), :class:`MissingExtraError`, :class:`AuthorizationMismatchError` or
    :class:`SignerMismatchError`.
    """
    if signer is None:
        raise AuthorizationRequiredError(
            f"Bill {bill.id} is waiting for the merchant's signature (self-custody account): "
            "create the client with stellar_signer=Keypair.from_secret(...) or a signing "
            "callable (payload: bytes) -> bytes, or call client.bills.authorize(bill) later "
            "from a client that has one. The bill is on this error as .bill.",
            bill=bill,
        )
    plan = check_authorization(bill)
    return {"signed_entry_xdr": signed_entry_xdr(plan, signer, bill)}


# --- checking the entry ---------------------------------------------------------------


class AuthorizationPlan(NamedTuple):
    """A checked entry: what to sign (``payload``) and by whom (``address``)."""

    entry: Any
    """The decoded ``stellar_sdk.xdr.SorobanAuthorizationEntry`` (unsigned)."""
    payload: bytes
    """sha256 of the ``HashIDPreimage``: the 32 bytes the merchant's key signs."""
    address: str
    """The merchant's ``G…`` address, the only key whose signature is accepted."""


def _refuse(bill: Bill, field: str, detail: str) -> AuthorizationMismatchError:
    return AuthorizationMismatchError(
        f"Refused to sign the authorization for bill {bill.id}: {detail}. The SDK signs only "
        "create_bill(merchant, customer, amount, order_id) for this bill.",
        field=field,
        bill=bill,
    )


def _parse_int64(text: object) -> int | None:
    if not isinstance(text, str) or not _INT64.match(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def check_authorization(bill: Bill) -> AuthorizationPlan:
    """Decode and check *bill*'s authorization entry; refuse anything but its ``create_bill``.

    Checks, in order: the bill awaits authorization and carries one; ``function`` is
    ``create_bill`` and ``address`` is the bill's merchant; the entry decodes; its
    credentials are ``ADDRESS`` credentials for the merchant, unsigned, with the JSON's
    nonce and expiration ledger; the root invocation calls ``create_bill`` on
    ``contract_id`` with exactly (merchant, customer, amount, order_id or "") and has no
    sub-invocations. Raises :class:`AuthorizationMismatchError` naming the first
    difference, or :class:`MissingExtraError` without stellar-sdk.
    """
    auth = bill.authorization
    if not awaits_authorization(bill) or auth is None:
        raise _refuse(bill, "status", f"status is {bill.status!r} with no pending authorization")
    if auth.function != CREATE_BILL:
        raise _refuse(bill, "function", f"function is {auth.function!r}")
    if auth.address != bill.merchant:
        raise _refuse(bill, "address", "the signer it asks for is not the bill's merchant")
    sdk = _stellar()
    scval = sdk.scval
    try:
        expected = [
            scval.to_address(bill.merchant),
            scval.to_address(bill.customer),
            scval.to_int128(bill.amount),
            scval.to_string(bill.order_id or ""),
        ]
    except Exception as exc:  # an address that is not a strkey, an amount beyond i128
        raise _refuse(bill, "args", "the bill's fields are not create_bill arguments") from exc
    return _check_entry(
        sdk, auth, _ARG_NAMES, expected, lambda field, detail: _refuse(bill, field, detail)
    )


def _address_of(sdk: Any, sc_address: Any) -> str | None:
    """The strkey (``G…``/``C…``) of an XDR ``SCAddress``, or ``None`` for other kinds."""
    try:
        return str(sdk.Address.from_xdr_sc_address(sc_address).address)
    except Exception:  # muxed/claimable-balance/liquidity-pool addresses of newer protocols
        return None


# --- signing ----------------------------------------------------------------------------


def signed_entry_xdr(plan: AuthorizationPlan, signer: StellarSigner, bill: Bill) -> str:
    """Sign *plan*'s payload with *signer* and return the signed entry as base64 XDR.

    The signature is attached as ``stellar_sdk.auth.authorize_entry`` attaches it
    (``Vec[Map{public_key: Bytes(32), signature: Bytes(64)}]``). A keypair must be the
    bill's merchant; a callable's answer must be a valid ed25519 signature of the payload
    by the merchant's key. Otherwise :class:`SignerMismatchError`, and nothing is sent.
    """
    return _sign_plan(plan, signer, f"bill {bill.id}'s merchant", bill=bill)


# --- enrolling a self-custody merchant ------------------------------------------------
#
# ``POST /v1/account/enroll`` with ``{}`` answers the account with an ``authorization``
# for ``bnpl_core.enroll_merchant(merchant, merchant_info_id)``; the same checks as a
# bill's (address credentials for the merchant, exactly this call, no sub-invocations, the
# announced nonce and expiration) decide whether the SDK signs it.

ENROLL_MERCHANT = "enroll_merchant"


def enrollment_body(account: Account, signer: StellarSigner | None) -> dict[str, str]:
    """The body of ``POST /v1/account/enroll`` that enrolls *account*: its pending
    ``enroll_merchant`` entry, checked (:func:`check_enrollment`) and signed.

    Raises :class:`AuthorizationRequiredError` without a signer (before needing
    stellar-sdk), :class:`MissingExtraError`, :class:`AuthorizationMismatchError` or
    :class:`SignerMismatchError`; nothing is sent then.
    """
    if signer is None:
        raise AuthorizationRequiredError(
            f"Enrolling merchant {account.id} (self-custody account) needs its own "
            "signature: create the client with stellar_signer=Keypair.from_secret(...) or a "
            "signing callable (payload: bytes) -> bytes."
        )
    plan = check_enrollment(account)
    return {"signed_entry_xdr": _sign_plan(plan, signer, f"merchant {account.id}")}


def check_enrollment(account: Account) -> AuthorizationPlan:
    """Decode and check *account*'s pending enrollment entry; refuse anything but exactly
    ``enroll_merchant(account.id, authorization.merchant_info_id)`` with address
    credentials for the account, as :func:`check_authorization` does for a bill.
    Raises :class:`AuthorizationMismatchError` naming the first difference.
    """
    auth = account.authorization

    def refuse(field: str, detail: str) -> AuthorizationMismatchError:
        return AuthorizationMismatchError(
            f"Refused to sign the enrollment of merchant {account.id}: {detail}. The SDK "
            "signs only enroll_merchant(merchant, merchant_info_id) for this account.",
            field=field,
        )

    if auth is None:
        raise refuse("authorization", "the account carries no pending authorization")
    if auth.function != ENROLL_MERCHANT:
        raise refuse("function", f"function is {auth.function!r}")
    if auth.address != account.id:
        raise refuse("address", "the signer it asks for is not this merchant")
    info_id = auth.merchant_info_id
    if not isinstance(info_id, str):
        raise refuse("merchant_info_id", "the authorization does not name merchant_info_id")
    sdk = _stellar()
    try:
        expected = [sdk.scval.to_address(account.id), sdk.scval.to_string(info_id)]
    except Exception as exc:  # an id that is not a G… strkey
        raise refuse("args", "the account's fields are not enroll_merchant arguments") from exc
    return _check_entry(sdk, auth, ("merchant", "merchant_info_id"), expected, refuse)


def _check_entry(
    sdk: Any,
    auth: ChainAuthorization,
    names: tuple[str, ...],
    expected: list[Any],
    refuse: Callable[[str, str], AuthorizationMismatchError],
) -> AuthorizationPlan:
    """The checks every entry gets, whatever it authorizes: ``auth.address`` signs with
    ADDRESS credentials, unsigned, with the JSON's nonce and expiration; the root
    invocation is ``auth.function`` on ``auth.contract_id`` with exactly *expected*
    (ScVals, named *names*) and no sub-invocations. The payload to sign, or *refuse*."""
    xdr = sdk.xdr
    nonce = _parse_int64(auth.nonce)
    if nonce is None:
        raise refuse("nonce", f"nonce {auth.nonce!r} is not an int64 decimal string")
    if not 0 <= auth.signature_expiration_ledger < 2**32:
        raise refuse("signature_expiration_ledger", "the expiration is not a uint32")
    try:
        entry = xdr.SorobanAuthorizationEntry.from_xdr(auth.entry_xdr)
    except Exception as exc:  # binascii.Error, ValueError, struct/XDR errors of any version
        raise refuse("entry_xdr", "entry_xdr is not a SorobanAuthorizationEntry") from exc
    creds = entry.credentials
    if creds.type != xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_ADDRESS:
        raise refuse("credentials", f"credentials are {creds.type.name}, not ADDRESS")
    address_creds = creds.address
    if _address_of(sdk, address_creds.address) != auth.address:
        raise refuse("credentials", "the credentials are for another address")
    if address_creds.nonce.int64 != nonce:
        raise refuse("nonce", "the entry's nonce differs from the announced one")
    expiration = address_creds.signature_expiration_ledger.uint32
    if expiration != auth.signature_expiration_ledger:
        raise refuse("signature_expiration_ledger", "the entry's expiration differs")
    if address_creds.signature.type != xdr.SCValType.SCV_VOID:
        raise refuse("signature", "the entry already carries a signature")
    invocation = entry.root_invocation
    if invocation.sub_invocations:
        raise refuse("sub_invocations", "the invocation has sub-invocations")
    function = invocation.function
    if (
        function.type
        != xdr.SorobanAuthorizedFunctionType.SOROBAN_AUTHORIZED_FUNCTION_TYPE_CONTRACT_FN
    ):
        raise refuse("function", "the entry does not authorize a contract call")
    call = function.contract_fn
    if _address_of(sdk, call.contract_address) != auth.contract_id or not (
        auth.contract_id.startswith("C")
    ):
        raise refuse("contract_id", "the contract is not the announced contract_id")
    if call.function_name.sc_symbol != auth.function.encode():
        raise refuse("function", f"the invoked function is not {auth.function}")
    if len(call.args) != len(expected):
        raise refuse("args", f"{auth.function} has {len(call.args)} arguments, not {len(expected)}")
    for name, got, want in zip(names, call.args, expected, strict=True):
        if got.to_xdr_bytes() != want.to_xdr_bytes():
            raise refuse(name, f"the {name} argument differs")
    preimage = xdr.HashIDPreimage(
        type=xdr.EnvelopeType.ENVELOPE_TYPE_SOROBAN_AUTHORIZATION,
        soroban_authorization=xdr.HashIDPreimageSorobanAuthorization(
            network_id=xdr.Hash(hashlib.sha256(auth.network_passphrase.encode()).digest()),
            nonce=xdr.Int64(nonce),
            signature_expiration_ledger=xdr.Uint32(expiration),
            invocation=invocation,
        ),
    )
    payload = hashlib.sha256(preimage.to_xdr_bytes()).digest()
    return AuthorizationPlan(entry, payload, auth.address)


def _sign_plan(
    plan: AuthorizationPlan, signer: StellarSigner, owner: str, *, bill: Bill | None = None
) -> str:
    """Sign *plan* (*owner* names whose entry it is in errors, *bill* goes with them): the
    signer must be ``plan.address``'s key and its signature must verify with it."""
    sdk = _stellar()
    if signer.address is not None and signer.address != plan.address:
        raise SignerMismatchError(
            f"stellar_signer is the key of {signer.address}, but the entry is {owner}'s "
            f"({plan.address})",
            bill=bill,
        )
    raw = signer.sign(plan.payload)
    if not isinstance(raw, (bytes, bytearray, memoryview)) or len(bytes(raw)) != 64:
        raise SignerMismatchError(
            "stellar_signer returned something other than a 64-byte ed25519 signature",
            bill=bill,
        )
    signature = bytes(raw)
    key = sdk.Keypair.from_public_key(plan.address)
    try:
        key.verify(plan.payload, signature)
    except sdk.exceptions.BadSignatureError:
        raise SignerMismatchError(
            f"stellar_signer's signature does not verify with {plan.address}'s key "
            "(it signs with another key, or not the payload it was given)",
            bill=bill,
        ) from None
    scval = sdk.scval
    signed = copy.deepcopy(plan.entry)
    signed.credentials.address.signature = scval.to_vec(
        [
            scval.to_map(
                {
                    scval.to_symbol("public_key"): scval.to_bytes(key.raw_public_key()),
                    scval.to_symbol("signature"): scval.to_bytes(signature),
                }
            )
        ]
    )
    return str(signed.to_xdr())
