"""The worker's pipeline: keep requests in flight while the database records and claims.

One event loop on one thread sends; each database round trip (record what finished,
claim what is due, one transaction) runs on a database thread meanwhile, so the
answers that arrive during a round are recorded together in the next one: the busier
the worker, the bigger its batches.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence

from ._outbox import Claim, Outcome

__all__ = ["DeliveryLoop"]

log = logging.getLogger("lumenlater.delivery")


class DeliveryLoop(abc.ABC):
    """Claim → send → record, pipelined; subclasses supply the database round and the send."""

    def __init__(
        self, *, concurrency: int, batch_size: int, poll_interval: float, linger: float
    ) -> None:
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.linger = linger
        self._loop = asyncio.new_event_loop()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._poked: asyncio.Event | None = None  # new work may be due: claim now
        self._finished: asyncio.Event | None = None  # an attempt finished: record it

    @abc.abstractmethod
    async def _run_cycle(
        self, outcomes: Sequence[Outcome], tokens: dict[int, str], limit: int
    ) -> tuple[list[Claim], dict[int, str]]:
        """Record *outcomes* and claim up to *limit* rows in one transaction."""

    @abc.abstractmethod
    async def _send(self, claim: Claim) -> Outcome:
        """Deliver one claim; never raises."""

    @property
    def running(self) -> bool:
        """Whether the background loop is started."""
        return self._thread is not None

    # -- one synchronous round (tests) --------------------------------------------

    async def _round(self) -> int:
        claims, tokens = await self._run_cycle([], {}, self.batch_size)
        if not claims:
            return 0
        outcomes = await asyncio.gather(*(self._send(c) for c in claims))
        await self._run_cycle(outcomes, tokens, 0)
        return len(outcomes)

    def run_once(self) -> int:
        """Claim due rows (up to ``batch_size``), send them, record them; return the count."""
        if self.running:
            raise RuntimeError("run_once() cannot be used while the worker is started")
        return self._loop.run_until_complete(self._round())

    # -- the background loop ------------------------------------------------------

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll (thread-safe)."""
        ev = self._poked
        if ev is not None and not ev.is_set() and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(ev.set)

    async def _serve(self) -> None:
        poked = self._poked = asyncio.Event()
        finished = self._finished = asyncio.Event()
        done: list[Outcome] = []
        tokens: dict[int, str] = {}
        inflight = 0

        def collect(task: asyncio.Task[Outcome]) -> None:
            done.append(task.result())
            finished.set()

        backlog = True  # rows may be due that no claim has returned yet
        last_claim = 0.0
        while True:
            stopping = self._stopping.is_set()
            if self._loop.time() - last_claim >= self.poll_interval:
                backlog = True  # retries come due with time, even while answers keep arriving
            finished.clear()
            outcomes = done[:]
            del done[:]
            inflight -= len(outcomes)
            batch = {o.claim.seq: tokens.pop(o.claim.seq) for o in outcomes}
            room = min(self.concurrency - inflight, self.batch_size)
            limit = room if backlog and not stopping else 0
            claimed: list[Claim] = []
            if outcomes or limit > 0:
                if limit > 0:
                    poked.clear()  # a wake-up from now on may be for rows this claim misses
                    last_claim = self._loop.time()
                try:
                    claimed, new_tokens = await self._run_cycle(outcomes, batch, limit)
                    tokens.update(new_tokens)
                    if limit > 0:
                        backlog = len(claimed) == limit  # a full batch: more may be due
                except Exception:  # the leases run out and the rows are tried again
                    log.exception("recording or claiming webhook deliveries failed")
                    await asyncio.sleep(self.poll_interval)
            for c in claimed:
                task = self._loop.create_task(self._send(c))
                task.add_done_callback(collect)
                inflight += 1
            if stopping and inflight == 0 and not done:
                return
            if backlog and limit > 0:
                continue
            can_claim = not stopping and inflight < self.concurrency
            if await self._idle(poked, finished, can_claim=can_claim, inflight=inflight):
                backlog = True

    async def _idle(
        self, poked: asyncio.Event, finished: asyncio.Event, *, can_claim: bool, inflight: int
    ) -> bool:
        """Wait until there is something to do; whether rows may be due.

        It returns at once only for work it can act on (a wake-up with a free slot, or
        answers to record): a wake-up while every slot is busy or while stopping waits
        for an answer, or the loop would spin and starve the requests it waits for.
        """
        if can_claim and poked.is_set():
            return True
        if not finished.is_set():
            waiters = [asyncio.ensure_future(finished.wait())]
            if can_claim:
                waiters.append(asyncio.ensure_future(poked.wait()))
            try:
                woken, _ = await asyncio.wait(
                    waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for w in waiters:
                    w.cancel()
            if not woken or (can_claim and poked.is_set()):
                return True  # the poll (retries may have come due) or new events
        if inflight > 1:
            # Let answers arriving together be recorded in one transaction.
            await asyncio.sleep(self.linger)
        return poked.is_set()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception:
            log.exception("webhook delivery worker crashed")

    def start(self) -> None:
        """Deliver in the background (a thread running the worker's loop) until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run_loop, name="webhook-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming, let in-flight attempts finish and be recorded, then return."""
        self._stopping.set()
        ev = self._finished
        if ev is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(ev.set)
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
