"""Onboarding on chain (issue 11 part 5) through the SDK, over every gateway ``sb`` runs: a
self-custody merchant made with ``client.test_helpers.merchants.create``, enrolled with its
own signature (``client.account.enroll()``), approved by the sandbox admin
(``client.test_helpers.merchants.approve``), told so by ``merchant.approved`` (derived from
the contract's ``m_status``), then billing through the SDK's signing flow; and the refusals."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from stellar_sdk import Keypair
from stellar_sdk.auth import authorize_entry

from lumenlater_sdk import (
    APIError,
    AsyncLumenLater,
    AuthorizationRequiredError,
    BadRequestError,
    LumenLater,
    NotFoundError,
    usdc,
)
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import Account, TestMerchant


def admin(sb: SandboxHandle) -> LumenLater:
    """A client of the sandbox's first (managed) merchant: any test key may use the helpers."""
    return LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0)


def self_merchant(sb: SandboxHandle, key: Keypair, name: str = "Own Keys") -> TestMerchant:
    with admin(sb) as client:
        made = client.test_helpers.merchants.create(
            business_name=name, custody="self", stellar_address=key.public_key
        )
    assert (made.id, made.custody, made.status) == (key.public_key, "self", "pending")
    assert made.secret_key.startswith("sk_test_") and made.publishable_key.startswith("pk_test_")
    assert made.livemode is False and "sk_test" not in repr(made)
    return made


def chain_status(sb: SandboxHandle, address: str) -> str:
    return str(sb.backend.gateway.read("bnpl_core", "get_merchant", [address])["status"])


def code_of(exc: pytest.ExceptionInfo[Any]) -> tuple[int, str | None, str | None]:
    err = exc.value
    return err.status_code, err.code, err.param


def test_self_custody_merchant_enrolls_is_approved_and_bills(sb: SandboxHandle) -> None:
    key = Keypair.random()
    made = self_merchant(sb, key)
    with LumenLater(
        api_key=made.secret_key, base_url=sb.base_url, stellar_signer=key, max_retries=0
    ) as shop:
        before = shop.account.retrieve()
        assert (before.status, before.custody, before.authorization) == ("pending", "self", None)

        enrolled = shop.account.enroll()
        assert isinstance(enrolled, Account)
        assert (enrolled.id, enrolled.status, enrolled.authorization) == (
            key.public_key,
            "pending",
            None,
        )
        assert chain_status(sb, key.public_key) == "Pending"
        with pytest.raises(BadRequestError) as twice:
            shop.account.enroll()
        assert code_of(twice)[:2] == (400, "merchant_already_enrolled")
        assert list(shop.events.list(type="merchant.approved")) == []

        with admin(sb) as client:
            approved = client.test_helpers.merchants.approve(key.public_key)
            assert (approved.id, approved.status) == (key.public_key, "approved")
            # The admin's own account hears nothing of another merchant's approval.
            assert list(client.events.list(type="merchant.approved")) == []
        assert chain_status(sb, key.public_key) == "Approved"
        assert shop.account.retrieve().status == "approved"

        events = [e for e in shop.events.list() if e.type.startswith("merchant.")]
        assert [e.type for e in events] == ["merchant.approved"]
        event = events[0]
        assert event.data.object.id == key.public_key  # type: ignore[attr-defined]
        assert event.data.object.status == "approved"  # type: ignore[attr-defined]
        assert event.data.previous_attributes == {"status": "pending"}  # type: ignore[attr-defined]
        assert event.chain is not None and event.chain.topic == "m_status"

        # Approving again changes nothing and announces nothing.
        with admin(sb) as client:
            assert client.test_helpers.merchants.approve(key.public_key).status == "approved"
        assert len(list(shop.events.list(type="merchant.approved"))) == 1

        customer = next(w.address for w in shop.test_helpers.wallets.list() if w.name == "approve")
        bill = shop.bills.create(customer=customer, amount=usdc("12"), order_id="onboarded-1")
        assert bill.status == "created" and bill.chain is not None
        assert bill.merchant == key.public_key


def test_an_entry_signed_by_another_key_is_refused_then_the_async_client_enrolls(
    sb: SandboxHandle,
) -> None:
    key = Keypair.random()
    made = self_merchant(sb, key, "Async Keys")
    headers = {"Authorization": f"Bearer {made.secret_key}"}
    with httpx.Client(base_url=sb.base_url, headers=headers, timeout=30) as http:
        asked = http.post(
            "/v1/account/enroll", json={}, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert asked.status_code == 200, asked.text
        auth = asked.json()["authorization"]
        assert (auth["object"], auth["function"], auth["address"]) == (
            "chain_authorization",
            "enroll_merchant",
            key.public_key,
        )
        assert auth["merchant_info_id"].startswith("mi_")
        forged = authorize_entry(
            auth["entry_xdr"],
            Keypair.random(),
            auth["signature_expiration_ledger"],
            auth["network_passphrase"],
        )
        refused = http.post(
            "/v1/account/enroll",
            json={"signed_entry_xdr": forged.to_xdr()},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        error = refused.json()["error"]
        assert (refused.status_code, error["code"], error["param"]) == (
            400,
            "authorization_invalid",
            "signed_entry_xdr",
        )
    with pytest.raises(Exception):  # noqa: B017 - not enrolled: read traps
        chain_status(sb, key.public_key)

    async def enroll() -> Account:
        async with AsyncLumenLater(
            api_key=made.secret_key, base_url=sb.base_url, stellar_signer=key, max_retries=0
        ) as shop:
            return await shop.account.enroll()

    import anyio

    enrolled = anyio.run(enroll)
    assert (enrolled.status, enrolled.authorization) == ("pending", None)
    assert chain_status(sb, key.public_key) == "Pending"


def test_onboarding_refusals(sb: SandboxHandle) -> None:
    key = Keypair.random()
    with admin(sb) as client:
        # custody self needs the address; managed takes none.
        with pytest.raises(BadRequestError) as no_address:
            client.test_helpers.merchants.create(business_name="No Address", custody="self")
        assert code_of(no_address) == (400, "parameter_missing", "stellar_address")
        with pytest.raises(BadRequestError) as managed_address:
            client.test_helpers.merchants.create(
                business_name="Managed", stellar_address=key.public_key
            )
        assert code_of(managed_address) == (400, "parameter_invalid", "stellar_address")

        made = self_merchant(sb, key, "Never Enrolled")
        with pytest.raises(BadRequestError) as again:
            client.test_helpers.merchants.create(
                business_name="Again", custody="self", stellar_address=key.public_key
            )
        assert code_of(again) == (400, "merchant_exists", "stellar_address")
        # The admin approves only a merchant that enrolled with its own signature.
        with pytest.raises(BadRequestError) as not_enrolled:
            client.test_helpers.merchants.approve(key.public_key)
        assert code_of(not_enrolled)[:2] == (400, "merchant_not_enrolled")
        with pytest.raises(NotFoundError):
            client.test_helpers.merchants.approve(Keypair.random().public_key)

    # A managed merchant is enrolled by the backend, never by a signature of its own.
    with (
        LumenLater(
            api_key=sb.secret_key, base_url=sb.base_url, stellar_signer=key, max_retries=0
        ) as managed,
        pytest.raises(BadRequestError) as managed_enroll,
    ):
        managed.account.enroll()
    assert code_of(managed_enroll)[:2] == (400, "custody_managed")

    # Without a signer the SDK says what to pass (and nothing reaches the chain).
    with LumenLater(api_key=made.secret_key, base_url=sb.base_url, max_retries=0) as unsigned:
        with pytest.raises(AuthorizationRequiredError, match="stellar_signer"):
            unsigned.account.enroll()
        assert unsigned.account.retrieve().status == "pending"

    # Test helpers do not exist for live keys.
    live = sb.backend.create_merchant("Live Shop", livemode=True)
    with LumenLater(api_key=live.secret_key, base_url=sb.base_url, max_retries=0) as client:
        with pytest.raises(NotFoundError):
            client.test_helpers.merchants.create(business_name="From Live")
        with pytest.raises(NotFoundError):
            client.test_helpers.merchants.approve(key.public_key)


def test_the_admin_suspends_rejects_and_reinstates_merchants(sb: SandboxHandle) -> None:
    """``suspend`` and ``reject`` end to end: the admin's ``update_merchant_status`` is a
    real transaction; the merchant hears ``merchant.suspended`` / ``merchant.rejected``
    from its ``m_status`` event, its account shows the status, and the contract's
    refusal of its bills reaches it as ``merchant_not_approved``."""
    key = Keypair.random()
    made = self_merchant(sb, key, "Suspended Shop")
    other_key = Keypair.random()
    rejected = self_merchant(sb, other_key, "Rejected Shop")
    with (
        LumenLater(
            api_key=made.secret_key, base_url=sb.base_url, stellar_signer=key, max_retries=0
        ) as shop,
        LumenLater(
            api_key=rejected.secret_key,
            base_url=sb.base_url,
            stellar_signer=other_key,
            max_retries=0,
        ) as refused_shop,
        admin(sb) as client,
    ):
        shop.account.enroll()
        refused_shop.account.enroll()
        client.test_helpers.merchants.approve(key.public_key)
        customer = next(w.address for w in shop.test_helpers.wallets.list() if w.name == "approve")
        shop.bills.create(customer=customer, amount=usdc("3"), order_id="before")

        suspended = client.test_helpers.merchants.suspend(key.public_key)
        assert (suspended.id, suspended.status) == (key.public_key, "suspended")
        assert chain_status(sb, key.public_key) == "Suspended"
        assert shop.account.retrieve().status == "suspended"
        (event,) = list(shop.events.list(type="merchant.suspended"))
        assert event.data.object.status == "suspended"  # type: ignore[attr-defined]
        assert event.data.previous_attributes == {"status": "approved"}  # type: ignore[attr-defined]
        assert event.chain is not None and event.chain.topic == "m_status"
        with pytest.raises(APIError) as refused:
            shop.bills.create(customer=customer, amount=usdc("3"), order_id="while-suspended")
        assert (refused.value.status_code, refused.value.code) == (400, "merchant_not_approved")
        assert [b.order_id for b in shop.bills.list()] == ["before"]
        # Suspending again changes nothing and announces nothing.
        assert client.test_helpers.merchants.suspend(key.public_key).status == "suspended"
        assert len(list(shop.events.list(type="merchant.suspended"))) == 1

        # Reinstated: approved again, it bills again.
        assert client.test_helpers.merchants.approve(key.public_key).status == "approved"
        assert len(list(shop.events.list(type="merchant.approved"))) == 2
        shop.bills.create(customer=customer, amount=usdc("3"), order_id="after")

        # A pending merchant the admin rejects.
        out = client.test_helpers.merchants.reject(other_key.public_key)
        assert (out.status, chain_status(sb, other_key.public_key)) == ("rejected", "Rejected")
        (no,) = list(refused_shop.events.list(type="merchant.rejected"))
        assert no.data.previous_attributes == {"status": "pending"}  # type: ignore[attr-defined]
        with pytest.raises(APIError) as never:
            refused_shop.bills.create(customer=customer, amount=usdc("3"), order_id="x")
        assert never.value.code == "merchant_not_approved"
        # No merchant hears of another's status.
        assert list(shop.events.list(type="merchant.rejected")) == []
        assert list(client.events.list(type="merchant.suspended")) == []


async def test_the_async_client_suspends_and_rejects(sb: SandboxHandle) -> None:
    key = Keypair.random()
    self_merchant(sb, key, "Async Admin")
    async with AsyncLumenLater(
        api_key=sb.secret_key, base_url=sb.base_url, max_retries=0
    ) as client:
        with pytest.raises(BadRequestError) as not_enrolled:
            await client.test_helpers.merchants.suspend(key.public_key)
        assert code_of(not_enrolled)[:2] == (400, "merchant_not_enrolled")
        with pytest.raises(NotFoundError):
            await client.test_helpers.merchants.reject(Keypair.random().public_key)
