"""How many times one API request waits for PostgreSQL (issue 16: at most 5 round trips
per ``POST /v1/bills``, at most 2 while it holds the ledger lock).

Counted on the wire by a proxy in front of the suite's server (``pg_wire``): one
ReadyForQuery is one round trip. The ledger lock is held from the round trip that
sends ``SELECT … FROM chain_ledger … FOR UPDATE`` to the one that sends ``COMMIT``,
both counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from pg_wire import TRIP, RoundTripCounter

from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


@pytest.fixture
def counted(pg_url: str) -> Iterator[tuple[httpx.Client, RoundTripCounter, str]]:
    proxy = RoundTripCounter(pg_url)
    database = urlsplit(pg_url).path.lstrip("/")
    try:
        with (
            run_sandbox(proxy.url(database), run_delivery=False, tick_interval=3600) as sb,
            _client(sb) as client,
        ):
            wallet = client.post("/v1/test_helpers/wallets", json={}).json()
            # Warm up: the merchant's key, mode and contract state are known, and
            # psycopg has prepared the statements it prepares after five runs.
            for _ in range(6):
                _create(client, wallet["address"])
            yield client, proxy, wallet["address"]
    finally:
        proxy.close()


def _client(sb: SandboxHandle) -> httpx.Client:
    headers = {"Authorization": f"Bearer {sb.secret_key}"}
    return httpx.Client(base_url=sb.base_url, headers=headers)


def _create(client: httpx.Client, customer: str, **headers: str) -> httpx.Response:
    response = client.post(
        "/v1/bills", json={"amount": 10_000_000, "customer": customer}, headers=headers
    )
    response.raise_for_status()
    return response


def _trips(proxy: RoundTripCounter, run: object) -> tuple[int, list[str]]:
    before, start = proxy.trips, len(proxy.log)
    assert callable(run)
    run()
    return proxy.trips - before, proxy.log[start:]


def _trips_holding_the_ledger(log: list[str]) -> int:
    """Round trips from the one that takes the ledger row lock to the COMMIT's (the
    request's last)."""
    locked = next(i for i, s in enumerate(log) if "FROM chain_ledger" in s and "FOR UPDATE" in s)
    assert log[-2].strip().upper() == "COMMIT" and log[-1] == TRIP, log
    return log[locked:].count(TRIP)


def test_a_bill_without_a_key(counted: tuple[httpx.Client, RoundTripCounter, str]) -> None:
    client, proxy, customer = counted
    trips, log = _trips(proxy, lambda: _create(client, customer))
    assert trips == 3, log
    assert _trips_holding_the_ledger(log) == 2, log


def test_a_bill_with_an_idempotency_key(
    counted: tuple[httpx.Client, RoundTripCounter, str],
) -> None:
    client, proxy, customer = counted
    trips, log = _trips(proxy, lambda: _create(client, customer, **{"Idempotency-Key": "k-1"}))
    # The claim is the transaction's first statement: no look for an answer before it.
    assert trips == 4, log
    assert _trips_holding_the_ledger(log) == 2, log
    replayed, log = _trips(proxy, lambda: _create(client, customer, **{"Idempotency-Key": "k-1"}))
    # A retry (rare) finds the answer through the failed claim instead.
    assert replayed == 4, log
