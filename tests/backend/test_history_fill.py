"""The bulk history maker (services/history_fill, behind bench/history.py) makes a history the
backend itself would have made: a month of ledger time for two shops on a running sandbox,
then every bill checked against the contract's own record, its events, its ledger line,
its webhook outbox rows, and the API's lists."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from typing import Any

import httpx

from lumenlater_sdk.backend.chain import SECONDS_PER_DAY
from lumenlater_sdk.backend.services.history_fill import HistoryFill, Mix
from lumenlater_sdk.backend.services.objects import derived_bill_status
from lumenlater_sdk.backend.testing import run_sandbox

# Larger shares of the rare fates than the bench uses, so 300 bills hold each of them.
_MIX = Mix(repaid_late=0.12, liquidated=0.1, owing=0.05, session_refused=0.1)
_CHAIN_STATUS = {
    "created": "Created",
    "expired": "Created",  # the contract has no expiry state: it refuses late payments
    "cancelled": "Created",  # nor a cancel: the backend refuses to relay a payment
    "paid": "Paid",
    "repaid": "Repaid",
    "liquidated": "Liquidated",
}
# The event each stored status needs about its bill.
_EVENT_OF = {
    "paid": "bill.paid",
    "repaid": "bill.repaid",
    "liquidated": "bill.liquidated",
    "cancelled": "bill.cancelled",
    "expired": "bill.expired",
}


def _listed(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = http.get(
            "/v1/bills",
            params={"limit": 100, **params, **({"starting_after": cursor} if cursor else {})},
        )
        assert page.status_code == 200, page.text
        body = page.json()
        out += body["data"]
        if not body["has_more"]:
            return out
        cursor = body["data"][-1]["id"]


def test_history_is_what_the_backend_would_have_made(db_url: str) -> None:
    with run_sandbox(db_url, run_delivery=False, tick_interval=3600) as sb:
        ctx = sb.backend.ctx
        fill = HistoryFill(ctx, mix=_MIX, batch=50)
        shops = [
            fill.add_shop(f"History {i}", w, "http://127.0.0.1:9/hooks")
            for i, w in enumerate((0.7, 0.3))
        ]
        for shop in shops:
            fill.ensure_shoppers(shop, 6)
        while fill.counts["bills"] < 300:  # ten days of bills, then on past day 28
            fill.run_slice(min(8, 300 - fill.counts["bills"]))
        while fill.days < 32:
            fill.run_slice(0)
        mine = [s.merchant_id for s in shops]
        with ctx.db.transaction(write=False) as tx:
            marks = ", ".join("?" * len(mine))
            bills = tx.fetchall(f"SELECT * FROM bills WHERE merchant_id IN ({marks})", mine)
            events = tx.fetchall(
                f"SELECT id, type, object_id FROM events WHERE merchant_id IN ({marks})", mine
            )
            lines = tx.fetchall(
                f"SELECT bill_id, type FROM ledger_lines WHERE merchant_id IN ({marks})", mine
            )
            outbox = tx.fetchall(
                f"SELECT event_id FROM webhook_outbox WHERE merchant_id IN ({marks})", mine
            )
            sessions = Counter(
                r["status"]
                for r in tx.fetchall(
                    f"SELECT status FROM checkout_sessions WHERE merchant_id IN ({marks})", mine
                )
            )
            failures = tx.scalar(
                f"SELECT count(*) FROM payment_failures WHERE merchant_id IN ({marks})", mine
            )
            now = ctx.chain.now(tx)
            on_chain = {
                int(b["bill_number"]): ctx.chain.read(
                    "bnpl_core", "get_bill", [int(b["bill_number"])], tx=tx
                )
                for b in bills
            }
        assert len(bills) == fill.counts["bills"] == 300
        statuses = Counter(b["status"] for b in bills)
        assert set(statuses) == set(_CHAIN_STATUS) - {"created"}, statuses  # all were settled
        assert sessions["complete"] and sessions["expired"] and failures, (sessions, failures)
        events_of = Counter((e["object_id"], e["type"]) for e in events)
        payments = Counter(ln["bill_id"] for ln in lines if ln["type"] == "payment")
        for bill in bills:
            chain = on_chain[int(bill["bill_number"])]
            assert chain["status"] == _CHAIN_STATUS[bill["status"]], (bill, chain)
            assert chain["user"] == bill["customer"] and chain["principal"] == bill["amount"]
            assert events_of[(bill["id"], "bill.created")] == 1
            paid = bill["status"] in ("paid", "repaid", "liquidated")
            assert events_of[(bill["id"], "bill.paid")] == int(paid)
            assert payments[bill["id"]] == int(paid)
            if bill["status"] in _EVENT_OF:
                assert events_of[(bill["id"], _EVENT_OF[bill["status"]])] == 1, bill
            if bill["status"] == "expired":
                assert now > int(bill["created"]) + ctx.constants.bill_duration
        # Bills owed past the interest-free period were told so (bill.overdue), and only they.
        shown = {b["id"]: derived_bill_status(b, now, ctx.constants) for b in bills}
        assert "overdue" in shown.values()
        for bill in bills:
            if bill["status"] == "paid":
                overdue = shown[bill["id"]] == "overdue"
                assert events_of[(bill["id"], "bill.overdue")] == int(overdue)
        assert now >= min(int(b["created"]) for b in bills) + 32 * SECONDS_PER_DAY - 3600
        # Every event is queued for the shop's endpoint once.
        assert sorted(r["event_id"] for r in outbox) == sorted(e["id"] for e in events)
        # The API lists the first shop's bills, in each status, as stored.
        first = shops[0]
        expected = Counter(shown[b["id"]] for b in bills if b["merchant_id"] == first.merchant_id)
        with httpx.Client(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {first.secret_key}"}
        ) as http:
            assert len(_listed(http)) == sum(expected.values())
            for status, count in expected.items():
                listed = _listed(http, status=status)
                assert len(listed) == count and {b["status"] for b in listed} == {status}


def _fill_days(fill: HistoryFill, days: float) -> None:
    while fill.days < days:
        fill.run_slice(6 if fill.days < 8 else 0)


def _statuses(ctx: Any, fill: HistoryFill) -> Counter[str]:
    mine = [s.merchant_id for s in fill.shops]
    with ctx.db.transaction(write=False) as tx:
        marks = ", ".join("?" * len(mine))
        rows = tx.fetchall(f"SELECT status FROM bills WHERE merchant_id IN ({marks})", mine)
    return Counter(r["status"] for r in rows)


def test_a_fill_carried_on_from_its_checkpoint_makes_the_same_history(db_url: str) -> None:
    """A fill stopped after day 10 and carried on by a new HistoryFill from its JSON
    checkpoint ends with exactly what one uninterrupted fill of the same seed makes: the
    repayments and liquidations it had drawn before the stop are still carried out."""
    made = []
    key = secrets.token_hex(32)  # both sandboxes open the one database's sealed seeds
    for stop_at in (None, 10):
        with run_sandbox(db_url, run_delivery=False, tick_interval=3600, secret_key=key) as sb:
            ctx = sb.backend.ctx
            fill = HistoryFill(ctx, mix=_MIX, batch=50, seed=5)
            for i, w in enumerate((0.7, 0.3)):
                fill.ensure_shoppers(fill.add_shop(f"Carried {i}", w, None), 6)
            if stop_at is not None:
                _fill_days(fill, stop_at)
                saved = json.loads(json.dumps(fill.checkpoint()))
                fill = HistoryFill.resume(ctx, saved, mix=_MIX, batch=50)
                assert fill.checkpoint() == saved
            _fill_days(fill, 31)
            made.append((dict(fill.counts), _statuses(ctx, fill)))
    (whole, whole_statuses), (carried, carried_statuses) = made
    assert whole["repaid"] and whole["liquidated"], whole
    assert carried == whole
    assert carried_statuses == whole_statuses
