"""The delivery worker: claims due outbox rows, POSTs the events, records every attempt."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets as _secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from ...webhooks import sign
from .._crypto import SecretBox
from ..db import Database, Tx
from ._attempts import Recorded, record_outcomes
from ._outbox import NOTIFY_CHANNEL, Claim, Outcome, claim_due, drop, register_waker
from ._schedule import DEFAULT_SCHEDULE, DISABLE_AFTER

__all__ = ["USER_AGENT", "DeliveryObserver", "DeliveryWorker"]

log = logging.getLogger("lumenlater.delivery")

USER_AGENT = "LumenLater-Webhooks/1.0"

DeliveryObserver = Callable[[Recorded], None]
"""Called once per recorded attempt (e.g. to feed Prometheus); must be quick and not raise."""


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, (asyncio.TimeoutError, httpx.TimeoutException)):
        return f"timeout: no response within {timeout:g}s"
    if isinstance(exc, httpx.ConnectError):
        return "connection_error: could not connect"
    return f"{type(exc).__name__}: {exc}"[:500]


class DeliveryWorker:
    """Delivers queued events to webhook endpoints, retrying on the *schedule*.

    ``run_once()`` does one claim-send-record round synchronously (handy in tests);
    ``start()``/``stop()`` run a pipelined loop on a background thread, with up to
    *concurrency* requests in flight so that one slow receiver holds up no one else.
    Several workers (threads or processes) may share one PostgreSQL database: rows
    are claimed with ``FOR UPDATE SKIP LOCKED`` under a lease. On SQLite run one.

    *secret_key* is the backend's ``BackendConfig.secret_key``; it decrypts signing secrets.
    *clock* drives scheduling and auto-disabling; signatures always carry real time,
    which is what receivers check. *http_client* is used on the worker's own event loop.
    """

    def __init__(
        self,
        db: Database,
        *,
        secret_key: bytes | str,
        schedule: Sequence[float] = DEFAULT_SCHEDULE,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        http_client: httpx.AsyncClient | None = None,
        concurrency: int = 16,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        linger: float = 0.002,
        lease_margin: float = 30.0,
        disable_after: float = DISABLE_AFTER,
        observer: DeliveryObserver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not schedule or schedule[0] != 0:
            raise ValueError("a schedule starts with 0 (the first attempt) and lists every attempt")
        self.db = db
        self.schedule = tuple(schedule)
        self.timeout = timeout
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.linger = linger
        self.disable_after = disable_after
        self._lease = timeout + lease_margin
        self._box = SecretBox(secret_key)
        self._plain: dict[str, str] = {}
        self._clock = clock
        self._client = http_client
        self._own_client = http_client is None
        self._observer = observer
        self._rng = rng or random.Random()
        self._id = _secrets.token_hex(6)
        self._batches = 0
        self._loop = asyncio.new_event_loop()
        self._stopping = threading.Event()
        self._wake_ev: asyncio.Event | None = None
        self._threads: list[threading.Thread] = []
        register_waker(self)

    # -- claiming and recording (blocking; run in a thread from the loop) --------

    def _secret(self, ciphertext: str) -> str:
        plain = self._plain.get(ciphertext)
        if plain is None:
            if len(self._plain) > 10_000:
                self._plain.clear()
            plain = self._plain[ciphertext] = self._box.open(ciphertext)
        return plain

    def _claim(self, tx: Tx, limit: int) -> tuple[list[Claim], dict[int, str]]:
        self._batches += 1
        token = f"{self._id}:{self._batches}"
        now = self._clock()
        rows, events, endpoints, secret_rows = claim_due(
            tx, now=now, lease=self._lease, token=token, limit=limit
        )
        by_event = {e["id"]: e for e in events}
        keys: dict[str, list[str]] = {}
        for s in secret_rows:
            keys.setdefault(s["endpoint_id"], []).append(self._secret(s["ciphertext"]))
        claims: list[Claim] = []
        dead: list[int] = []
        for r in rows:
            ev, ep = by_event.get(r["event_id"]), endpoints.get(r["endpoint_id"])
            if ev is None or ep is None or ep["status"] != "enabled" or not keys.get(ep["id"]):
                dead.append(r["seq"])
                continue
            payload = ev["payload"]
            claims.append(
                Claim(
                    seq=r["seq"],
                    event_id=ev["id"],
                    event_type=ev["type"],
                    payload=payload.encode("utf-8") if isinstance(payload, str) else payload,
                    endpoint_id=ep["id"],
                    merchant_id=r["merchant_id"],
                    url=ep["url"],
                    secrets=tuple(keys[ep["id"]]),
                    attempt=r["attempts"] + 1,
                    cycle_attempt=r["cycle_attempts"] + 1,
                    cycle_started=(r["cycle_started_ms"] or now * 1000) / 1000,
                )
            )
        drop(tx, dead)
        return claims, {c.seq: token for c in claims}

    def _cycle(
        self, outcomes: Sequence[Outcome], tokens: dict[int, str], limit: int
    ) -> tuple[list[Claim], dict[int, str]]:
        """Record finished attempts and claim up to *limit* new ones, in one transaction."""
        recorded: list[Recorded] = []
        claims: list[Claim] = []
        new_tokens: dict[int, str] = {}
        with self.db.transaction() as tx:
            if outcomes:
                recorded = record_outcomes(
                    tx,
                    outcomes,
                    tokens=tokens,
                    schedule=self.schedule,
                    disable_after=self.disable_after,
                    now=self._clock(),
                    rng=self._rng,
                )
            if limit > 0:
                claims, new_tokens = self._claim(tx, limit)
        if self._observer is not None:
            for r in recorded:
                try:
                    self._observer(r)
                except Exception:  # a metrics hook must never stop deliveries
                    log.exception("delivery observer failed")
        return claims, new_tokens

    # -- sending ------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=max(self.concurrency, self.batch_size)),
                follow_redirects=False,
            )
        return self._client

    async def _send(self, claim: Claim) -> Outcome:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-LumenLater-Event-Id": claim.event_id,
            "X-LumenLater-Event-Type": claim.event_type,
            "X-LumenLater-Delivery-Attempt": str(claim.attempt),
            "X-LumenLater-Signature": sign(claim.payload, claim.secrets, int(time.time())),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            resp = await asyncio.wait_for(
                self._http().post(claim.url, content=claim.payload, headers=headers), self.timeout
            )
            status = resp.status_code
        except Exception as exc:
            error = _describe(exc, self.timeout)
        duration_ms = int((time.perf_counter() - started) * 1000)
        return Outcome(claim, status, error, duration_ms, self._clock())

    # -- one round ------------------------------------------------------------------

    async def _round(self) -> int:
        claims, tokens = await asyncio.to_thread(self._cycle, [], {}, self.batch_size)
        if not claims:
            return 0
        outcomes = await asyncio.gather(*(self._send(c) for c in claims))
        await asyncio.to_thread(self._cycle, outcomes, tokens, 0)
        return len(outcomes)

    def run_once(self) -> int:
        """Claim due rows (up to ``batch_size``), send them, record them; return the count."""
        if self._threads:
            raise RuntimeError("run_once() cannot be used while the worker is started")
        return self._loop.run_until_complete(self._round())

    # -- the background loop ------------------------------------------------------

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll (thread-safe)."""
        ev = self._wake_ev
        if ev is not None and not ev.is_set() and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(ev.set)

    async def _serve(self) -> None:
        self._wake_ev = wake = asyncio.Event()
        inflight: set[asyncio.Task[Outcome]] = set()
        tokens: dict[int, str] = {}
        while True:
            stopping = self._stopping.is_set()
            finished = [t for t in inflight if t.done()]
            inflight.difference_update(finished)
            outcomes = [t.result() for t in finished]
            batch = {o.claim.seq: tokens.pop(o.claim.seq) for o in outcomes}
            limit = 0 if stopping else min(self.concurrency - len(inflight), self.batch_size)
            claimed: list[Claim] = []
            if outcomes or limit > 0:
                wake.clear()
                try:
                    claimed, new_tokens = await asyncio.to_thread(
                        self._cycle, outcomes, batch, limit
                    )
                    tokens.update(new_tokens)
                except Exception:  # the leases run out and the rows are tried again
                    log.exception("recording or claiming webhook deliveries failed")
                    await asyncio.sleep(self.poll_interval)
            for c in claimed:
                inflight.add(asyncio.create_task(self._send(c)))
            if stopping and not inflight:
                return
            if claimed and len(claimed) == limit:
                continue  # more may be due already
            await self._idle(inflight, wake, stopping)

    async def _idle(
        self, inflight: set[asyncio.Task[Outcome]], wake: asyncio.Event, stopping: bool
    ) -> None:
        """Wait for a finished attempt, a wake-up or the poll interval."""
        waiters: set[asyncio.Future[Any]] = set(inflight)
        waker = None if stopping else asyncio.ensure_future(wake.wait())
        if waker is not None:
            waiters.add(waker)
        done, _ = await asyncio.wait(
            waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
        )
        if waker is not None:
            waker.cancel()
        if inflight and any(t in done for t in inflight):
            # Let answers arriving together be recorded in one transaction.
            await asyncio.wait(inflight, timeout=self.linger)

    def _listen_postgres(self) -> None:
        # Another process's commit NOTIFYs us; polling covers lost notifications.
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.db.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.wake()
            except Exception:
                log.warning("webhook outbox LISTEN connection lost; reconnecting", exc_info=True)
                self._stopping.wait(1.0)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception:
            log.exception("webhook delivery worker crashed")

    def start(self) -> None:
        """Deliver in the background (a thread running the worker's loop) until :meth:`stop`."""
        if self._threads:
            return
        self._stopping.clear()
        worker = threading.Thread(target=self._run_loop, name="webhook-delivery", daemon=True)
        self._threads.append(worker)
        if self.db.dialect == "postgresql":
            listener = threading.Thread(
                target=self._listen_postgres, name="webhook-delivery-listen", daemon=True
            )
            self._threads.append(listener)
        for t in self._threads:
            t.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming, let in-flight attempts finish and be recorded, then return."""
        self._stopping.set()
        self.wake()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def close(self) -> None:
        """Stop, and close the HTTP client if the worker made it."""
        self.stop()
        if self._client is not None and self._own_client:
            self._loop.run_until_complete(self._client.aclose())
            self._client = None
        self._loop.close()

    def __enter__(self) -> DeliveryWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
