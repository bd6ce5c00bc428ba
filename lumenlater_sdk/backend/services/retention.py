"""Retention: the rows that only pile up are deleted in the background, a small batch
at a time, so the tables a request touches stay the size of their window, not of the
business's whole history.

What goes (each window a :class:`~lumenlater_sdk.backend.config.BackendConfig` field):

* webhook outbox rows whose delivery is final (``delivered``, or ``failed`` after the
  last retry or a disabled endpoint) for ``retention_outbox_days``; a pending or
  retrying row never, however old. Nothing answers from these rows: the attempt log
  is what the API and the dashboard show, and a resend queues the event anew;
* the attempt log (``GET /v1/webhook_endpoints/{id}/deliveries``) past
  ``retention_attempts_days`` (30, as long as Stripe lists events);
* idempotency keys past their 24 h (DESIGN §2) and an hour more, so a process whose
  clock runs a little behind still finds a key it would replay;
* the request log past ``retention_request_logs_days`` (each merchant's log is also
  kept to its newest rows by :class:`~.request_log.RequestLog`);
* the marks of contract events already applied (``chain_events_seen``) once the
  event sweep went past them at least :data:`SEEN_GRACE` ago: the sweep never asks
  for those again, and a call's own events come back only with a retry of its
  request, which finds its transaction for 24 h at most (an Idempotency-Key's life,
  the chain gateways' operation window); and so the events the ``soroban`` gateway
  journalled from ``getEvents`` up to the same cursor (the local ledger keeps its
  events: they are its chain's history);
* dashboard sign-in links that expired, and sessions that ended a day ago.

Events are kept: every list of them reads along an index whatever their number
(tests/backend/test_query_plans.py), and a bill's history stays complete.

Each batch is one short write transaction deleting at most ``retention_batch`` rows,
with ``retention_pause`` seconds between batches: on SQLite a writer waits for one
batch at most, on PostgreSQL the batch skips rows a writer holds. Several processes
on one PostgreSQL prune one at a time: each batch takes an advisory lock
(:func:`~..store.retention.take_lead`) and a process that finds it taken ends its run;
were two batches to overlap anyway, each deletes only rows it picked and locked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import anyio
import anyio.to_thread

from ..config import BackendConfig
from ..db import Database, Tx
from ..delivery import FINAL, prune_attempts, prune_outbox
from ..store import events as event_store
from ..store import retention as store
from . import events
from .idempotency import TTL as IDEMPOTENCY_TTL
from .relay import ChainRelay

__all__ = [
    "IDEMPOTENCY_GRACE",
    "SEEN_GRACE",
    "Pruner",
    "RetentionPolicy",
    "RetentionReport",
    "prune",
]

log = logging.getLogger("lumenlater.backend.retention")

_DAY = 86_400
IDEMPOTENCY_GRACE = 3_600
"""Seconds an idempotency key is kept past its 24 h."""
SEEN_GRACE = 2 * _DAY
"""Seconds between the event sweep passing a contract event and its mark going: past the
24 h in which a retried request may get its transaction's events again (ledger time,
which the sandbox moves ahead of the wall clock, never behind)."""

_SEEN_MARK = "retention_seen_mark"  # "<bound> <pending cursor> <pending since>"


@dataclass(frozen=True)
class RetentionPolicy:
    """How much to keep and how to prune; ``None`` for a window keeps those rows.

    The defaults are :class:`BackendConfig`'s ``retention_*`` settings' defaults."""

    batch: int = BackendConfig.retention_batch
    pause: float = BackendConfig.retention_pause
    interval: float = BackendConfig.retention_interval
    outbox_days: float | None = BackendConfig.retention_outbox_days
    attempts_days: float | None = BackendConfig.retention_attempts_days
    request_logs_days: float | None = BackendConfig.retention_request_logs_days

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("retention_batch must be at least 1")
        if self.pause < 0 or self.interval <= 0:
            raise ValueError("retention_pause must be >= 0 and retention_interval > 0")
        for name in ("outbox_days", "attempts_days", "request_logs_days"):
            days = getattr(self, name)
            if days is not None and days <= 0:
                raise ValueError(f"retention_{name} must be above 0 (None keeps everything)")

    @classmethod
    def of(cls, config: BackendConfig) -> RetentionPolicy:
        """The policy a backend with *config* prunes by."""
        return cls(
            batch=config.retention_batch,
            pause=config.retention_pause,
            interval=config.retention_interval,
            outbox_days=config.retention_outbox_days,
            attempts_days=config.retention_attempts_days,
            request_logs_days=config.retention_request_logs_days,
        )


@dataclass
class RetentionReport:
    """What one :func:`prune` run deleted: rows per table, rows per batch transaction
    (each at most the policy's ``batch``), and whether it ended early because another
    process had the lead (``yielded``) or it was asked to stop (``stopped``)."""

    deleted: dict[str, int] = field(default_factory=dict)
    batches: list[int] = field(default_factory=list)
    yielded: bool = False
    stopped: bool = False

    @property
    def total(self) -> int:
        """Rows deleted in all."""
        return sum(self.deleted.values())


_Step = Callable[[Tx, int], int]


def _seen_bound(db: Database, now: float) -> int | None:
    """The cursor up to which seen marks may go (None: another process has the lead).

    The sweep's position is noted with the time; once :data:`SEEN_GRACE` has passed,
    that position becomes the bound and the current one is noted. Kept in the
    database, so a run cut short and every other process prune up to the same bound.
    """
    with db.transaction() as tx:
        if not store.take_lead(tx):
            return None
        stored = event_store.get_state(tx, _SEEN_MARK, lock=True)
        swept = events.swept_cursor(tx)
        bound, pending, since = (0, swept, now)
        if stored is not None:
            old_bound, old_pending, old_since = stored.split()
            bound, pending, since = int(old_bound), int(old_pending), float(old_since)
            if now - since >= SEEN_GRACE:
                bound, pending, since = pending, swept, now
        if stored is None or since == now:
            event_store.set_state(tx, _SEEN_MARK, f"{bound} {pending} {since!r}")
        return bound


def _steps(policy: RetentionPolicy, now: float, seen_through: int) -> list[tuple[str, _Step]]:
    steps: list[tuple[str, _Step]] = []
    if policy.outbox_days is not None:
        before_ms = int((now - policy.outbox_days * _DAY) * 1000)
        for status in FINAL:
            step = partial(_call_outbox, status, before_ms)
            steps.append(("webhook_outbox", step))
    if policy.attempts_days is not None:
        before = int(now - policy.attempts_days * _DAY)
        steps.append(
            ("webhook_deliveries", lambda tx, n: prune_attempts(tx, before=before, limit=n))
        )
    expired = now - IDEMPOTENCY_TTL - IDEMPOTENCY_GRACE
    steps.append(
        (
            "idempotency_keys",
            lambda tx, n: store.prune_idempotency_keys(tx, before=expired, limit=n),
        )
    )
    if policy.request_logs_days is not None:
        logs_before = int(now - policy.request_logs_days * _DAY)
        steps.append(
            (
                "request_logs",
                lambda tx, n: store.prune_request_logs(tx, before=logs_before, limit=n),
            )
        )
    if seen_through > 0:
        steps.append(
            (
                "chain_events_seen",
                lambda tx, n: store.prune_seen_chain_events(tx, through=seen_through, limit=n),
            )
        )
    steps.append(
        ("dashboard_links", lambda tx, n: store.prune_dashboard_links(tx, now=int(now), limit=n))
    )
    steps.append(
        (
            "dashboard_sessions",
            lambda tx, n: store.prune_dashboard_sessions(tx, ended_before=int(now) - _DAY, limit=n),
        )
    )
    return steps


def _call_outbox(status: str, before_ms: int, tx: Tx, limit: int) -> int:
    return prune_outbox(tx, status, before_ms=before_ms, limit=limit)


def prune(
    db: Database,
    policy: RetentionPolicy,
    *,
    now: float,
    chain: ChainRelay | None = None,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> RetentionReport:
    """Delete everything past its window at wall-clock time *now*, a batch per
    transaction, until nothing is left (or *stop* returns True, checked between
    batches, or another process's batch holds the lead); with *chain*, the contract
    events its gateway keeps up to the same cursor as the seen marks."""
    report = RetentionReport()
    seen_through = _seen_bound(db, now)
    if seen_through is None:
        report.yielded = True
        return report
    for table, step in _steps(policy, now, seen_through):
        while True:
            if stop():
                report.stopped = True
                return report
            with db.transaction() as tx:
                if not store.take_lead(tx):
                    report.yielded = True
                    return report
                n = step(tx, policy.batch)
            report.batches.append(n)
            report.deleted[table] = report.deleted.get(table, 0) + n
            if n < policy.batch:
                break
            # Between batches the write lock is free (SQLite): writers go first.
            sleep(policy.pause)
    if chain is not None and seen_through > 0:
        _forget_chain_events(chain, seen_through, policy, report, stop, sleep)
    return report


def _forget_chain_events(
    chain: ChainRelay,
    through: int,
    policy: RetentionPolicy,
    report: RetentionReport,
    stop: Callable[[], bool],
    sleep: Callable[[float], None],
) -> None:
    while not stop():
        n = chain.forget_events(through, limit=policy.batch)
        report.batches.append(n)
        report.deleted["chain_events"] = report.deleted.get("chain_events", 0) + n
        if n < policy.batch:
            return
        sleep(policy.pause)
    report.stopped = True


class Pruner:
    """A backend's background pruning: :func:`prune` every ``interval`` seconds."""

    def __init__(
        self,
        db: Database,
        policy: RetentionPolicy,
        clock: Callable[[], float] = time.time,
        *,
        chain: ChainRelay | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self.chain = chain

    def run_once(self, *, stop: Callable[[], bool] = lambda: False) -> RetentionReport:
        """One run at the clock's time now (also what the background task does)."""
        report = prune(self.db, self.policy, now=self.clock(), chain=self.chain, stop=stop)
        if report.total:
            log.info(
                "retention deleted %s",
                ", ".join(f"{n} {t}" for t, n in report.deleted.items() if n),
            )
        return report

    async def serve(self, stopping: anyio.Event) -> None:
        """Prune every ``interval`` seconds (the first run one interval after start) until
        *stopping* is set; a run in progress stops at its next batch."""
        while True:
            with anyio.move_on_after(self.policy.interval):
                await stopping.wait()
                return
            try:
                await anyio.to_thread.run_sync(partial(self.run_once, stop=stopping.is_set))
            except Exception:  # the next run picks up where this one failed
                log.exception("retention run failed")
