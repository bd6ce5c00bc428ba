"""The SDK's checks before it signs a self-custody merchant's ``enroll_merchant`` entry
(``client.account.enroll()``): exactly ``enroll_merchant(account.id, merchant_info_id)``,
else nothing is signed. No I/O: the entries are made as the backend makes them."""

from __future__ import annotations

import os
from typing import Any

import pytest
from stellar_sdk import Keypair, Network, StrKey

from lumenlater_sdk import (
    AuthorizationMismatchError,
    AuthorizationRequiredError,
    SignerMismatchError,
)
from lumenlater_sdk._signing import check_enrollment, enrollment_body, make_signer
from lumenlater_sdk.backend.chain.soroban import (
    check_signed_entry,
    contract_invocation,
    decode_entry,
    request_authorization,
)
from lumenlater_sdk.types import Account

CONTRACT = StrKey.encode_contract(os.urandom(32))
PASSPHRASE = Network.STANDALONE_NETWORK_PASSPHRASE


def invocation(address: str, info_id: str, function: str = "enroll_merchant") -> Any:
    return contract_invocation(CONTRACT, "bnpl_core", function, [address, info_id])


def account(
    key: Keypair,
    *,
    info_id: str = "mi_1",
    entry_for: str | None = None,
    entry_info_id: str | None = None,
    **auth_overrides: Any,
) -> Account:
    """The account ``POST /v1/account/enroll`` answers, its entry for *entry_for* over
    ``enroll_merchant(entry_for, entry_info_id)`` (by default: the account, *info_id*)."""
    signer = entry_for or key.public_key
    request = request_authorization(
        address=signer,
        invocation=invocation(signer, entry_info_id or info_id),
        contract_id=CONTRACT,
        function="enroll_merchant",
        latest_ledger=100,
        network_passphrase=PASSPHRASE,
    )
    auth = {
        "object": "chain_authorization",
        "address": key.public_key,
        "contract_id": CONTRACT,
        "function": "enroll_merchant",
        "entry_xdr": request.entry_xdr,
        "nonce": str(request.nonce),
        "signature_expiration_ledger": request.signature_expiration_ledger,
        "network_passphrase": PASSPHRASE,
        "merchant_info_id": info_id,
        **auth_overrides,
    }
    return Account.model_validate(
        {"id": key.public_key, "status": "pending", "custody": "self", "authorization": auth}
    )


def refused_field(acct: Account) -> str:
    with pytest.raises(AuthorizationMismatchError) as exc:
        check_enrollment(acct)
    return exc.value.field


def test_the_exact_entry_is_signed_as_the_network_checks_it() -> None:
    key = Keypair.random()
    acct = account(key)
    body = enrollment_body(acct, make_signer(key))
    entry = decode_entry(body["signed_entry_xdr"])
    got = check_signed_entry(
        entry, network_passphrase=PASSPHRASE, invocation=invocation(key.public_key, "mi_1")
    )
    assert acct.authorization is not None
    assert got == (
        key.public_key,
        int(acct.authorization.nonce),
        acct.authorization.signature_expiration_ledger,
    )


def test_a_callable_signer_works_and_is_verified() -> None:
    key = Keypair.random()
    body = enrollment_body(account(key), make_signer(key.sign))
    assert body["signed_entry_xdr"]
    with pytest.raises(SignerMismatchError):
        enrollment_body(account(key), make_signer(Keypair.random().sign))


def test_anything_else_is_refused() -> None:
    key, other = Keypair.random(), Keypair.random()
    assert refused_field(account(key, entry_info_id="mi_other")) == "merchant_info_id"
    assert refused_field(account(key, entry_for=other.public_key)) == "credentials"
    assert refused_field(account(key, function="create_bill")) == "function"
    assert refused_field(account(key, address=other.public_key)) == "address"
    assert refused_field(account(key, merchant_info_id=None)) == "merchant_info_id"
    assert refused_field(account(key, nonce="12")) == "nonce"
    assert refused_field(account(key, contract_id=StrKey.encode_contract(os.urandom(32)))) == (
        "contract_id"
    )
    assert refused_field(account(key, entry_xdr="not xdr")) == "entry_xdr"
    bare = Account.model_validate({"id": key.public_key, "status": "pending"})
    assert refused_field(bare) == "authorization"


def test_no_signer_and_a_signer_of_another_key() -> None:
    key = Keypair.random()
    with pytest.raises(AuthorizationRequiredError, match="stellar_signer"):
        enrollment_body(account(key), None)
    with pytest.raises(SignerMismatchError):
        enrollment_body(account(key), make_signer(Keypair.random()))
