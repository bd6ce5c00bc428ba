"""The SDK with retries on, against a real backend whose first answer to each call fails.

A proxy on loopback (``flaky_proxy``) either refuses the first attempt before the
backend sees it, or lets the backend act and then loses its answer. Either way the
caller must get exactly the result of one successful call: one bill, one clock
advance, one secret, with the backend replaying its stored answer to the retry.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flaky_proxy import FlakyProxy, flaky_proxy
from integration_support import wallet

from lumenlater_sdk import AsyncLumenLater, LumenLater, usdc
from lumenlater_sdk.backend.testing import SandboxHandle


def no_wait(seconds: float) -> None:
    assert 0 <= seconds <= 8  # the SDK's own backoff, never a server-supplied oddity


async def no_wait_async(seconds: float) -> None:
    no_wait(seconds)


@pytest.fixture(params=["before", "after"])
def proxied(
    request: pytest.FixtureRequest, sb: SandboxHandle
) -> Iterator[tuple[FlakyProxy, LumenLater, LumenLater]]:
    """(proxy, client through the proxy with retries on, direct client for checking)."""
    with (
        flaky_proxy(sb.base_url, request.param) as (proxy, url),
        LumenLater(api_key=sb.secret_key, base_url=url, max_retries=2, _sleep=no_wait) as flaky,
        LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as direct,
    ):
        yield proxy, flaky, direct


def assert_retried_once(proxy: FlakyProxy, method: str, path: str) -> None:
    first, second = proxy.attempts(method, path)
    assert (first.retry_count, second.retry_count) == ("0", "1")
    assert first.answered in (502, 503) and second.answered < 300
    if first.forwarded:  # the backend acted on the first attempt: the retry is a replay
        assert second.upstream_headers.get("idempotent-replayed") == "true"
        assert first.upstream_status == second.upstream_status


def test_a_bill_is_created_once(proxied: tuple[FlakyProxy, LumenLater, LumenLater]) -> None:
    proxy, flaky, direct = proxied
    customer = wallet(direct, "approve").address
    bill = flaky.bills.create(customer=customer, amount=usdc(12), order_id="r-1")
    assert_retried_once(proxy, "POST", "/v1/bills")
    assert [b.id for b in direct.bills.list()] == [bill.id]
    assert [e.type for e in direct.events.list()] == ["bill.created"]
    assert direct.bills.retrieve(bill.id).amount == usdc(12)


def test_a_whole_bill_life_survives_lost_answers(
    proxied: tuple[FlakyProxy, LumenLater, LumenLater],
) -> None:
    proxy, flaky, direct = proxied
    customer = wallet(direct, "approve").address
    bill = flaky.bills.create(customer=customer, amount=usdc(40), order_id="r-2")
    paid = flaky.test_helpers.bills.pay(bill.id, wallet="approve")
    assert paid.status == "paid"
    assert_retried_once(proxy, "POST", f"/v1/test_helpers/bills/{bill.id}/pay")
    before = direct.test_helpers.clock.retrieve()
    flaky.test_helpers.clock.advance(seconds=20 * 86400)
    after = direct.test_helpers.clock.retrieve()
    # Advanced once, not twice (the ledger clock also follows the wall clock meanwhile).
    assert 20 * 86400 <= after.now - before.now < 20 * 86400 + 60
    repaid = flaky.test_helpers.bills.repay(bill.id)
    assert repaid.status == "repaid"
    assert repaid.late_fee == usdc(40) * 3_000_000 * 6 // 3_650_000_000
    types = [e.type for e in direct.events.list()]
    assert sorted(types) == sorted(["bill.created", "bill.paid", "bill.overdue", "bill.repaid"])
    txns = list(direct.analytics.transactions(bill=bill.id))
    assert [(t.type, t.amount, t.fee) for t in txns] == [("payment", usdc(40), usdc("0.6"))]


def test_a_cancel_and_a_session_expire_are_applied_once(
    proxied: tuple[FlakyProxy, LumenLater, LumenLater],
) -> None:
    proxy, flaky, direct = proxied
    customer = wallet(direct, "approve").address
    bill = direct.bills.create(customer=customer, amount=usdc(5))
    assert flaky.bills.cancel(bill.id).status == "cancelled"
    assert_retried_once(proxy, "POST", f"/v1/bills/{bill.id}/cancel")
    assert [e.type for e in direct.events.list()].count("bill.cancelled") == 1
    session = flaky.checkout.sessions.create(
        amount=usdc(9), success_url="https://shop.example/ok", cancel_url="https://shop.example/"
    )
    assert [s.id for s in direct.checkout.sessions.list()] == [session.id]
    assert flaky.checkout.sessions.expire(session.id).status == "expired"
    assert_retried_once(proxy, "POST", f"/v1/checkout/sessions/{session.id}/expire")


def test_a_webhook_endpoint_and_its_secret_are_made_once(
    proxied: tuple[FlakyProxy, LumenLater, LumenLater],
) -> None:
    _, flaky, direct = proxied
    before = {e.id for e in direct.webhook_endpoints.list()}
    endpoint = flaky.webhook_endpoints.create(
        url="https://shop.example/hooks", enabled_events=["bill.paid"]
    )
    assert endpoint.secret and endpoint.secret.startswith("whsec_")
    assert {e.id for e in direct.webhook_endpoints.list()} - before == {endpoint.id}
    rotated = flaky.webhook_endpoints.rotate_secret(endpoint.id)
    assert rotated.secret and rotated.secret != endpoint.secret


def test_reads_are_retried(proxied: tuple[FlakyProxy, LumenLater, LumenLater]) -> None:
    proxy, flaky, direct = proxied
    customer = wallet(direct, "approve").address
    bill = direct.bills.create(customer=customer, amount=usdc(3))
    assert flaky.bills.retrieve(bill.id).id == bill.id
    assert [b.id for b in flaky.bills.list()] == [bill.id]
    assert flaky.account.retrieve().status == "approved"
    first, second = proxy.attempts("GET", f"/v1/bills/{bill.id}")
    assert (first.retry_count, second.retry_count) == ("0", "1")


@pytest.mark.parametrize("mode", ["before", "after"])
async def test_the_async_client_creates_once(sb: SandboxHandle, mode: str) -> None:
    with flaky_proxy(sb.base_url, mode) as (proxy, url):
        async with (
            AsyncLumenLater(
                api_key=sb.secret_key, base_url=url, max_retries=2, _sleep=no_wait_async
            ) as flaky,
            AsyncLumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as direct,
        ):
            customer = (await direct.test_helpers.wallets.retrieve("approve")).address
            bill = await flaky.bills.create(customer=customer, amount=usdc(4))
            paid = await flaky.test_helpers.bills.pay(bill.id, wallet="approve")
            assert paid.status == "paid"
            assert [b.id for b in (await direct.bills.list()).data] == [bill.id]
            assert_retried_once(proxy, "POST", "/v1/bills")


def test_without_retries_the_lost_answer_is_an_error_and_a_retry_with_the_key_recovers(
    sb: SandboxHandle,
) -> None:
    from lumenlater_sdk import APIError

    with (
        flaky_proxy(sb.base_url, "after") as (_, url),
        LumenLater(api_key=sb.secret_key, base_url=url, max_retries=0) as flaky,
        LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as direct,
    ):
        customer = wallet(direct, "approve").address
        with pytest.raises(APIError) as info:
            flaky.bills.create(customer=customer, amount=usdc(6), idempotency_key="manual-1")
        assert info.value.status_code == 502
        again = direct.bills.create(customer=customer, amount=usdc(6), idempotency_key="manual-1")
        assert [b.id for b in direct.bills.list()] == [again.id]
