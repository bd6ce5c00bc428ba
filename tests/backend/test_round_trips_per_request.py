"""How many times one API request waits for PostgreSQL (issue 16: at most 5 round trips
per ``POST /v1/bills``, at most 2 while it holds the ledger lock; a
``GET /v1/bills/{id}`` makes one).

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

from lumenlater_sdk.backend.http import _gate
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


@pytest.fixture
def counted(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[httpx.Client, RoundTripCounter, str]]:
    # A key is looked up again once its 2 s in the cache are over: a slow warm-up on a
    # loaded machine would count that look-up in the request measured after it
    # (test_a_bill_read_with_a_key_not_seen_yet counts one on purpose).
    monkeypatch.setattr(_gate, "KEY_CACHE_SECONDS", 3600.0)
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
    """The request's round trips and its log: every connection's, except the
    transactions of two background tasks that a loaded machine can run in the middle of
    the request (5 trips were seen for 3 that way): the sandbox's clock, which only
    reads the ledger row unlocked (a request reads it locked, in its own transaction),
    and the request log's flush, which only writes ``request_logs`` (every 0.25 s)."""
    seen = [len(log) for log in proxy.by_connection]
    assert callable(run)
    run()
    log: list[str] = []
    for i, entries in enumerate(list(proxy.by_connection)):
        for transaction in _transactions(entries[seen[i] if i < len(seen) else 0 :]):
            if not _background(transaction):
                log += transaction
    return log.count(TRIP), log


def _transactions(entries: list[str]) -> list[list[str]]:
    """One connection's entries cut into its transactions: each from its BEGIN to the
    round trip of its COMMIT or ROLLBACK, and the statements run outside one (in
    autocommit, as a GET's) up to the next BEGIN. Round trips before the first
    statement are a group of their own: they answer statements sent before the window.

    Cut at BEGIN only, a GET that ran just after the request log's flush on the same
    pooled connection was counted as part of the flush, and both were counted.
    """
    out: list[list[str]] = []
    ended = True  # the last group's transaction ended: what follows is another
    for entry in entries:
        statement = entry != TRIP
        if (
            ended
            or entry.strip().upper() == "BEGIN"
            or (statement and all(e == TRIP for e in out[-1]))
        ):
            out.append([])
        out[-1].append(entry)
        group = out[-1]
        ended = (
            entry == TRIP and len(group) > 1 and group[-2].strip().upper() in ("COMMIT", "ROLLBACK")
        )
    return out


def _background(transaction: list[str]) -> bool:
    """Not the request's: the end of a transaction sent before the window (no statement
    of its own in it: a background flush still in flight when the request began, seen
    as 6 trips for 4), or a background task's (see :func:`_trips`)."""
    inner = [
        s
        for s in transaction
        if s != TRIP and s.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK")
    ]
    clock = all(
        s.startswith("SELECT") and "FROM chain_ledger WHERE id = 1" in s and "FOR UPDATE" not in s
        for s in inner
    )
    request_log = all("request_logs" in s and "bills" not in s for s in inner)
    return clock or request_log  # all() of nothing: a group without a statement


def _trips_holding_the_ledger(log: list[str]) -> int:
    """Round trips from the one that takes the ledger row lock to the COMMIT's (the
    request's last)."""
    locked = next(i for i, s in enumerate(log) if "FROM chain_ledger" in s and "FOR UPDATE" in s)
    assert log[-2].strip().upper() == "COMMIT" and log[-1] == TRIP, "\n".join(log)
    return log[locked:].count(TRIP)


def test_a_bill_without_a_key(counted: tuple[httpx.Client, RoundTripCounter, str]) -> None:
    client, proxy, customer = counted
    trips, log = _trips(proxy, lambda: _create(client, customer))
    assert trips == 3, "\n".join(log)
    assert _trips_holding_the_ledger(log) == 2, "\n".join(log)


def test_a_bill_with_an_idempotency_key(
    counted: tuple[httpx.Client, RoundTripCounter, str],
) -> None:
    client, proxy, customer = counted
    trips, log = _trips(proxy, lambda: _create(client, customer, **{"Idempotency-Key": "k-1"}))
    # The claim is the transaction's first statement: no look for an answer before it.
    assert trips == 4, "\n".join(log)
    assert _trips_holding_the_ledger(log) == 2, "\n".join(log)
    replayed, log = _trips(proxy, lambda: _create(client, customer, **{"Idempotency-Key": "k-1"}))
    # A retry (rare) finds the answer through the failed claim instead.
    assert replayed == 4, "\n".join(log)


def test_a_bill_read(counted: tuple[httpx.Client, RoundTripCounter, str]) -> None:
    client, proxy, customer = counted
    bill = _create(client, customer).json()
    trips, log = _trips(proxy, lambda: client.get(f"/v1/bills/{bill['id']}").raise_for_status())
    # The bill and the ledger clock its status derives from leave together.
    assert trips == 1, "\n".join(log)


def test_a_bill_read_with_a_key_not_seen_yet(
    counted: tuple[httpx.Client, RoundTripCounter, str],
) -> None:
    client, proxy, customer = counted
    bill = _create(client, customer).json()
    made = client.post("/v1/api_keys", json={"type": "secret"}).json()
    headers = {"Authorization": f"Bearer {made['secret']}"}
    trips, log = _trips(
        proxy, lambda: client.get(f"/v1/bills/{bill['id']}", headers=headers).raise_for_status()
    )
    # The key's look-up (one statement, in autocommit), then the read.
    assert trips == 2, "\n".join(log)
