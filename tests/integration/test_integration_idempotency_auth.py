"""Idempotency, authentication and merchant isolation through the SDK client."""

from __future__ import annotations

import httpx
import pytest
from integration_support import assert_api_error, wallet

from lumenlater_sdk import (
    API_VERSION,
    AsyncLumenLater,
    AuthenticationError,
    ConflictError,
    IdempotencyError,
    LumenLater,
    NotFoundError,
    PermissionDeniedError,
    usdc,
)
from lumenlater_sdk.backend.testing import SandboxHandle


def test_same_idempotency_key_replays_the_same_bill(sb: SandboxHandle) -> None:
    seen: list[httpx.Response] = []
    with (
        httpx.Client(event_hooks={"response": [seen.append]}) as http,
        LumenLater(api_key=sb.secret_key, base_url=sb.base_url, http_client=http) as client,
    ):
        customer = wallet(client, "approve").address
        first = client.bills.create(customer=customer, amount=usdc(7), idempotency_key="order-7")
        assert seen[-1].headers.get("idempotent-replayed") in (None, "false")
        second = client.bills.create(customer=customer, amount=usdc(7), idempotency_key="order-7")
        assert seen[-1].headers.get("idempotent-replayed") == "true"
        assert second.id == first.id
        assert second.model_dump() == first.model_dump()
        assert [b.id for b in client.bills.list()] == [first.id]  # one bill, not two
        assert [e.type for e in client.events.list()] == ["bill.created"]
    assert all(r.headers.get("request-id", "").startswith("req_") for r in seen)
    # The client sends LumenLater-Version; the server answers with the version it used.
    assert all(r.request.headers.get("lumenlater-version") == API_VERSION for r in seen)
    assert all(r.headers.get("lumenlater-version") == API_VERSION for r in seen)


def test_same_idempotency_key_other_body_is_refused(client: LumenLater) -> None:
    customer = wallet(client, "approve").address
    first = client.bills.create(customer=customer, amount=usdc(7), idempotency_key="k-reuse")
    with pytest.raises(IdempotencyError) as info:
        client.bills.create(customer=customer, amount=usdc(8), idempotency_key="k-reuse")
    err = info.value
    assert isinstance(err, ConflictError)
    assert_api_error(err, 409, "idempotency_error", "idempotency_key_reused")
    assert [b.id for b in client.bills.list()] == [first.id]


async def test_idempotency_async(aclient: AsyncLumenLater) -> None:
    customer = (await aclient.test_helpers.wallets.retrieve("approve")).address
    a = await aclient.bills.create(customer=customer, amount=usdc(3), idempotency_key="ak-1")
    b = await aclient.bills.create(customer=customer, amount=usdc(3), idempotency_key="ak-1")
    assert a.id == b.id
    with pytest.raises(IdempotencyError) as info:
        await aclient.bills.create(
            customer=customer, amount=usdc(3), order_id="x", idempotency_key="ak-1"
        )
    assert info.value.code == "idempotency_key_reused" and info.value.status_code == 409
    assert len((await aclient.bills.list()).data) == 1


def test_wrong_api_key_is_an_authentication_error(sb: SandboxHandle) -> None:
    for key in ["sk_test_" + "0" * 32, sb.secret_key + "x"]:
        with (
            LumenLater(api_key=key, base_url=sb.base_url, max_retries=0) as bad,
            pytest.raises(AuthenticationError) as info,
        ):
            bad.bills.list()
        assert_api_error(info.value, 401, "authentication_error")
        assert info.value.code


def test_publishable_key_cannot_list_bills(sb: SandboxHandle) -> None:
    # DESIGN §2: publishable keys may only read a checkout session by its client_secret.
    with LumenLater(api_key=sb.publishable_key, base_url=sb.base_url, max_retries=0) as pk:
        with pytest.raises(PermissionDeniedError) as info:
            pk.bills.list()
        assert_api_error(info.value, 403, "permission_error")
        assert info.value.code
        with pytest.raises(PermissionDeniedError):
            pk.account.retrieve()


async def test_wrong_key_async(sb: SandboxHandle) -> None:
    async with AsyncLumenLater(api_key="sk_test_nope", base_url=sb.base_url) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.account.retrieve()
        assert info.value.status_code == 401


def test_second_merchant_cannot_see_the_first_merchants_objects(
    client: LumenLater, sb: SandboxHandle
) -> None:
    customer = wallet(client, "approve").address
    bill = client.bills.create(customer=customer, amount=usdc(4))
    client.test_helpers.bills.pay(bill.id, wallet="approve")
    session = client.checkout.sessions.create(
        amount=usdc(2), success_url="https://shop.test/ok", cancel_url="https://shop.test/no"
    )
    event = next(iter(client.events.list(type="bill.paid")))
    endpoint = client.webhook_endpoints.create(url="https://shop.test/hook", enabled_events=["*"])

    other = sb.create_merchant("Other Shop")
    with LumenLater(api_key=other.secret_key, base_url=sb.base_url, max_retries=0) as them:
        assert them.account.retrieve().id != sb.merchant_id
        for fetch in (
            lambda: them.bills.retrieve(bill.id),
            lambda: them.bills.cancel(bill.id),
            lambda: them.checkout.sessions.retrieve(session.id),
            lambda: them.checkout.sessions.expire(session.id),
            lambda: them.events.retrieve(event.id),
            lambda: them.webhook_endpoints.retrieve(endpoint.id),
            lambda: them.test_helpers.bills.pay(bill.id, wallet="approve"),
        ):
            with pytest.raises(NotFoundError) as info:
                fetch()
            assert_api_error(info.value, 404, "invalid_request_error")
        assert list(them.bills.list()) == []
        assert list(them.checkout.sessions.list()) == []
        assert list(them.events.list()) == []
        assert list(them.analytics.transactions()) == []
    # Nothing the other merchant tried changed the first merchant's objects.
    assert client.bills.retrieve(bill.id).status == "paid"
    assert client.checkout.sessions.retrieve(session.id).status == "open"
