"""``GET /v1/bills?status=`` for the statuses time derives, at their boundaries, on both
databases.

``expired`` and ``overdue`` are not stored: an unpaid bill is expired one second after
its life ends (until the sweep marks it), a paid one overdue one second after its
grace period. The store compares ``created`` with a bound computed from *now* and
reads ``expired`` as three index scans merged in Python; these tests hold its answers
to :func:`derived_bill_status` on every side of every boundary, page by page in both
directions. The ledger clock is frozen and moved only by the sandbox clock helper.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest
from backend_helpers import Api
from stellar_sdk import Keypair
from stellar_sdk.auth import authorize_entry

from lumenlater_sdk.backend.paging import PageRequest
from lumenlater_sdk.backend.routes.bills import BillStatusFilter
from lumenlater_sdk.backend.services.objects import derived_bill_status
from lumenlater_sdk.backend.store import bills as bill_store
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

_FROZEN = 1_800_000_000.0
_STATUSES = get_args(BillStatusFilter)


@pytest.fixture
def frozen(db_url: str) -> Iterator[SandboxHandle]:
    with run_sandbox(
        db_url, webhook_url=None, run_delivery=False, tick_interval=3600, clock=lambda: _FROZEN
    ) as handle:
        yield handle


@pytest.fixture
def frozen_api(frozen: SandboxHandle) -> Iterator[Api]:
    with Api(frozen.base_url, frozen.secret_key) as api:
        yield api


def _now(api: Api) -> int:
    return int(api.ok("GET", "/v1/test_helpers/clock")["now"])


def _move_to(api: Api, t: int) -> None:
    seconds = t - _now(api)
    assert seconds > 0
    api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": seconds})
    assert _now(api) == t


def _listed(api: Api, status: str) -> list[str]:
    """Every bill the API lists under *status*, two per page, each shown with it."""
    ids: list[str] = []
    params: dict[str, Any] = {"status": status, "limit": 2}
    while True:
        body = api.ok("GET", "/v1/bills", params=params)
        assert all(b["status"] == status for b in body["data"])
        ids += [b["id"] for b in body["data"]]
        if not body["has_more"]:
            return ids
        params["starting_after"] = ids[-1]


def _new_bill(api: Api, customer: str) -> dict[str, Any]:
    return api.ok("POST", "/v1/bills", json={"customer": customer, "amount": 10_000_000})


def test_derived_statuses_flip_one_second_after_their_boundary(
    frozen: SandboxHandle, frozen_api: Api
) -> None:
    api = frozen_api
    c = frozen.backend.ctx.constants
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    paid = _new_bill(api, customer)
    api.ok("POST", f"/v1/test_helpers/bills/{paid['id']}/pay", json={"wallet": "approve"})
    unpaid = _new_bill(api, customer)

    _move_to(api, unpaid["created"] + c.bill_duration)  # the last second of its life
    assert _listed(api, "created") == [unpaid["id"]]
    assert _listed(api, "expired") == []
    _move_to(api, unpaid["created"] + c.bill_duration + 1)
    assert _listed(api, "created") == []
    assert _listed(api, "expired") == [unpaid["id"]]

    _move_to(api, paid["created"] + c.grace_period)  # the last second of its grace
    assert _listed(api, "paid") == [paid["id"]]
    assert _listed(api, "overdue") == []
    _move_to(api, paid["created"] + c.grace_period + 1)
    assert _listed(api, "paid") == []
    assert _listed(api, "overdue") == [paid["id"]]
    assert _listed(api, "expired") == [unpaid["id"]]


def _pages(frozen: SandboxHandle, status: str, now: int, *, before: str | None = None) -> list[str]:
    """The ids the store lists under *status* at *now*, two per page, newest first: all
    of them, or (*before*) those newer than *before*, paging backwards from it."""
    ctx = frozen.backend.ctx
    c = ctx.constants
    ids: list[str] = []
    page = PageRequest(2, ending_before=before)
    while True:
        with ctx.db.transaction(write=False) as tx:
            got = bill_store.list_bills(
                tx,
                frozen.merchant_id,
                page,
                now=now,
                bill_duration=c.bill_duration,
                grace_period=c.grace_period,
                status=status,
            )
        rows = [str(r["id"]) for r in got.rows]
        if before is None:
            ids += rows
        else:
            ids = rows + ids
        if not got.has_more:
            return ids
        if before is None:
            page = PageRequest(2, starting_after=rows[-1])
        else:
            page = PageRequest(2, ending_before=rows[0])


def test_store_lists_match_derived_status_around_every_boundary(
    frozen: SandboxHandle, frozen_api: Api
) -> None:
    """Bills made over several days, some paid, some cancelled, some swept to expired;
    then, at each second around each bill's boundaries (also later than the sweep has
    run: unpaid bills past their life still stored ``created``), each status's list,
    read forwards and backwards, is exactly the bills whose derived status it is."""
    api = frozen_api
    ctx = frozen.backend.ctx
    c = ctx.constants
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    for _ in range(4):
        made = [_new_bill(api, customer) for _ in range(3)]
        api.ok("POST", f"/v1/test_helpers/bills/{made[0]['id']}/pay", json={"wallet": "approve"})
        api.ok("POST", f"/v1/bills/{made[1]['id']}/cancel")
        _move_to(api, _now(api) + 10 * 3600)
    with ctx.db.transaction(write=False) as tx:
        rows = tx.fetchall(
            "SELECT * FROM bills WHERE merchant_id = ? ORDER BY id DESC", (frozen.merchant_id,)
        )
    stored = {r["status"] for r in rows}
    assert {"created", "expired", "paid", "cancelled"} <= stored, stored
    instants = sorted(
        {
            int(r["created"]) + span + step
            for r in rows
            for span in (c.bill_duration, c.grace_period)
            for step in (-1, 0, 1)
        }
    )
    for now in instants:
        for status in _STATUSES:
            expected = [r["id"] for r in rows if derived_bill_status(r, now, c) == status]
            assert _pages(frozen, status, now) == expected, (status, now)
            if expected:
                back = _pages(frozen, status, now, before=expected[-1])
                assert [*back, expected[-1]] == expected, (status, now)


def test_a_bill_its_merchant_never_authorized_is_swept_to_expired(
    frozen: SandboxHandle,
) -> None:
    """A self-custody bill left ``requires_authorization`` past its life is stored
    ``expired`` by the time sweep like an on-chain one: ``bill.expired`` names the status
    it had, its unsigned entry is dropped, and signing it afterwards is refused."""
    key = Keypair.random()
    creds = frozen.create_self_custody_merchant(key)
    c = frozen.backend.ctx.constants
    with Api(frozen.base_url, creds.secret_key) as api:
        customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
        pending = _new_bill(api, customer)
        assert pending["status"] == "requires_authorization" and pending["authorization"]
        _move_to(api, pending["created"] + c.bill_duration + 1)
        frozen.run_time_triggers()
        with frozen.backend.ctx.db.transaction(write=False) as tx:
            stored = tx.fetchone("SELECT status FROM bills WHERE id = ?", (pending["id"],))
            entries = tx.scalar(
                "SELECT COUNT(*) FROM bill_authorizations WHERE bill_id = ?", (pending["id"],)
            )
        assert stored == {"status": "expired"} and entries == 0
        shown = api.ok("GET", f"/v1/bills/{pending['id']}")
        assert shown["status"] == "expired" and shown["authorization"] is None
        expired = api.ok("GET", "/v1/events", params={"type": "bill.expired"})["data"]
        assert [e["data"]["object"]["id"] for e in expired] == [pending["id"]]
        assert expired[0]["data"]["previous_attributes"] == {"status": "requires_authorization"}
        signed = authorize_entry(
            pending["authorization"]["entry_xdr"],
            key,
            pending["authorization"]["signature_expiration_ledger"],
            pending["authorization"]["network_passphrase"],
        ).to_xdr()
        late = api.post(f"/v1/bills/{pending['id']}/authorize", {"signed_entry_xdr": signed})
        assert late.status_code == 400
        assert late.json()["error"]["code"] == "bill_not_awaiting_authorization"
        assert frozen.run_time_triggers() == 0  # swept once
