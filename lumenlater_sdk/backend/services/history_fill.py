"""A sandbox merchant history made in bulk, through the same services and contract engine
as the API: for benchmarks of how costs grow with history (``bench/history.py``).

Ledger time only moves forward, so a history is made slice by slice: a slice's bills and
checkout sessions are issued and mostly paid, the repayments and liquidations that fell
due are carried out, then the sandbox clock moves on a slice and the time triggers run
(unpaid bills and open sessions expire, late ones turn overdue), as the backend's tick
would. Each step of a slice is one transaction for up to ``batch`` objects (new bills
and sessions of every shop: a small shop's few do not cost a transaction of their own;
repayments of one shop): the per-object functions the API calls inside its own
transaction (``issue_bill``, ``pay_with_wallet``, ``repay_as_wallet``, ``liquidate_as``,
``void_bill``, ``open_session``, ``pay_open_session``) are called in a loop inside it.
A refused payment goes through the hosted page's ``pay_session`` itself, one transaction
each, so it is recorded as a real refusal is.

What a paid bill becomes is drawn when it is paid (:class:`Mix`): repaid within the
interest-free period, repaid late (after ``bill.overdue``), liquidated after the
liquidation threshold, or left owing.

A million-bill history outlasts one process on a small machine, so a fill can be carried
on by another: :meth:`HistoryFill.checkpoint` between slices, :meth:`HistoryFill.resume`
later on the same database.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..chain import SECONDS_PER_DAY, USDC_UNIT
from ..db import Row, Tx
from ..store import bills as bill_store
from . import checkout, checkout_page, clock, merchants, wallets, webhook_endpoints
from .bills import NewBill, issue_bill, void_bill
from .context import ServiceContext
from .errors import ServiceError
from .objects import derived_bill_status

__all__ = ["HistoryFill", "Mix", "Shop"]

_COLLATERAL = 100_000 * USDC_UNIT
"""Each shopper's LP collateral: ample for the bills it owes at once, and for the
collateral its liquidated bills burn."""


@dataclass(frozen=True)
class Mix:
    """Shares of what happens to bills and sessions (each a fraction of its whole)."""

    sessions: float = 0.25
    """Of a slice's bills, those that start as a checkout session (the rest: the API)."""
    session_paid: float = 0.8
    """Of sessions, those the shopper completes (the others expire)."""
    session_refused: float = 0.04
    """Of sessions, those with a refused payment attempt first (then they expire)."""
    paid: float = 0.85
    """Of API bills, those paid (the others expire unpaid or are cancelled)."""
    cancelled: float = 0.05
    """Of API bills, those the merchant cancels."""
    repaid_late: float = 0.06
    """Of paid bills, those repaid after the interest-free period."""
    liquidated: float = 0.03
    """Of paid bills, those liquidated after the liquidation threshold."""
    owing: float = 0.01
    """Of paid bills, those never repaid nor liquidated."""


@dataclass
class Shop:
    """One merchant of the history, with its API key and shoppers."""

    merchant_id: str
    secret_key: str
    weight: float
    shoppers: list[Row] = field(default_factory=list)
    """Its sandbox wallets that pay its bills (wallet rows)."""
    by_address: dict[str, Row] = field(default_factory=dict)
    orders: int = 0


@dataclass
class HistoryFill:
    """Makes history on *ctx*'s sandbox ledger, slice by slice; counts what it made."""

    ctx: ServiceContext
    seed: int = 17
    mix: Mix = field(default_factory=Mix)
    batch: int = 1000
    slice_seconds: int = SECONDS_PER_DAY // 4
    shops: list[Shop] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False)
    _slice: int = field(init=False, default=0)
    _due: dict[int, list[tuple[Shop, str, str]]] = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._due = defaultdict(list)

    @property
    def days(self) -> float:
        """Ledger days this fill has moved the clock on."""
        return self._slice * self.slice_seconds / SECONDS_PER_DAY

    def add_shop(self, name: str, weight: float, webhook_url: str | None) -> Shop:
        """A new merchant (enrolled and approved on chain, as the sandbox makes one), with
        a webhook endpoint for every event at *webhook_url* if given."""
        creds = merchants.create_merchant(self.ctx, name, livemode=False)
        if webhook_url:
            webhook_endpoints.create_endpoint(
                self.ctx, creds.merchant_id, url=webhook_url, enabled_events=["*"]
            )
        shop = Shop(creds.merchant_id, creds.secret_key, weight)
        self.shops.append(shop)
        return shop

    def checkpoint(self) -> dict[str, Any]:
        """What :meth:`resume` needs to carry this fill on in another process, as JSON-able
        values. Taken between slices it matches the database exactly; a process killed
        mid-slice leaves that slice's bills behind the checkpoint (never settled: owing).
        It holds the shops' secret keys: keep it as private as the database."""
        index = {id(shop): i for i, shop in enumerate(self.shops)}
        version, internal, gauss = self._rng.getstate()
        return {
            "seed": self.seed,
            "slice": self._slice,
            "rng": [version, list(internal), gauss],
            "counts": dict(self.counts),
            "shops": [
                {
                    "merchant_id": shop.merchant_id,
                    "secret_key": shop.secret_key,
                    "weight": shop.weight,
                    "orders": shop.orders,
                    "shoppers": len(shop.shoppers),
                }
                for shop in self.shops
            ],
            "due": {
                str(at): [[index[id(shop)], bill_id, action] for shop, bill_id, action in items]
                for at, items in self._due.items()
            },
        }

    @classmethod
    def resume(
        cls,
        ctx: ServiceContext,
        saved: dict[str, Any],
        *,
        mix: Mix | None = None,
        batch: int = 1000,
    ) -> HistoryFill:
        """The fill *saved* (a :meth:`checkpoint`) on *ctx*'s database, ready for its next
        slice: the same shops, shoppers, draws to come and settlements due."""
        fill = cls(ctx, seed=saved["seed"], mix=mix or Mix(), batch=batch)
        version, internal, gauss = saved["rng"]
        fill._rng.setstate((version, tuple(internal), gauss))
        fill._slice = saved["slice"]
        fill.counts.update(saved["counts"])
        for kept in saved["shops"]:
            shop = Shop(kept["merchant_id"], kept["secret_key"], kept["weight"])
            shop.orders = kept["orders"]
            fill.shops.append(shop)
            with ctx.db.transaction(write=False) as tx:
                for i in range(kept["shoppers"]):
                    row = wallets.resolve_wallet(tx, shop.merchant_id, f"shopper-{i}")
                    shop.shoppers.append(row)
                    shop.by_address[str(row["address"])] = row
        for at, items in saved["due"].items():
            fill._due[int(at)] = [(fill.shops[i], bill_id, action) for i, bill_id, action in items]
        return fill

    def ensure_shoppers(self, shop: Shop, count: int) -> None:
        """Give *shop* *count* funded sandbox wallets (made as the test helper makes one)."""
        while len(shop.shoppers) < count:
            name = f"shopper-{len(shop.shoppers)}"
            wallets.create_wallet(self.ctx, shop.merchant_id, name, _COLLATERAL)
            with self.ctx.db.transaction(write=False) as tx:
                row = wallets.resolve_wallet(tx, shop.merchant_id, name)
            shop.shoppers.append(row)
            shop.by_address[str(row["address"])] = row

    def run_slice(self, bills: int) -> None:
        """One slice of ledger time: about *bills* new bills over the shops by weight, the
        repayments and liquidations due, then the clock moves and time triggers run."""
        picks = self._rng.choices(self.shops, [s.weight for s in self.shops], k=bills)
        api: list[Shop] = []
        sessions: list[Shop] = []
        for shop in self.shops:
            n = sum(1 for p in picks if p is shop)
            opened = sum(1 for _ in range(n) if self._rng.random() < self.mix.sessions)
            api += [shop] * (n - opened)
            sessions += [shop] * opened
        self._api_bills(api)
        self._sessions(sessions)
        self._settle(self._due.pop(self._slice, []))
        sandbox = self.ctx.require_sandbox("Making a history")
        sandbox.advance_clock(self.slice_seconds)
        self._slice += 1
        while changed := clock.run_time_triggers(self.ctx):
            self.counts["time triggers"] += changed

    def _api_bills(self, shops: list[Shop]) -> None:
        """A bill through the API for each of *shops* (a shop as often as it has bills)."""
        m = self.mix
        for start in range(0, len(shops), self.batch):
            with self.ctx.db.transaction() as tx:
                for shop in shops[start : start + self.batch]:
                    wallet = self._rng.choice(shop.shoppers)
                    row = issue_bill(self.ctx, tx, shop.merchant_id, self._new(shop, wallet), None)
                    self.counts["bills"] += 1
                    roll = self._rng.random()
                    if roll < m.paid:
                        wallets.pay_with_wallet(self.ctx, tx, row, wallet, None)
                        self._fate(shop, str(row["id"]))
                    elif roll < m.paid + m.cancelled:
                        self._cancel(tx, shop, str(row["id"]))

    def _sessions(self, shops: list[Shop]) -> None:
        """A checkout session for each of *shops* (a shop as often as it has sessions)."""
        m = self.mix
        refused: list[str] = []
        for start in range(0, len(shops), self.batch):
            with self.ctx.db.transaction() as tx:
                for shop in shops[start : start + self.batch]:
                    wallet = self._rng.choice(shop.shoppers)
                    new = checkout.NewSession(
                        success_url="https://shop.example/thanks",
                        cancel_url="https://shop.example/cart",
                        amount=self._amount(),
                        order_id=self._order(shop),
                    )
                    session = checkout.open_session(
                        self.ctx,
                        tx,
                        shop.merchant_id,
                        new,
                        None,
                        amount=new.amount or 0,
                        origins=None,
                    )
                    self.counts["sessions"] += 1
                    roll = self._rng.random()
                    if roll < m.session_paid:
                        done = checkout_page.pay_open_session(
                            self.ctx, tx, session["id"], str(wallet["id"])
                        )
                        self.counts["bills"] += 1
                        self._fate(shop, str(done["bill_id"]))
                    elif roll < m.session_paid + m.session_refused:
                        refused.append(session["id"])
        for session_id in refused:
            # The hosted page's own confirm, with the wallet that has no collateral: the
            # refusal is recorded (payment.failed) as the page records it.
            token = checkout_page.form_token(self.ctx, session_id)
            try:
                checkout_page.pay_session(self.ctx, session_id, "decline", token)
            except ServiceError:
                self.counts["payment failures"] += 1

    def _cancel(self, tx: Tx, shop: Shop, bill_id: str) -> None:
        """``POST /v1/bills/{id}/cancel``'s rule and change, in the batch's transaction."""
        row = bill_store.get_bill(tx, shop.merchant_id, bill_id, lock=True)
        assert row is not None
        now = self.ctx.chain.now(tx)
        status = derived_bill_status(row, now, self.ctx.constants)
        if status == "created":
            void_bill(self.ctx, tx, row, now, None, previous=status)
            self.counts["cancelled"] += 1

    def _fate(self, shop: Shop, bill_id: str) -> None:
        """Draw what the paid bill becomes, and when (in slices from now)."""
        m, c = self.mix, self.ctx.constants
        per_day = SECONDS_PER_DAY // self.slice_seconds
        grace_days = c.grace_period // SECONDS_PER_DAY
        roll = self._rng.random()
        self.counts["paid"] += 1
        if roll < m.owing:
            return
        if roll < m.owing + m.liquidated:
            after = (c.liquidation_after // SECONDS_PER_DAY + 1) * per_day
            action = "liquidate"
        elif roll < m.owing + m.liquidated + m.repaid_late:
            late = c.liquidation_after // SECONDS_PER_DAY - grace_days - 1
            after = (grace_days + 1 + self._rng.randrange(max(1, late))) * per_day
            action = "repay"
        else:
            after = 1 + self._rng.randrange(max(1, (grace_days - 1) * per_day))
            action = "repay"
        self._due[self._slice + after].append((shop, bill_id, action))

    def _settle(self, due: list[tuple[Shop, str, str]]) -> None:
        """Carry out the repayments and liquidations due now, *batch* of one shop per
        transaction. (Of one shop: they change bills made over weeks, and a transaction
        whose changed rows span more than 125 merchant-hours fails in the analytics
        rollups' flush, store/rollups._add: its VALUES-only chunk names no columns.)"""
        sandbox = self.ctx.require_sandbox("Liquidating as the liquidity provider")
        by_shop: dict[str, list[tuple[Shop, str, str]]] = defaultdict(list)
        for item in due:
            by_shop[item[0].merchant_id].append(item)
        for items in by_shop.values():
            for start in range(0, len(items), self.batch):
                with self.ctx.db.transaction() as tx:
                    for shop, bill_id, action in items[start : start + self.batch]:
                        bill = bill_store.get_bill(tx, shop.merchant_id, bill_id, lock=True)
                        assert bill is not None
                        if action == "repay":
                            wallet = shop.by_address[str(bill["customer"])]
                            wallets.repay_as_wallet(self.ctx, tx, bill, wallet, None)
                            self.counts["repaid"] += 1
                        else:
                            liquidator = sandbox.liquidator(tx=tx)
                            wallets.liquidate_as(self.ctx, tx, bill, liquidator, None)
                            self.counts["liquidated"] += 1

    def _new(self, shop: Shop, wallet: Row) -> NewBill:
        return NewBill(
            customer=str(wallet["address"]),
            amount=self._amount(),
            order_id=self._order(shop),
            description="History order",
        )

    def _amount(self) -> int:
        return self._rng.randint(5, 500) * USDC_UNIT

    def _order(self, shop: Shop) -> str:
        shop.orders += 1
        return f"order-{shop.orders}"
