"""``created_gte`` / ``created_lte`` on ``GET /v1/checkout/sessions`` and ``GET /v1/events``,
through the HTTP API and the SDK (sync and async), on both databases.

The sandbox's wall clock is frozen and its ledger clock moved between writes, so objects
get exactly three distinct ``created`` times (on a running clock a round's objects could
straddle a second: a CI run had a session a second before its bill). Each filter must
return exactly the objects whose ``created`` lies in range (bounds included), newest
first, as the unfiltered list says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from backend_helpers import Api, new_bill_body

from lumenlater_sdk import AsyncLumenLater, LumenLater
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

_SESSION = {
    "amount": 5_000_000,
    "success_url": "https://shop.example/ok",
    "cancel_url": "https://shop.example/back",
    "expires_in": 86_400,  # stays open while the clock moves
}

_FROZEN = 1_800_000_000.0


@pytest.fixture
def sb(db_url: str) -> Iterator[SandboxHandle]:
    """A sandbox on each database whose time moves only when the clock helper moves it."""
    with run_sandbox(db_url, run_delivery=False, tick_interval=3600, clock=lambda: _FROZEN) as h:
        yield h


def _spread(api: Api) -> list[int]:
    """Three rounds of a session and a bill (so events), the clock moved 600 s between
    rounds; the three ``created`` times."""
    times = []
    for n in range(3):
        if n:
            api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 600})
        for i in range(2):
            api.ok("POST", "/v1/checkout/sessions", json={**_SESSION, "order_id": f"r{n}-{i}"})
        times.append(int(api.ok("POST", "/v1/bills", json=new_bill_body(api))["created"]))
    return times


def _all(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every object of the list, walking the pages (limit 2, so filters span pages)."""
    out: list[dict[str, Any]] = []
    while True:
        body = api.ok("GET", path, params={"limit": 2, **params})
        out += body["data"]
        if not body["has_more"]:
            return out
        params = {**params, "starting_after": body["data"][-1]["id"]}


def _ranges(times: list[int]) -> list[dict[str, int]]:
    first, middle, last = times
    return [
        {"created_gte": middle},
        {"created_lte": middle},
        {"created_gte": middle, "created_lte": middle},
        {"created_gte": first, "created_lte": last},
        {"created_gte": last + 1},
        {"created_lte": first - 1},
    ]


def _expected(everything: list[dict[str, Any]], f: dict[str, int]) -> list[str]:
    lo, hi = f.get("created_gte", 0), f.get("created_lte", 2**62)
    return [o["id"] for o in everything if lo <= o["created"] <= hi]


@pytest.mark.parametrize("path", ["/v1/checkout/sessions", "/v1/events"])
def test_created_filters_over_http(api: Api, path: str) -> None:
    times = _spread(api)
    assert times[0] < times[1] < times[2]
    everything = _all(api, path)
    assert {o["created"] for o in everything} >= set(times)
    for f in _ranges(times):
        assert [o["id"] for o in _all(api, path, **f)] == _expected(everything, f), f
    # The middle round alone: its two sessions (and, for events, what its writes emitted).
    middle = _all(api, path, created_gte=times[1], created_lte=times[1])
    assert middle and all(o["created"] == times[1] for o in middle)
    if path == "/v1/checkout/sessions":
        assert sorted(o["order_id"] for o in middle) == ["r1-0", "r1-1"]


@pytest.mark.parametrize("param", ["created_gte", "created_lte"])
@pytest.mark.parametrize("path", ["/v1/checkout/sessions", "/v1/events"])
def test_a_bad_created_bound_is_a_400_naming_it(api: Api, path: str, param: str) -> None:
    for value in ("-1", "soon", str(2**62 + 1)):
        r = api.get(path, params={param: value})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["param"] == param


def test_created_filters_through_the_sdk(sb: SandboxHandle) -> None:
    api = Api(sb.base_url, sb.secret_key)
    try:
        times = _spread(api)
        sessions = _all(api, "/v1/checkout/sessions")
        events = _all(api, "/v1/events")
    finally:
        api.http.close()
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url) as ll:
        for f in _ranges(times):
            got = [s.id for s in ll.checkout.sessions.list(limit=2, **f)]
            assert got == _expected(sessions, f), f
            assert [e.id for e in ll.events.list(limit=2, **f)] == _expected(events, f), f

    async def go() -> None:
        async with AsyncLumenLater(api_key=sb.secret_key, base_url=sb.base_url) as ll:
            for f in _ranges(times):
                got = [s.id async for s in ll.checkout.sessions.list(limit=2, **f)]
                assert got == _expected(sessions, f), f
                got = [e.id async for e in ll.events.list(limit=2, **f)]
                assert got == _expected(events, f), f

    asyncio.run(go())
