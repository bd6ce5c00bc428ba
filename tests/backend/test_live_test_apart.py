"""Live and test data apart, and merchants apart on one sandbox ledger (issue 14 part 3).

Objects carry the ``livemode`` of the key that made them; a test key reaches no live
object; built-in wallets are each merchant's own; a merchant's clock advance never
expires or makes overdue another merchant's sessions or bills.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.services.wallets import install_builtin_wallets
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

USDC = 10_000_000
DAY = 86_400
SESSION = {"success_url": "https://shop.test/ok", "cancel_url": "https://shop.test/no"}


def _wallet(api: Api, name: str) -> dict[str, Any]:
    return api.ok("GET", f"/v1/test_helpers/wallets/{name}")


def _bill(api: Api, wallet: str, amount: int) -> dict[str, Any]:
    customer = _wallet(api, wallet)["address"]
    return api.ok("POST", "/v1/bills", json={"customer": customer, "amount": amount})


def test_one_merchant_cannot_drain_the_built_in_wallets_for_another(
    api: Api, sb: SandboxHandle
) -> None:
    other = sb.create_merchant("Other")
    b = Api(sb.base_url, other.secret_key)
    mine = {w["name"]: w for w in api.ok("GET", "/v1/test_helpers/wallets")["data"]}
    theirs = {w["name"]: w for w in b.ok("GET", "/v1/test_helpers/wallets")["data"]}
    for name in ("approve", "decline", "limited"):
        assert mine[name]["address"] != theirs[name]["address"], name
        assert mine[name]["available_borrowing"] == theirs[name]["available_borrowing"], name
    assert theirs["limited"]["available_borrowing"] == 100 * USDC
    # A spends all of approve's borrowing power and all of limited's.
    power = left = mine["approve"]["available_borrowing"]
    for _ in range(20):  # each payment also locks collateral: spend what is left again
        bill = _bill(api, "approve", left)
        api.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "approve"})
        left = _wallet(api, "approve")["available_borrowing"]
        if left < USDC:
            break
    assert left < USDC
    more = _bill(api, "approve", USDC)
    r = api.post(f"/v1/test_helpers/bills/{more['id']}/pay", {"wallet": "approve"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "insufficient_collateral"
    small = _bill(api, "limited", 100 * USDC)
    api.ok("POST", f"/v1/test_helpers/bills/{small['id']}/pay", json={"wallet": "limited"})
    assert _wallet(api, "limited")["available_borrowing"] < USDC
    # B's approve and limited are as fresh as ever, by name and by id.
    # (only ever more: the fees of A's payments made every LP share worth more)
    assert _wallet(b, "approve")["available_borrowing"] >= power
    for name, amount in (("approve", 500 * USDC), ("limited", 100 * USDC)):
        theirs_bill = _bill(b, name, amount)
        paid = b.ok(
            "POST",
            f"/v1/test_helpers/bills/{theirs_bill['id']}/pay",
            json={"wallet": theirs[name]["id"]},
        )
        assert paid["status"] == "paid", name
    # A cannot name B's wallets (nor the genesis ones) at all.
    for name in ("approve", "limited"):
        r = api.get(f"/v1/test_helpers/wallets/{theirs[name]['id']}")
        assert r.status_code == 404, name
    made = b.ok("POST", "/v1/test_helpers/wallets", json={"name": "bob"})
    assert api.get(f"/v1/test_helpers/wallets/{made['id']}").status_code == 404
    assert api.get("/v1/test_helpers/wallets/bob").status_code == 404
    with sb.backend.db.transaction(write=False) as tx:
        genesis = [r["id"] for r in tx.fetchall("SELECT id FROM wallets WHERE merchant_id IS NULL")]
    assert len(genesis) == 3
    for wallet_id in genesis:
        assert api.get(f"/v1/test_helpers/wallets/{wallet_id}").status_code == 404


def test_a_later_merchant_gets_exact_built_in_wallets_and_an_old_one_gets_them_at_start(
    api: Api, sb: SandboxHandle
) -> None:
    # Fees raise the LP share index; a merchant made afterwards still gets exactly
    # 100 USDC of borrowing power in its limited.
    bill = _bill(api, "approve", 5_000 * USDC)
    api.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "approve"})
    later = sb.create_merchant("Later")
    c = Api(sb.base_url, later.secret_key)
    assert _wallet(c, "limited")["available_borrowing"] == 100 * USDC
    # A merchant recorded before merchants had copies (none in the database) sees the
    # genesis ones until the backend starts, which gives it its own.
    backend = sb.backend
    with backend.db.transaction() as tx:
        tx.execute("DELETE FROM wallets WHERE merchant_id = ?", (later.merchant_id,))
        genesis = tx.scalar(
            "SELECT address FROM wallets WHERE merchant_id IS NULL AND name = ?", ("approve",)
        )
    assert _wallet(c, "approve")["address"] == genesis
    assert backend.sandbox is not None
    with backend.db.transaction() as tx:
        install_builtin_wallets(backend.ctx, tx, backend.sandbox.builtin_wallets(tx=tx))
    names = [w["name"] for w in c.ok("GET", "/v1/test_helpers/wallets")["data"]]
    assert names == ["approve", "decline", "limited"]
    assert _wallet(c, "approve")["address"] != genesis
    assert _wallet(c, "limited")["available_borrowing"] == 100 * USDC


def _session(api: Api, **extra: Any) -> dict[str, Any]:
    return api.ok("POST", "/v1/checkout/sessions", json={"amount": 10 * USDC, **SESSION, **extra})


def _make_everything(api: Api, customer: str) -> dict[str, dict[str, Any]]:
    """A bill, a checkout session, a webhook endpoint and the events they caused."""
    bill = api.ok("POST", "/v1/bills", json={"customer": customer, "amount": 5 * USDC})
    session = _session(api)
    endpoint = api.ok(
        "POST",
        "/v1/webhook_endpoints",
        json={"url": "https://hooks.example.com/lumenlater", "enabled_events": ["*"]},
    )
    event = api.ok("GET", "/v1/events", params={"type": "bill.created"})["data"][0]
    return {"bill": bill, "session": session, "endpoint": endpoint, "event": event}


def test_livemode_comes_from_the_key_and_test_keys_reach_no_live_object(
    api: Api, sb: SandboxHandle
) -> None:
    live_creds = sb.backend.create_merchant("Live Shop", livemode=True)
    assert live_creds.secret_key.startswith("sk_live_")
    live = Api(sb.base_url, live_creds.secret_key)
    customer = _wallet(api, "approve")["address"]
    made = {"live": _make_everything(live, customer), "test": _make_everything(api, customer)}
    for mode, key in (("live", live), ("test", api)):
        expected = mode == "live"
        assert key.ok("GET", "/v1/account")["livemode"] is expected, mode
        for kind, obj in made[mode].items():
            assert obj["livemode"] is expected, (mode, kind)
        # The same objects read back, and in every list, carry the key's mode.
        ids = {kind: obj["id"] for kind, obj in made[mode].items()}
        assert key.ok("GET", f"/v1/bills/{ids['bill']}")["livemode"] is expected
        assert key.ok("GET", f"/v1/checkout/sessions/{ids['session']}")["livemode"] is expected
        assert key.ok("GET", f"/v1/webhook_endpoints/{ids['endpoint']}")["livemode"] is expected
        assert key.ok("GET", f"/v1/events/{ids['event']}")["livemode"] is expected
        for path in ("/v1/bills", "/v1/checkout/sessions", "/v1/events", "/v1/webhook_endpoints"):
            listed = key.ok("GET", path, params={"limit": 100})["data"]
            assert listed and {o["livemode"] for o in listed} == {expected}, (mode, path)
    # A test key can neither read nor change a live object: each is 404, and unchanged.
    theirs = {kind: obj["id"] for kind, obj in made["live"].items()}
    for method, path, body in (
        ("GET", f"/v1/bills/{theirs['bill']}", None),
        ("POST", f"/v1/bills/{theirs['bill']}/cancel", {}),
        ("POST", f"/v1/test_helpers/bills/{theirs['bill']}/pay", {"wallet": "approve"}),
        ("GET", f"/v1/checkout/sessions/{theirs['session']}", None),
        ("POST", f"/v1/checkout/sessions/{theirs['session']}/expire", {}),
        ("GET", f"/v1/webhook_endpoints/{theirs['endpoint']}", None),
        ("POST", f"/v1/webhook_endpoints/{theirs['endpoint']}", {"disabled": True}),
        ("POST", f"/v1/webhook_endpoints/{theirs['endpoint']}/rotate_secret", {}),
        ("DELETE", f"/v1/webhook_endpoints/{theirs['endpoint']}", None),
        ("GET", f"/v1/events/{theirs['event']}", None),
        ("POST", f"/v1/events/{theirs['event']}/resend", {}),
    ):
        r = api.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["type"] == "invalid_request_error", path
    for path in ("/v1/bills", "/v1/checkout/sessions", "/v1/events", "/v1/webhook_endpoints"):
        seen = {o["id"] for o in api.ok("GET", path, params={"limit": 100})["data"]}
        assert not seen & set(theirs.values()), path
    assert live.ok("GET", f"/v1/bills/{theirs['bill']}")["status"] == "created"
    assert live.ok("GET", f"/v1/checkout/sessions/{theirs['session']}")["status"] == "open"
    assert live.ok("GET", f"/v1/webhook_endpoints/{theirs['endpoint']}")["status"] == "enabled"
    # Nor can it move time for them: the live bill's life is the ledger's, so the test
    # clock refuses to end it, and the live session keeps its time left.
    r = api.post("/v1/test_helpers/clock/advance", {"seconds": 2 * DAY})
    assert r.status_code == 400 and r.json()["error"]["code"] == "clock_affects_others"
    assert r.json()["error"]["param"] == "seconds"
    live.ok("POST", f"/v1/bills/{theirs['bill']}/cancel")
    before = live.ok("GET", f"/v1/checkout/sessions/{theirs['session']}")
    api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 2 * DAY})
    after = live.ok("GET", f"/v1/checkout/sessions/{theirs['session']}")
    assert after["status"] == "open" and after["expires_at"] == before["expires_at"] + 2 * DAY
    assert (
        api.ok("GET", f"/v1/checkout/sessions/{made['test']['session']['id']}")["status"]
        == "expired"
    )
    assert all(e["livemode"] for e in live.ok("GET", "/v1/events", params={"limit": 100})["data"])


def _advance(api: Api, seconds: int) -> Any:
    return api.post("/v1/test_helpers/clock/advance", {"seconds": seconds})


def _room(r: Any) -> int:
    """The seconds a ``clock_affects_others`` refusal says may still be advanced."""
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "clock_affects_others" and error["param"] == "seconds"
    return int(error["message"].split("At most ")[1].split(" s")[0])


@pytest.fixture(params=["sqlite", "postgresql"])
def frozen_sb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SandboxHandle]:
    """A sandbox whose wall clock stands still, so ledger time moves only when a test
    moves it: "the last second of a bill's life" cannot pass while a request is sent."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sb.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    with run_sandbox(
        url, run_delivery=False, tick_interval=3600, clock=lambda: 1_800_000_000.0
    ) as handle:
        yield handle


def test_one_merchants_clock_never_expires_or_overdues_anothers_objects(
    frozen_sb: SandboxHandle,
) -> None:
    sb = frozen_sb
    api = Api(sb.base_url, sb.secret_key)
    b = Api(sb.base_url, sb.create_merchant("Other").secret_key)
    now = api.ok("GET", "/v1/test_helpers/clock")["now"]
    # Sessions: B's keep the time they had left when A moves the clock; A's expire.
    mine, theirs = _session(api), _session(b, expires_in=7200)
    api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 3 * 3600})
    assert api.ok("GET", f"/v1/checkout/sessions/{mine['id']}")["status"] == "expired"
    kept = b.ok("GET", f"/v1/checkout/sessions/{theirs['id']}")
    assert kept["status"] == "open" and kept["expires_at"] == theirs["expires_at"] + 3 * 3600
    assert b.ok("GET", "/v1/test_helpers/clock")["now"] >= now + 3 * 3600  # one ledger
    # B's own clock still ends B's session.
    b.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 7200})
    assert b.ok("GET", f"/v1/checkout/sessions/{theirs['id']}")["status"] == "expired"
    # An unpaid bill of B lives one ledger day: A may move the clock up to its end only.
    bill = _bill(b, "approve", 20 * USDC)
    room = _room(_advance(api, 2 * DAY))
    now = api.ok("GET", "/v1/test_helpers/clock")["now"]
    assert room == bill["created"] + DAY - now
    assert _room(_advance(api, room + 1)) == room
    assert b.ok("GET", f"/v1/bills/{bill['id']}")["status"] == "created"
    # A helper that would make objects and then move the clock is refused before it
    # makes anything.
    count = len(api.ok("GET", "/v1/bills", params={"limit": 100})["data"])
    r = api.post("/v1/test_helpers/events/trigger", {"type": "bill.overdue"})
    assert r.json()["error"]["code"] == "clock_affects_others"
    assert len(api.ok("GET", "/v1/bills", params={"limit": 100})["data"]) == count
    api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": room})
    paid = b.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "approve"})
    assert paid["status"] == "paid"  # the last second of its life: still payable
    # A paid bill of B: its interest-free period, then each day of late fee, are B's.
    room = _room(_advance(api, 15 * DAY))
    assert room == bill["created"] + 14 * DAY - api.ok("GET", "/v1/test_helpers/clock")["now"]
    assert b.ok("GET", f"/v1/bills/{bill['id']}")["status"] == "paid"
    # B's own clock ages B's bills.
    b.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 15 * DAY})
    overdue = b.ok("GET", "/v1/bills/" + bill["id"])
    assert overdue["status"] == "overdue" and overdue["late_fee"] > 0
    assert [e["type"] for e in b.ok("GET", "/v1/events", params={"type": "bill.overdue"})["data"]]
    assert _room(_advance(api, DAY)) < DAY  # another day of B's late fee: refused
    b.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/repay")
    # Nothing of B's left that time changes: A's moves are free again.
    api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 30 * DAY})
    assert api.ok("GET", "/v1/events", params={"type": "bill.overdue"})["data"] == []
