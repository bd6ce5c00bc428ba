"""Self custody through the SDK (issue 11): ``LumenLater(stellar_signer=...)`` against a real
backend, over every gateway the ``sb`` fixture runs. The wire itself, spoken without the SDK,
is in ``test_integration_self_custody_wire.py``; the checks before signing are unit-tested in
``tests/client/test_signing.py``."""

from __future__ import annotations

import uuid

import pytest
from integration_support import SelfCustodyShop
from stellar_sdk import Keypair

from lumenlater_sdk import (
    AuthorizationRequiredError,
    LumenLater,
    SignerMismatchError,
    usdc,
)
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.types import Bill

Shop = SelfCustodyShop


@pytest.fixture
def shop(sb: SandboxHandle) -> Shop:
    return Shop(sb)


def on_chain(bill: Bill, shop: Shop) -> None:
    assert bill.status == "created" and bill.authorization is None
    assert bill.chain is not None and bill.merchant == shop.key.public_key
    got = shop.sb.backend.gateway.read("bnpl_core", "get_bill", [bill.chain.bill_number])
    assert (got["merchant"], got["principal"]) == (shop.key.public_key, bill.amount)


def test_create_with_a_keypair_puts_the_bill_on_chain(shop: Shop) -> None:
    with shop.client(stellar_signer=shop.key) as ll:
        assert ll.account.retrieve().custody == "self"
        bill = ll.bills.create(customer=shop.customer, amount=usdc("20"), order_id="ORD-1")
        on_chain(bill, shop)
        assert ll.bills.retrieve(bill.id) == bill
        assert [e.type for e in ll.events.list()] == ["bill.created"]
        paid = ll.test_helpers.bills.pay(bill.id, wallet="approve")
        assert paid.status == "paid"


async def test_create_with_a_signing_callable_async(shop: Shop) -> None:
    asked: list[bytes] = []

    def kms(payload: bytes) -> bytes:  # what a KMS or hardware signer would do
        asked.append(payload)
        return bytes(shop.key.sign(payload))

    async with shop.aclient(stellar_signer=kms) as ll:
        bill = await ll.bills.create(customer=shop.customer, amount=usdc("3.5"))
        on_chain(bill, shop)
    assert len(asked) == 1 and len(asked[0]) == 32


def test_without_a_signer_the_bill_waits_and_authorize_completes_it(shop: Shop) -> None:
    with shop.client() as plain, pytest.raises(AuthorizationRequiredError) as err:
        plain.bills.create(customer=shop.customer, amount=usdc("7"), order_id="ORD-2")
    pending = err.value.bill
    assert pending is not None and pending.status == "requires_authorization"
    with shop.client(stellar_signer=shop.key) as ll:
        assert ll.bills.retrieve(pending.id).status == "requires_authorization"
        bill = ll.bills.authorize(pending.id)
        on_chain(bill, shop)
        # Again (a webhook redelivered, a retry): the bill on chain, nothing sent twice.
        assert ll.bills.authorize(pending) == ll.bills.retrieve(bill.id)
        assert ll.bills.authorize(bill.id) == bill
        assert [e.type for e in ll.events.list()] == ["bill.created"]


def test_the_same_key_after_a_crash_between_the_steps_completes_the_same_bill(
    shop: Shop,
) -> None:
    key = f"order-{uuid.uuid4()}"
    with shop.client() as plain, pytest.raises(AuthorizationRequiredError) as err:
        plain.bills.create(customer=shop.customer, amount=usdc("9"), idempotency_key=key)
    assert err.value.bill is not None
    with shop.client(stellar_signer=shop.key) as ll:
        bill = ll.bills.create(customer=shop.customer, amount=usdc("9"), idempotency_key=key)
        assert bill.id == err.value.bill.id
        on_chain(bill, shop)
        again = ll.bills.create(customer=shop.customer, amount=usdc("9"), idempotency_key=key)
        assert again.id == bill.id and again.status == "created"
        assert len(list(ll.bills.list())) == 1


def test_a_signer_with_another_key_sends_nothing(shop: Shop) -> None:
    with shop.client(stellar_signer=Keypair.random()) as ll:
        with pytest.raises(SignerMismatchError) as err:
            ll.bills.create(customer=shop.customer, amount=usdc("1"))
        assert err.value.bill is not None
        assert ll.bills.retrieve(err.value.bill.id).status == "requires_authorization"
    other = Keypair.random()
    with shop.client(stellar_signer=other.sign) as ll, pytest.raises(SignerMismatchError):
        ll.bills.create(customer=shop.customer, amount=usdc("1"))


def test_a_managed_merchant_ignores_the_signer(sb: SandboxHandle) -> None:
    with LumenLater(
        api_key=sb.secret_key, base_url=sb.base_url, max_retries=0, stellar_signer=Keypair.random()
    ) as ll:
        assert ll.account.retrieve().custody == "managed"
        customer = next(w.address for w in ll.test_helpers.wallets.list() if w.name == "approve")
        bill = ll.bills.create(customer=customer, amount=usdc("2"))
        assert bill.status == "created" and bill.authorization is None and bill.chain is not None
