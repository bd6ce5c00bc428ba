"""Created ranges and the paid/overdue split of ``GET /v1/bills``, and the created ranges of
``GET /v1/events`` and ``GET /v1/checkout/sessions``: exact, on both databases.

A range is read by id off the created index when it holds few bills, else in id order
between the first and last id of the hours and days it covers (``bill_created_spans``,
store/_created_ranges.py); ``overdue`` is the paid bills the sweep announced plus its
backlog, ``paid`` the unannounced ones in their grace period (store/bills.py). Each
answer here is held to a brute-force filter over every one of the merchant's bills
(:func:`derived_bill_status`, the created bounds, the customer), page by page from
cursors on both sides, with the created index read as holding many bills (the walk)
and few (reads by id), for:

* a managed merchant's month of history, through the services and the API: bills
  issued in slices of ledger time hours to days apart, paid, repaid, liquidated,
  cancelled, swept to expired and announced overdue, and, after the last move of the
  clock, not swept (unpaid bills past their life still stored ``created``, paid ones
  past their grace period not announced);
* a self-custody merchant whose bills get their ``created`` when authorized, hours
  after their ids were minted: ``created`` out of id order;
* another merchant's bills in the same ranges, never listed.

Then the spans are dropped and filled again by migration 18's statement, and the lists
are the same.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_args

import pytest
from backend_helpers import Api
from stellar_sdk import Keypair
from stellar_sdk.auth import authorize_entry

from lumenlater_sdk.backend.db import Row
from lumenlater_sdk.backend.paging import PageRequest
from lumenlater_sdk.backend.routes.bills import BillStatusFilter
from lumenlater_sdk.backend.services.bills import NewBill, issue_bill
from lumenlater_sdk.backend.services.objects import derived_bill_status
from lumenlater_sdk.backend.store import _created_ranges as ranges
from lumenlater_sdk.backend.store import bills as bill_store
from lumenlater_sdk.backend.store import events as event_store
from lumenlater_sdk.backend.store import sessions as session_store
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

_FROZEN = 1_800_000_000.0
_HOUR, _DAY = 3_600, 86_400
_STATUSES = (None, *get_args(BillStatusFilter))
# Ledger time between the managed merchant's slices of bills: hours to days, a month in
# all, so that ranges cut hours and days and bills pass their grace period.
_GAPS = [3 * _HOUR, 7 * _HOUR, _DAY, 2 * _DAY + 5 * _HOUR, 11 * _HOUR, 4 * _DAY, 90, 3 * _DAY]
_GAPS += [6 * _HOUR, 5 * _DAY, 2 * _HOUR, 6 * _DAY, 20 * _HOUR, 3 * _DAY, 4 * _DAY]
_GAPS += [9 * _DAY, 13 * _DAY, 5 * _HOUR, 17 * _DAY, 8 * _DAY]  # 32-day spans between
_PER_SLICE = 14
_SESSION = {
    "amount": 4_000_000,
    "success_url": "https://shop.example/ok",
    "cancel_url": "https://shop.example/back",
}


@dataclass
class Seeded:
    sb: SandboxHandle
    shops: dict[str, str]  # name -> merchant id
    customer: str  # a customer of the managed shop's bills


def _issue(sb: SandboxHandle, merchant: str, customers: list[str], count: int) -> list[Row]:
    ctx = sb.backend.ctx
    with ctx.db.transaction() as tx:
        return [
            issue_bill(
                ctx,
                tx,
                merchant,
                NewBill(customer=customers[i % len(customers)], amount=2_000_000 + i),
                None,
            )
            for i in range(count)
        ]


def _advance(sb: SandboxHandle, seconds: int, *, sweep: bool = True) -> None:
    # The sandbox ledger's own clock (the API's helper refuses to move other merchants'
    # time); the sweeps run, or are left behind.
    assert sb.backend.sandbox is not None
    sb.backend.sandbox.advance_clock(seconds)
    while sweep and sb.run_time_triggers():
        pass


def _seed_managed(sb: SandboxHandle, api: Api) -> str:
    approve = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    strangers = [Keypair.random().public_key for _ in range(3)]
    paid: list[str] = []
    for n, gap in enumerate(_GAPS):
        made = _issue(sb, sb.merchant_id, [approve, *strangers], _PER_SLICE)
        payable = [b for b in made if b["customer"] == approve]
        for bill in payable[:3]:
            api.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "approve"})
            paid.append(bill["id"])
        api.ok("POST", f"/v1/bills/{made[1]['id']}/cancel")
        for i in range(2):  # sessions of this slice's ledger time (expired by the next)
            api.ok("POST", "/v1/checkout/sessions", json={**_SESSION, "order_id": f"o-{n}-{i}"})
        if n % 3 == 2:  # an older paid bill repaid
            api.ok("POST", f"/v1/test_helpers/bills/{paid[n // 3 * 2]}/repay", json={})
        _advance(sb, gap, sweep=n < len(_GAPS) - 1)
    now = int(api.ok("GET", "/v1/test_helpers/clock")["now"])
    # The oldest still paid are past the liquidation date: some are liquidated.
    late = [b for b in paid if now - _created(sb, b) >= sb.backend.ctx.constants.liquidation_after]
    for bill_id in late[:8:3]:
        if api.ok("GET", f"/v1/bills/{bill_id}")["status"] == "overdue":
            api.ok("POST", f"/v1/test_helpers/bills/{bill_id}/liquidate", json={})
    _issue(sb, sb.merchant_id, strangers, 5)  # still payable
    return strangers[0]


def _created(sb: SandboxHandle, bill_id: str) -> int:
    with sb.backend.ctx.db.transaction(write=False) as tx:
        return int(tx.scalar("SELECT created FROM bills WHERE id = ?", (bill_id,)))


def _authorize(api: Api, key: Keypair, bill: dict[str, Any]) -> None:
    entry = bill["authorization"]
    signed = authorize_entry(
        entry["entry_xdr"], key, entry["signature_expiration_ledger"], entry["network_passphrase"]
    ).to_xdr()
    api.ok("POST", f"/v1/bills/{bill['id']}/authorize", json={"signed_entry_xdr": signed})


def _seed_self_custody(sb: SandboxHandle) -> str:
    """Bills authorized hours after they were issued: their ``created`` (the chain's)
    is later than that of bills issued after them."""
    key = Keypair.random()
    creds = sb.create_self_custody_merchant(key)
    with Api(sb.base_url, creds.secret_key) as api:
        customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]

        def batch() -> list[dict[str, Any]]:
            return [
                api.ok("POST", "/v1/bills", json={"customer": customer, "amount": 3_000_000})
                for _ in range(5)
            ]

        first = batch()
        _advance(sb, 5 * _HOUR, sweep=False)
        second = batch()
        for bill in first[:3]:
            _authorize(api, key, bill)
        _advance(sb, 3 * _HOUR, sweep=False)
        for bill in [*second[:2], first[3]]:
            _authorize(api, key, bill)
        third = batch()
        _advance(sb, 2 * _HOUR, sweep=False)
        _authorize(api, key, third[0])
    return creds.merchant_id


@pytest.fixture(scope="module")
def seeded(module_db_url: str) -> Iterator[Seeded]:
    with run_sandbox(
        module_db_url,
        webhook_url=None,
        run_delivery=False,
        tick_interval=3600,
        clock=lambda: _FROZEN,
    ) as sb:
        other = sb.create_merchant("Other Shop")
        _issue(sb, other.merchant_id, [Keypair.random().public_key], 30)
        with Api(sb.base_url, sb.secret_key) as api:
            customer = _seed_managed(sb, api)
        # Last, with no sweep since the managed shop's last clock move (nor any now).
        self_custody = _seed_self_custody(sb)
        _issue(sb, other.merchant_id, [Keypair.random().public_key], 30)
        yield Seeded(sb, {"managed": sb.merchant_id, "self": self_custody}, customer)


def _bills(s: Seeded, merchant: str) -> list[Row]:
    with s.sb.backend.ctx.db.transaction(write=False) as tx:
        return tx.fetchall(
            "SELECT * FROM bills WHERE merchant_id = ? ORDER BY id DESC", (merchant,)
        )


def _now(s: Seeded) -> int:
    with s.sb.backend.ctx.db.transaction(write=False) as tx:
        return s.sb.backend.ctx.chain.now(tx)


def _ranges(rows: list[Row], rng: random.Random) -> list[tuple[int | None, int | None]]:
    """Open and closed ranges: at bills' own ``created`` (bounds are inclusive), a second
    off, hours and days wide, empty, before and after everything."""
    times = sorted({int(r["created"]) for r in rows})
    lo, hi = times[0], times[-1]
    out: list[tuple[int | None, int | None]] = [
        (None, None),
        (lo, hi),
        (lo - _DAY, lo - 1),
        (hi + 1, None),
        (hi, lo),
        (None, lo),
        (hi, None),
        (lo - 70 * _DAY, hi + 70 * _DAY),
    ]
    for _ in range(6):
        a, b = sorted(rng.sample(times, 2))
        out.append((a + rng.choice((-1, 0, 1)), b + rng.choice((-1, 0, 1))))
        t = rng.choice(times)
        out.append((t - rng.choice((0, _HOUR, _DAY, 3 * _DAY)), t + rng.choice((0, 1, _HOUR))))
        out.append(rng.choice([(t, None), (None, t)]))
        # Ends beyond every bill: the bounds come from the spans between.
        out.append(rng.choice([(t, hi + 40 * _DAY), (lo - 40 * _DAY, t)]))
    return out


def _expected(
    rows: list[Row],
    now: int,
    s: Seeded,
    status: str | None,
    customer: str | None,
    gte: int | None,
    lte: int | None,
) -> list[str]:
    c = s.sb.backend.ctx.constants
    return [
        str(r["id"])
        for r in rows
        if (status is None or derived_bill_status(r, now, c) == status)
        and (customer is None or r["customer"] == customer)
        and (gte is None or r["created"] >= gte)
        and (lte is None or r["created"] <= lte)
    ]


def _check(
    s: Seeded,
    merchant: str,
    rows: list[Row],
    now: int,
    rng: random.Random,
    filters: dict[str, Any],
) -> None:
    """The first page, and pages from cursors on each side of listed and unlisted bills."""
    ctx = s.sb.backend.ctx
    c = ctx.constants
    expected = _expected(
        rows,
        now,
        s,
        filters.get("status"),
        filters.get("customer"),
        filters.get("created_gte"),
        filters.get("created_lte"),
    )
    ids = [str(r["id"]) for r in rows]
    with ctx.db.transaction(write=False) as tx:
        _pages_match(
            lambda page: bill_store.list_bills(
                tx,
                merchant,
                page,
                now=now,
                bill_duration=c.bill_duration,
                grace_period=c.grace_period,
                **filters,
            ),
            expected,
            ids,
            rng,
            filters,
        )


@pytest.mark.parametrize("probe", [3, 40, ranges.PROBE])
def test_lists_match_a_brute_force_filter(
    seeded: Seeded, probe: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every status (and none), with and without a customer, over ranges of every kind,
    as the range's bills are counted many (the walk) or few (reads by id)."""
    monkeypatch.setattr(ranges, "PROBE", probe)
    rng = random.Random(probe)
    now = _now(seeded)
    for shop, merchant in seeded.shops.items():
        rows = _bills(seeded, merchant)
        statuses = {derived_bill_status(r, now, seeded.sb.backend.ctx.constants) for r in rows}
        if shop == "managed":
            assert set(_STATUSES) - {None, "requires_authorization"} <= statuses, statuses
            stored = {(r["status"], r["overdue_notified"]) for r in rows}
            # The sweep's backlog exists beside announced bills: both branches are read.
            assert {("paid", 0), ("paid", 1), ("created", 0)} <= stored, stored
        else:
            assert {"requires_authorization", "created"} <= statuses, statuses
            order = [int(r["created"]) for r in rows]
            assert order != sorted(order, reverse=True)  # created out of id order
        customer = seeded.customer if shop == "managed" else str(rows[0]["customer"])
        for gte, lte in _ranges(rows, rng):
            # Every status; a customer with no status and two statuses drawn.
            combos = [(status, None) for status in _STATUSES]
            combos += [(None, customer), *((st, customer) for st in rng.sample(_STATUSES, 2))]
            for status, who in combos:
                filters: dict[str, Any] = {
                    "status": status,
                    "customer": who,
                    "created_gte": gte,
                    "created_lte": lte,
                }
                _check(seeded, merchant, rows, now, rng, filters)


def test_later_instants_before_the_sweep(seeded: Seeded) -> None:
    """At instants ahead of the ledger (the sweep not run since): more paid bills are
    overdue, unpaid ones expired, each found by the backlog's branch."""
    rng = random.Random(7)
    merchant = seeded.shops["managed"]
    rows = _bills(seeded, merchant)
    for ahead in (_HOUR, 3 * _DAY, 15 * _DAY):
        now = _now(seeded) + ahead
        for status in ("paid", "overdue", "expired", "created"):
            for gte, lte in _ranges(rows, rng)[:8]:
                _check(
                    seeded,
                    merchant,
                    rows,
                    now,
                    rng,
                    {
                        "status": status,
                        "created_gte": gte,
                        "created_lte": lte,
                    },
                )


def _spans_cover(s: Seeded) -> None:
    """Every bill lies within its hour's and its day's span."""
    with s.sb.backend.ctx.db.transaction(write=False) as tx:
        bills = tx.fetchall("SELECT id, merchant_id, created FROM bills")
        spans = {
            (r["merchant_id"], int(r["width"]), int(r["start"])): (r["first_id"], r["last_id"])
            for r in tx.fetchall(f"SELECT * FROM {ranges.BILLS.spans}")
        }
    for b in bills:
        for width in ranges.WIDTHS:
            first, last = spans[(b["merchant_id"], width, int(b["created"]) // width * width)]
            assert first <= b["id"] <= last, (b, width)


def test_spans_cover_every_bill_and_refill_the_same(seeded: Seeded) -> None:
    _spans_cover(seeded)
    ctx = seeded.sb.backend.ctx
    with ctx.db.transaction(write=False) as tx:
        kept = tx.fetchall(f"SELECT * FROM {ranges.BILLS.spans} ORDER BY 1, 2, 3")
    with ctx.db.transaction() as tx:
        tx.execute(f"DELETE FROM {ranges.BILLS.spans}")
        tx.execute(ranges.spans_backfill(ranges.BILLS))
        refilled = tx.fetchall(f"SELECT * FROM {ranges.BILLS.spans} ORDER BY 1, 2, 3")
    # Authorized bills moved hours: the spans they left keep them (only ever widened),
    # so the kept ones hold at least what a refill finds.
    assert len(kept) >= len(refilled)
    by_key = {(r["merchant_id"], r["width"], r["start"]): r for r in kept}
    for r in refilled:
        k = by_key[(r["merchant_id"], r["width"], r["start"])]
        assert k["first_id"] <= r["first_id"] and r["last_id"] <= k["last_id"]
    _spans_cover(seeded)


def test_a_range_is_covered_by_a_few_dozen_spans() -> None:
    """Every second of a range lies in one of the spans read for it (at any width),
    and they are few however wide the range."""
    rng = random.Random(5)
    widths = ranges.WIDTHS
    for _ in range(300):
        lo = rng.randrange(1_700_000_000, 1_800_000_000)
        hi = lo + rng.choice((0, 1, 3_599, 86_400, 40 * 86_400, 3_650 * 86_400)) + rng.randrange(9)
        cover = ranges._cover(lo, hi, widths)
        assert sum((last - first) // w + 1 for w, first, last in cover) <= 24 + 32 + 24 + 32 + 120
        for t in {lo, hi, *(rng.randrange(lo, hi + 1) for _ in range(200))}:
            assert any(first <= t // w * w <= last for w, first, last in cover), (lo, hi, t)
        # Spans of one width do not overlap: no row is read twice.
        seen = [(w, s) for w, first, last in cover for s in range(first, last + 1, w)]
        assert len(seen) == len(set(seen))


def _pages_match(
    lister: Any, expected: list[str], ids: list[str], rng: random.Random, what: object
) -> None:
    """*lister(page)* against *expected* (newest first): the first page, and pages from
    cursors on each side of listed and unlisted rows (*ids*: every row of the merchant)."""
    cursors = rng.sample(expected, min(2, len(expected))) + rng.sample(ids, 1)
    pages = [PageRequest(rng.choice((1, 3, 10)))]
    for cursor in cursors:
        pages.append(PageRequest(rng.choice((1, 3, 10)), starting_after=cursor))
        pages.append(PageRequest(rng.choice((1, 3, 10)), ending_before=cursor))
    for page in pages:
        if page.starting_after:
            rest = [e for e in expected if e < page.starting_after]
            want = rest[: page.limit]
        elif page.ending_before:
            rest = [e for e in expected if e > page.ending_before]
            want = rest[-page.limit :]
        else:
            rest = expected
            want = rest[: page.limit]
        got = lister(page)
        shown = [str(r["id"]) for r in got.rows]
        assert (shown, got.has_more) == (want, len(rest) > page.limit), (what, page)


def _in(r: Row, gte: int | None, lte: int | None) -> bool:
    return (gte is None or r["created"] >= gte) and (lte is None or r["created"] <= lte)


@pytest.mark.parametrize("probe", [3, ranges.PROBE])
def test_event_and_session_ranges_match_a_brute_force_filter(
    seeded: Seeded, probe: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /v1/events`` (no type, one type, ``bill.*``) and ``GET /v1/checkout/sessions``
    (no status, open, expired) over created ranges of every kind, the range's rows
    counted many (the walk between the spans' ids) or few (reads by id)."""
    monkeypatch.setattr(ranges, "PROBE", probe)
    rng = random.Random(probe + 1)
    db = seeded.sb.backend.ctx.db
    for merchant in seeded.shops.values():
        with db.transaction(write=False) as tx:
            events = tx.fetchall(
                "SELECT id, type, created FROM events WHERE merchant_id = ? ORDER BY id DESC",
                (merchant,),
            )
            sessions = tx.fetchall(
                "SELECT id, status, created FROM checkout_sessions WHERE merchant_id = ?"
                " ORDER BY id DESC",
                (merchant,),
            )
        types = {str(r["type"]) for r in events}
        assert {"bill.created", "bill.paid"} <= types or merchant == seeded.shops["self"]
        checks: list[tuple[list[Row], Any, dict[str, Any], Any]] = []
        for kind in (None, "bill.paid", "bill.*"):
            checks.append(
                (
                    events,
                    event_store.list_events,
                    {"event_type": kind},
                    lambda r, kind=kind: (
                        kind is None
                        or r["type"] == kind
                        or (kind == "bill.*" and str(r["type"]).startswith("bill."))
                    ),
                )
            )
        if sessions:
            assert {"open", "expired"} <= {r["status"] for r in sessions}
            for status in (None, "open", "expired"):
                checks.append(
                    (
                        sessions,
                        session_store.list_sessions,
                        {"status": status},
                        lambda r, status=status: status is None or r["status"] == status,
                    )
                )
        for rows, lister, filters, keep in checks:
            ids = [str(r["id"]) for r in rows]
            for gte, lte in _ranges(rows, rng):
                expected = [str(r["id"]) for r in rows if keep(r) and _in(r, gte, lte)]
                with db.transaction(write=False) as tx:
                    _pages_match(
                        lambda page, t=tx, m=merchant, f=filters, g=gte, le=lte, ls=lister: ls(
                            t, m, page, **f, created_gte=g, created_lte=le
                        ),
                        expected,
                        ids,
                        rng,
                        (filters, gte, lte),
                    )


@pytest.mark.parametrize("ranged", [ranges.EVENTS, ranges.SESSIONS], ids=lambda r: r.table)
def test_event_and_session_spans_cover_every_row_and_refill_the_same(
    seeded: Seeded, ranged: ranges.Ranged
) -> None:
    """Every event and session lies within its span of each width, and migration 24's
    statement fills the same spans again."""
    db = seeded.sb.backend.ctx.db
    with db.transaction(write=False) as tx:
        rows = tx.fetchall(f"SELECT id, merchant_id, created FROM {ranged.table}")
        kept = tx.fetchall(f"SELECT * FROM {ranged.spans} ORDER BY 1, 2, 3")
    assert rows
    spans = {(r["merchant_id"], int(r["width"]), int(r["start"])): r for r in kept}
    for r in rows:
        for width in ranges.WIDTHS:
            span = spans[(r["merchant_id"], width, int(r["created"]) // width * width)]
            assert span["first_id"] <= r["id"] <= span["last_id"], (r, width)
    with db.transaction() as tx:
        tx.execute(f"DELETE FROM {ranged.spans}")
        tx.execute(ranges.spans_backfill(ranged))
        refilled = tx.fetchall(f"SELECT * FROM {ranged.spans} ORDER BY 1, 2, 3")
    # Neither moves in ledger time once written: the spans are exactly the rows'.
    assert [dict(r) for r in refilled] == [dict(r) for r in kept]
