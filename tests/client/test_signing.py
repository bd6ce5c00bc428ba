"""Self-custody signing (issue 11): the checks before signing, the signature, the two-step flow.

Entries are real ``SorobanAuthorizationEntry`` values built with stellar-sdk, and every
signed entry is compared byte for byte with ``stellar_sdk.auth.authorize_entry``'s. The
checks and the signing are tested on the I/O-free functions of ``lumenlater_sdk._signing``;
the flow through ``bills.create`` / ``bills.authorize`` runs over ``httpx.MockTransport``.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from client_support import CUSTOMER, Api, Server, bill_json, error_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stellar_sdk import Address, Keypair, StrKey, scval, xdr
from stellar_sdk.auth import authorize_entry

from lumenlater_sdk import (
    AsyncLumenLater,
    AuthorizationError,
    AuthorizationMismatchError,
    AuthorizationRequiredError,
    ConflictError,
    LumenLater,
    LumenLaterError,
    MissingExtraError,
    SignerMismatchError,
)
from lumenlater_sdk._extras import install_hint
from lumenlater_sdk._signing import (
    authorization_body,
    authorize_key,
    check_authorization,
    make_signer,
)
from lumenlater_sdk.types import Account, Bill

PASSPHRASE = "Standalone Network ; February 2017"
MERCHANT_KP = Keypair.from_raw_ed25519_seed(bytes(range(32)))
OTHER_KP = Keypair.from_raw_ed25519_seed(bytes(range(1, 33)))
MERCHANT = MERCHANT_KP.public_key
CONTRACT = StrKey.encode_contract(b"\x07" * 32)
OTHER_CONTRACT = StrKey.encode_contract(b"\x08" * 32)
NONCE = 8_237_498_237_492_123_456  # beyond 2**53: must travel as a string
EXPIRATION = 12_345
AMOUNT = 999_900_000
ORDER = "o-1"

VOID = xdr.SCVal(type=xdr.SCValType.SCV_VOID)
ADDRESS_CREDS = xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_ADDRESS
CONTRACT_FN = xdr.SorobanAuthorizedFunctionType.SOROBAN_AUTHORIZED_FUNCTION_TYPE_CONTRACT_FN


# --- building real entries and the bills that carry them -------------------------------


def create_bill_args(
    merchant: str = MERCHANT,
    customer: str = CUSTOMER,
    amount: int = AMOUNT,
    order_id: str = ORDER,
) -> list[xdr.SCVal]:
    return [
        scval.to_address(merchant),
        scval.to_address(customer),
        scval.to_int128(amount),
        scval.to_string(order_id),
    ]


def invocation(
    *,
    contract: str = CONTRACT,
    function: str = "create_bill",
    args: list[xdr.SCVal] | None = None,
    sub: list[xdr.SorobanAuthorizedInvocation] | None = None,
) -> xdr.SorobanAuthorizedInvocation:
    return xdr.SorobanAuthorizedInvocation(
        function=xdr.SorobanAuthorizedFunction(
            type=CONTRACT_FN,
            contract_fn=xdr.InvokeContractArgs(
                contract_address=Address(contract).to_xdr_sc_address(),
                function_name=xdr.SCSymbol(function.encode()),
                args=create_bill_args() if args is None else args,
            ),
        ),
        sub_invocations=sub or [],
    )


def entry(
    *,
    signer_address: str = MERCHANT,
    nonce: int = NONCE,
    expiration: int = EXPIRATION,
    signature: xdr.SCVal = VOID,
    source_account: bool = False,
    **invocation_kw: Any,
) -> xdr.SorobanAuthorizationEntry:
    if source_account:
        credentials = xdr.SorobanCredentials(
            type=xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT
        )
    else:
        credentials = xdr.SorobanCredentials(
            type=ADDRESS_CREDS,
            address=xdr.SorobanAddressCredentials(
                address=Address(signer_address).to_xdr_sc_address(),
                nonce=xdr.Int64(nonce),
                signature_expiration_ledger=xdr.Uint32(expiration),
                signature=signature,
            ),
        )
    return xdr.SorobanAuthorizationEntry(
        credentials=credentials, root_invocation=invocation(**invocation_kw)
    )


def authorization_json(e: xdr.SorobanAuthorizationEntry | None = None, **over: Any) -> dict:
    a: dict[str, Any] = {
        "object": "chain_authorization",
        "address": MERCHANT,
        "contract_id": CONTRACT,
        "function": "create_bill",
        "entry_xdr": (e or entry()).to_xdr(),
        "nonce": str(NONCE),
        "signature_expiration_ledger": EXPIRATION,
        "network_passphrase": PASSPHRASE,
    }
    a.update(over)
    return a


def pending_json(
    e: xdr.SorobanAuthorizationEntry | None = None, auth: dict | None = None, **over: Any
) -> dict[str, Any]:
    """A self-custody bill as POST /v1/bills answers it: not on chain, awaiting a signature."""
    fields: dict[str, Any] = {
        "merchant": MERCHANT,
        "amount": AMOUNT,
        "order_id": ORDER,
        "status": "requires_authorization",
        "chain": None,
        "authorization": authorization_json(e, **(auth or {})),
    }
    fields.update(over)
    return bill_json(**fields)


def pending(e: xdr.SorobanAuthorizationEntry | None = None, **over: Any) -> Bill:
    return Bill.model_validate(pending_json(e, **over))


def expected_signed(e: xdr.SorobanAuthorizationEntry | None = None) -> str:
    """What stellar-sdk's own ``authorize_entry`` makes of the entry."""
    signed = authorize_entry(e or entry(), MERCHANT_KP, EXPIRATION, PASSPHRASE)
    return str(signed.to_xdr())


def signed_by(bill: Bill, signer: Any) -> str:
    return authorization_body(bill, make_signer(signer))["signed_entry_xdr"]


# --- signing ------------------------------------------------------------------------------


def test_a_keypair_signs_exactly_as_authorize_entry_does() -> None:
    assert signed_by(pending(), MERCHANT_KP) == expected_signed()


def test_a_callable_signs_exactly_as_authorize_entry_does() -> None:
    seen: list[bytes] = []

    def kms(payload: bytes) -> bytes:
        seen.append(payload)
        return MERCHANT_KP.sign(payload)

    assert signed_by(pending(), kms) == expected_signed()
    assert len(seen) == 1 and len(seen[0]) == 32


def test_the_payload_is_the_hash_of_the_soroban_authorization_preimage() -> None:
    preimage = xdr.HashIDPreimage(
        type=xdr.EnvelopeType.ENVELOPE_TYPE_SOROBAN_AUTHORIZATION,
        soroban_authorization=xdr.HashIDPreimageSorobanAuthorization(
            network_id=xdr.Hash(hashlib.sha256(PASSPHRASE.encode()).digest()),
            nonce=xdr.Int64(NONCE),
            signature_expiration_ledger=xdr.Uint32(EXPIRATION),
            invocation=invocation(),
        ),
    )
    plan = check_authorization(pending())
    assert plan.payload == hashlib.sha256(preimage.to_xdr_bytes()).digest()
    assert plan.address == MERCHANT


def test_the_signed_entry_verifies_and_keeps_everything_else() -> None:
    signed = xdr.SorobanAuthorizationEntry.from_xdr(signed_by(pending(), MERCHANT_KP))
    creds = signed.credentials.address
    assert creds.nonce.int64 == NONCE
    assert creds.signature_expiration_ledger.uint32 == EXPIRATION
    assert signed.root_invocation.to_xdr() == invocation().to_xdr()
    (sig_map,) = creds.signature.vec.sc_vec
    fields = {e.key.sym.sc_symbol.decode(): e.val.bytes.sc_bytes for e in sig_map.map.sc_map}
    assert fields["public_key"] == MERCHANT_KP.raw_public_key()
    MERCHANT_KP.verify(check_authorization(pending()).payload, fields["signature"])


def test_no_order_id_signs_the_empty_string() -> None:
    e = entry(args=create_bill_args(order_id=""))
    assert signed_by(pending(e, order_id=None), MERCHANT_KP) == expected_signed(e)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amount=st.integers(min_value=1, max_value=2**127 - 1),
    order_id=st.one_of(st.none(), st.text(max_size=64)),
)
def test_any_amount_and_order_id_sign_like_authorize_entry(
    amount: int, order_id: str | None
) -> None:
    e = entry(args=create_bill_args(amount=amount, order_id=order_id or ""))
    bill = pending(e, amount=amount, order_id=order_id)
    assert signed_by(bill, MERCHANT_KP) == expected_signed(e)


@settings(max_examples=40, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=2**100),
    delta=st.integers(min_value=-(2**64), max_value=2**64).filter(bool),
)
def test_an_entry_for_another_amount_is_refused(amount: int, delta: int) -> None:
    e = entry(args=create_bill_args(amount=amount + delta))
    with pytest.raises(AuthorizationMismatchError) as err:
        check_authorization(pending(e, amount=amount))
    assert err.value.field == "amount"


@settings(max_examples=40, deadline=None)
@given(signed=st.text(max_size=32), billed=st.text(max_size=32))
def test_an_entry_for_another_order_id_is_refused(signed: str, billed: str) -> None:
    e = entry(args=create_bill_args(order_id=signed))
    bill = pending(e, order_id=billed or None)
    if signed == billed:
        assert check_authorization(bill).address == MERCHANT
    else:
        with pytest.raises(AuthorizationMismatchError) as err:
            check_authorization(bill)
        assert err.value.field == "order_id"


# --- what is refused ------------------------------------------------------------------------

SUB = invocation(contract=OTHER_CONTRACT, function="transfer", args=[])

REFUSALS: list[tuple[str, Callable[[], Bill], str]] = [
    ("entry calls another function", lambda: pending(entry(function="transfer")), "function"),
    ("JSON names another function", lambda: pending(auth={"function": "transfer"}), "function"),
    ("entry on another contract", lambda: pending(entry(contract=OTHER_CONTRACT)), "contract_id"),
    ("JSON names another contract", lambda: pending(auth={"contract_id": OTHER_CONTRACT}),
     "contract_id"),
    ("a G address as the contract",
     lambda: pending(entry(contract=CUSTOMER), auth={"contract_id": CUSTOMER}), "contract_id"),
    ("another amount", lambda: pending(entry(args=create_bill_args(amount=AMOUNT + 1))),
     "amount"),
    ("another customer",
     lambda: pending(entry(args=create_bill_args(customer=OTHER_KP.public_key))), "customer"),
    ("another merchant argument",
     lambda: pending(entry(args=create_bill_args(merchant=OTHER_KP.public_key))), "merchant"),
    ("another order id", lambda: pending(entry(args=create_bill_args(order_id="o-2"))),
     "order_id"),
    ("order id as a Symbol", lambda: pending(entry(args=[*create_bill_args()[:3],
     scval.to_symbol(ORDER)])), "order_id"),
    ("amount as a u64", lambda: pending(entry(args=[*create_bill_args()[:2],
     scval.to_uint64(AMOUNT), scval.to_string(ORDER)])), "amount"),
    ("a fifth argument", lambda: pending(entry(args=[*create_bill_args(), VOID])), "args"),
    ("three arguments", lambda: pending(entry(args=create_bill_args()[:3])), "args"),
    ("a sub-invocation", lambda: pending(entry(sub=[SUB])), "sub_invocations"),
    ("source-account credentials", lambda: pending(entry(source_account=True)), "credentials"),
    ("credentials of another address",
     lambda: pending(entry(signer_address=OTHER_KP.public_key)), "credentials"),
    ("JSON asks another signer", lambda: pending(auth={"address": OTHER_KP.public_key}),
     "address"),
    ("entry nonce differs", lambda: pending(entry(nonce=NONCE + 1)), "nonce"),
    ("JSON nonce differs", lambda: pending(auth={"nonce": str(NONCE - 1)}), "nonce"),
    ("JSON nonce in hex", lambda: pending(auth={"nonce": hex(NONCE)}), "nonce"),
    ("JSON nonce with a plus", lambda: pending(auth={"nonce": f"+{NONCE}"}), "nonce"),
    ("JSON nonce with underscores", lambda: pending(auth={"nonce": "8_237"}), "nonce"),
    ("JSON nonce beyond int64", lambda: pending(auth={"nonce": str(2**63)}), "nonce"),
    ("entry expiration differs", lambda: pending(entry(expiration=EXPIRATION + 1)),
     "signature_expiration_ledger"),
    ("JSON expiration differs", lambda: pending(auth={"signature_expiration_ledger": 1}),
     "signature_expiration_ledger"),
    ("already signed", lambda: pending(entry(signature=scval.to_bytes(b"x"))), "signature"),
    ("not base64", lambda: pending(auth={"entry_xdr": "not base64!"}), "entry_xdr"),
    ("not an entry", lambda: pending(auth={"entry_xdr": scval.to_uint32(1).to_xdr()}),
     "entry_xdr"),
    ("not awaiting authorization", lambda: pending(status="created"), "status"),
    ("no authorization object", lambda: pending(authorization=None), "status"),
]  # fmt: skip


@pytest.mark.parametrize(("bill", "field"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_anything_but_this_bills_create_bill_is_refused(
    bill: Callable[[], Bill], field: str
) -> None:
    b = bill()
    calls: list[bytes] = []
    signer = make_signer(lambda p: calls.append(p) or MERCHANT_KP.sign(p))
    with pytest.raises(AuthorizationMismatchError) as err:
        authorization_body(b, signer)
    assert err.value.field == field
    assert err.value.bill is b
    assert calls == []  # the signer was never asked
    assert isinstance(err.value, AuthorizationError) and isinstance(err.value, LumenLaterError)
    assert b.id in str(err.value)


def test_a_callable_that_signs_with_another_key_is_caught_before_sending() -> None:
    with pytest.raises(SignerMismatchError, match="does not verify"):
        signed_by(pending(), OTHER_KP.sign)


def test_a_callable_that_signs_another_payload_is_caught() -> None:
    with pytest.raises(SignerMismatchError, match="does not verify"):
        signed_by(pending(), lambda p: MERCHANT_KP.sign(p[::-1]))


@pytest.mark.parametrize("answer", [b"", b"\x00" * 63, b"\x00" * 65, "ab" * 64, None])
def test_a_callable_that_returns_no_signature_is_caught(answer: Any) -> None:
    with pytest.raises(SignerMismatchError, match="64-byte"):
        signed_by(pending(), lambda p: answer)


def test_a_callable_may_return_a_bytearray() -> None:
    assert signed_by(pending(), lambda p: bytearray(MERCHANT_KP.sign(p))) == expected_signed()


def test_a_keypair_of_another_merchant_is_refused() -> None:
    with pytest.raises(SignerMismatchError, match=OTHER_KP.public_key):
        signed_by(pending(), OTHER_KP)


# --- the signer argument, and keeping the key out of sight ------------------------------


def test_without_a_signer_the_error_says_what_to_pass_and_carries_the_bill() -> None:
    b = pending()
    with pytest.raises(AuthorizationRequiredError) as err:
        authorization_body(b, None)
    assert err.value.bill is b
    text = str(err.value)
    assert "stellar_signer=Keypair.from_secret(...)" in text
    assert "callable" in text and "client.bills.authorize" in text


def test_a_public_only_keypair_or_a_secret_string_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="no secret"):
        LumenLater(api_key="sk_test_x", stellar_signer=Keypair.from_public_key(MERCHANT))
    secret = MERCHANT_KP.secret
    with pytest.raises(TypeError) as err:
        LumenLater(api_key="sk_test_x", stellar_signer=secret)  # type: ignore[arg-type]
    assert secret not in str(err.value) and "Keypair.from_secret" in str(err.value)
    with pytest.raises(TypeError):
        AsyncLumenLater(api_key="sk_test_x", stellar_signer=42)  # type: ignore[arg-type]


def test_the_key_is_in_no_repr_and_cannot_be_pickled() -> None:
    client = LumenLater(api_key="sk_test_x", stellar_signer=MERCHANT_KP)
    signer = client._core.signer
    for text in (repr(client), repr(signer), repr(client.bills), repr(client.with_options())):
        assert MERCHANT_KP.secret not in text
    assert repr(signer) == f"<StellarSigner {MERCHANT}>"
    assert repr(make_signer(lambda p: p)) == "<StellarSigner callable>"
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    assert client.with_options(max_retries=5)._core.signer is signer  # kept per client
    assert LumenLater(api_key="sk_test_x")._core.signer is None  # no global state
    client.close()


def test_without_stellar_sdk_signing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = make_signer(MERCHANT_KP.sign)  # a callable needs no stellar-sdk to configure
    for name in [m for m in sys.modules if m == "stellar_sdk" or m.startswith("stellar_sdk.")]:
        monkeypatch.setitem(sys.modules, name, None)  # import now raises ModuleNotFoundError
    with pytest.raises(MissingExtraError) as err:
        authorization_body(pending(), signer)
    assert install_hint("stellar") in str(err.value)  # where this copy came from
    assert err.value.extra == "stellar" and isinstance(err.value, ImportError)
    # No signer: the typed error comes first, stellar-sdk or not.
    with pytest.raises(AuthorizationRequiredError):
        authorization_body(pending(), None)


def test_the_authorize_key_is_the_create_key_with_a_suffix() -> None:
    assert authorize_key("order-42") == "order-42:authorize"
    long = "k" * 250
    derived = authorize_key(long)
    assert derived == authorize_key(long) and len(derived) <= 255 and derived.isprintable()
    assert derived.endswith(":authorize") and derived != authorize_key("k" * 251)


# --- models -----------------------------------------------------------------------------------


def test_the_bill_keeps_the_nonce_as_a_string_and_the_account_shows_custody() -> None:
    b = pending()
    assert b.authorization is not None and b.authorization.nonce == str(NONCE)
    assert b.to_dict()["authorization"]["nonce"] == str(NONCE)  # JS-safe both ways
    assert Bill.model_validate(bill_json()).authorization is None
    account = {"id": MERCHANT, "status": "approved"}
    assert Account.model_validate(account).custody == "managed"
    assert Account.model_validate({**account, "custody": "self"}).custody == "self"


# --- the flow over the wire (httpx.MockTransport) ---------------------------------------------


def created_json() -> dict[str, Any]:
    return bill_json(merchant=MERCHANT, authorization=None)


def answers(server: Server, *items: Any) -> None:
    server.queue(*(httpx.Response(status, json=body) for status, body in items))


async def test_create_signs_and_sends_the_authorization(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    answers(server, (200, pending_json()), (200, created_json()))
    bill = await api(lambda c: c.bills.create(customer=CUSTOMER, amount=AMOUNT, order_id=ORDER,
                                              idempotency_key="order-42"))  # fmt: skip
    assert bill.status == "created" and bill.authorization is None
    create, authorize = server.requests
    assert (create.method, create.url.path) == ("POST", "/v1/bills")
    assert create.headers["idempotency-key"] == "order-42"
    assert (authorize.method, authorize.url.path) == ("POST", "/v1/bills/bill_1/authorize")
    assert authorize.headers["idempotency-key"] == "order-42:authorize"
    assert server.body() == {"signed_entry_xdr": expected_signed()}


async def test_create_derives_the_authorize_key_from_the_key_it_made(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=lambda p: MERCHANT_KP.sign(p))
    answers(server, (200, pending_json()), (200, created_json()))
    await api(lambda c: c.bills.create(customer=CUSTOMER, amount=AMOUNT, order_id=ORDER))
    create, authorize = server.requests
    key = create.headers["idempotency-key"]
    assert len(key) == 36 and authorize.headers["idempotency-key"] == key + ":authorize"


async def test_retries_of_both_steps_reuse_their_keys(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    busy = error_json("api_error", "chain_unavailable")
    answers(server, (503, busy), (200, pending_json()), (503, busy), (200, created_json()))
    await api(lambda c: c.bills.create(customer=CUSTOMER, amount=AMOUNT, order_id=ORDER))
    keys = [r.headers["idempotency-key"] for r in server.requests]
    assert keys[0] == keys[1] and keys[2] == keys[3] == keys[0] + ":authorize"
    assert server.body(2) == server.body(3)


async def test_a_managed_merchant_gets_its_bill_in_one_request(api: Api, server: Server) -> None:
    bill = await api(lambda c: c.bills.create(customer=CUSTOMER, amount=AMOUNT))
    assert bill.status == "created" and len(server.requests) == 1


async def test_create_without_a_signer_raises_with_the_pending_bill(
    api: Api, server: Server
) -> None:
    answers(server, (200, pending_json()))
    with pytest.raises(AuthorizationRequiredError) as err:
        await api(lambda c: c.bills.create(customer=CUSTOMER, amount=AMOUNT, order_id=ORDER))
    assert err.value.bill is not None and err.value.bill.status == "requires_authorization"
    assert len(server.requests) == 1


async def test_a_mismatching_entry_is_never_sent(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    answers(server, (200, pending_json(entry(args=create_bill_args(amount=AMOUNT * 10)))))
    with pytest.raises(AuthorizationMismatchError):
        await api(lambda c: c.bills.create(customer=CUSTOMER, amount=AMOUNT, order_id=ORDER))
    assert len(server.requests) == 1


async def test_authorize_by_id_retrieves_then_signs(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    answers(server, (200, pending_json()), (200, created_json()))
    bill = await api(lambda c: c.bills.authorize("bill_1", idempotency_key="k1"))
    assert bill.status == "created"
    get, post = server.requests
    assert (get.method, get.url.path) == ("GET", "/v1/bills/bill_1")
    assert post.url.path == "/v1/bills/bill_1/authorize"
    assert post.headers["idempotency-key"] == "k1"
    assert server.body() == {"signed_entry_xdr": expected_signed()}


async def test_authorize_of_a_bill_past_authorization_returns_it(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    done = Bill.model_validate(created_json())
    assert await api(lambda c: c.bills.authorize(done)) is done
    assert server.requests == []


async def test_an_authorization_already_done_returns_the_bill_on_chain(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    conflict = error_json("invalid_request_error", "bill_not_awaiting_authorization")
    answers(server, (409, conflict), (200, created_json()))
    bill = await api(lambda c: c.bills.authorize(pending()))
    assert bill.status == "created"
    assert [r.method for r in server.requests] == ["POST", "GET"]


async def test_the_already_authorized_code_is_matched_whatever_the_status(
    make_api: Callable[..., Api], server: Server
) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    conflict = error_json("invalid_request_error", "bill_not_awaiting_authorization")
    answers(server, (400, conflict), (200, created_json()))
    assert (await api(lambda c: c.bills.authorize(pending()))).status == "created"


async def test_other_conflicts_are_raised(make_api: Callable[..., Api], server: Server) -> None:
    api = make_api(stellar_signer=MERCHANT_KP)
    conflict = error_json("invalid_request_error", "bill_not_awaiting_authorization")
    answers(server, (409, conflict), (200, pending_json()))  # still pending: not resolved
    with pytest.raises(ConflictError):
        await api(lambda c: c.bills.authorize(pending()))
    answers(server, (409, error_json("invalid_request_error", "something_else")))
    with pytest.raises(ConflictError):
        await api(lambda c: c.bills.authorize(pending()))
    assert [r.method for r in server.requests] == ["POST", "GET", "POST"]
