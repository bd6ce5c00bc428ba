"""The worker's pipeline: keep requests in flight while the database records and claims.

It runs as a task on the caller's event loop (the backend's lifespan task group, or
``anyio.run`` in a worker process), never on a loop of its own. Each database round
trip (record what finished, claim what is due, one transaction) runs on a worker
thread meanwhile, so the answers that arrive during a round are recorded together in
the next one: the busier the worker, the bigger its batches.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from typing import NamedTuple

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ._outbox import Claim, Outcome

__all__ = ["Cycle", "DeliveryLoop"]

log = logging.getLogger("lumenlater.delivery")


class Cycle(NamedTuple):
    """What one database round claimed: the claims, their lease tokens by ``seq``, and
    whether an endpoint at its cap has due rows left (an answer frees a slot for them)."""

    claims: list[Claim]
    tokens: dict[int, str]
    capped: bool = False


class DeliveryLoop(abc.ABC):
    """Claim → send → record, pipelined; subclasses supply the database round and the send."""

    def __init__(
        self,
        *,
        concurrency: int,
        batch_size: int,
        poll_interval: float,
        linger: float,
        drain_timeout: float,
    ) -> None:
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.linger = linger
        self.drain_timeout = drain_timeout
        self._loop: asyncio.AbstractEventLoop | None = None  # while serving
        self._stop_requested = False
        self._poked: asyncio.Event | None = None  # new work may be due: claim now
        self._finished: asyncio.Event | None = None  # an attempt finished, or stop: look

    @abc.abstractmethod
    async def _run_cycle(
        self,
        outcomes: Sequence[Outcome],
        tokens: dict[int, str],
        limit: int,
        released: Sequence[tuple[Claim, str]] = (),
    ) -> Cycle:
        """Record *outcomes*, give back *released* claims untried, and claim up to *limit*
        rows, in one transaction."""

    @abc.abstractmethod
    async def _send(self, claim: Claim) -> Outcome:
        """Deliver one claim; never raises (but may be cancelled)."""

    @abc.abstractmethod
    async def _listen(self, task_group: TaskGroup) -> None:
        """Start whatever wakes the loop from outside (PostgreSQL ``LISTEN``); return once
        it listens."""

    @abc.abstractmethod
    async def _close_sessions(self) -> None:
        """Close connections opened on the loop that is finishing."""

    @property
    def serving(self) -> bool:
        """Whether :meth:`serve` is running."""
        return self._loop is not None

    # -- one round (tests) --------------------------------------------------------

    async def _round(self) -> int:
        claims, tokens, _ = await self._run_cycle([], {}, self.batch_size)
        if not claims:
            return 0
        outcomes = await asyncio.gather(*(self._send(c) for c in claims))
        await self._run_cycle(outcomes, tokens, 0)
        return len(outcomes)

    def run_once(self) -> int:
        """Claim due rows (up to ``batch_size``), send them, record them; return the count."""
        if self.serving:
            raise RuntimeError("run_once() cannot be used while the worker serves")

        async def once() -> int:
            try:
                return await self._round()
            finally:
                await self._close_sessions()

        return anyio.run(once)

    # -- serving --------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll (from any thread)."""
        loop, ev = self._loop, self._poked
        if loop is not None and ev is not None and not ev.is_set():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(ev.set)

    def stop(self) -> None:
        """Stop claiming; :meth:`serve` returns once in-flight attempts are recorded, or
        after ``drain_timeout`` gives the rest back untried (from any thread)."""
        self._stop_requested = True
        loop, ev = self._loop, self._finished
        if loop is not None and ev is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(ev.set)

    def run(
        self,
        *,
        on_started: Callable[[], None] | None = None,
        stop_signals: Sequence[signal.Signals] = (),
    ) -> None:
        """Serve on a new event loop until :meth:`stop` or one of *stop_signals* (a worker
        process's main loop); *on_started* is called once new rows are seen at once."""

        async def main() -> None:
            async with anyio.create_task_group() as signals:
                if stop_signals:
                    signals.start_soon(self._stop_on, stop_signals)
                async with anyio.create_task_group() as serving:
                    await serving.start(self.serve)
                    if on_started is not None:
                        on_started()
                signals.cancel_scope.cancel()

        anyio.run(main)

    async def _stop_on(self, signals: Sequence[signal.Signals]) -> None:
        with anyio.open_signal_receiver(*signals) as received:
            async for _ in received:
                self.stop()

    async def serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Deliver until :meth:`stop`; started means new rows are seen at once."""
        if self.serving:
            raise RuntimeError("this worker is already serving")
        self._loop = asyncio.get_running_loop()
        self._poked, self._finished = asyncio.Event(), asyncio.Event()
        try:
            async with anyio.create_task_group() as listeners:
                await self._listen(listeners)
                task_status.started()
                if not self._stop_requested:
                    await self._pipeline()
                listeners.cancel_scope.cancel()
        finally:
            self._loop = None
            self._stop_requested = False
            with anyio.CancelScope(shield=True):
                await self._close_sessions()

    async def _pipeline(self) -> None:
        assert self._poked is not None and self._finished is not None
        poked, finished = self._poked, self._finished
        done: list[Outcome] = []
        tokens: dict[int, str] = {}
        inflight: dict[int, Claim] = {}

        async def deliver(claim: Claim) -> None:
            done.append(await self._send(claim))
            finished.set()

        async with anyio.create_task_group() as sends:
            backlog = True  # rows may be due that no claim has returned yet
            capped = False  # an endpoint at its cap has rows due: claim when answers come
            last_claim = 0.0
            drain_by: float | None = None
            while True:
                now = anyio.current_time()
                if self._stop_requested and drain_by is None:
                    drain_by = now + self.drain_timeout
                if now - last_claim >= self.poll_interval:
                    backlog = True  # retries come due with time, even while answers keep arriving
                finished.clear()
                outcomes = done[:]
                del done[:]
                for o in outcomes:
                    inflight.pop(o.claim.seq, None)
                if outcomes and capped:
                    backlog = True  # a slot of a capped endpoint may have come free
                batch = {o.claim.seq: tokens.pop(o.claim.seq) for o in outcomes}
                room = min(self.concurrency - len(inflight), self.batch_size)
                limit = room if backlog and drain_by is None else 0
                claimed: list[Claim] = []
                if outcomes or limit > 0:
                    if limit > 0:
                        poked.clear()  # a wake-up from now on may be for rows this claim misses
                        last_claim = now
                    try:
                        claimed, new_tokens, held = await self._run_cycle(outcomes, batch, limit)
                        tokens.update(new_tokens)
                        if limit > 0:
                            backlog = len(claimed) == limit  # a full batch: more may be due
                            capped = held
                    except Exception:  # the leases run out and the rows are tried again
                        log.exception("recording or claiming webhook deliveries failed")
                        await anyio.sleep(self.poll_interval)
                for c in claimed:
                    inflight[c.seq] = c
                    sends.start_soon(deliver, c)
                if drain_by is not None and (not inflight or anyio.current_time() >= drain_by):
                    break
                if backlog and limit > 0:
                    continue
                can_claim = drain_by is None and len(inflight) < self.concurrency
                timeout = self.poll_interval
                if drain_by is not None:
                    timeout = max(0.0, drain_by - anyio.current_time())
                if await self._idle(
                    poked, finished, can_claim=can_claim, inflight=len(inflight), timeout=timeout
                ):
                    backlog = True
            sends.cancel_scope.cancel()  # past the drain deadline
        outcomes = [o for o in done if o.claim.seq in inflight]
        for o in outcomes:
            del inflight[o.claim.seq]
        released = [(c, tokens[c.seq]) for c in inflight.values()]
        if outcomes or released:
            with anyio.CancelScope(shield=True):
                try:
                    await self._run_cycle(
                        outcomes, {o.claim.seq: tokens[o.claim.seq] for o in outcomes}, 0, released
                    )
                except Exception:  # their leases run out and they are tried again
                    log.exception("recording the last webhook deliveries failed")

    async def _idle(
        self,
        poked: asyncio.Event,
        finished: asyncio.Event,
        *,
        can_claim: bool,
        inflight: int,
        timeout: float,
    ) -> bool:
        """Wait until there is something to do; whether rows may be due.

        It returns at once only for work it can act on (a wake-up with a free slot, or
        answers to record): a wake-up while every slot is busy or while stopping waits
        for an answer, or the loop would spin and starve the requests it waits for.
        """
        if can_claim and poked.is_set():
            return True
        if not finished.is_set():
            woken = False
            with anyio.move_on_after(timeout):
                async with anyio.create_task_group() as waiters:

                    async def wait_for(event: asyncio.Event) -> None:
                        nonlocal woken
                        await event.wait()
                        woken = True
                        waiters.cancel_scope.cancel()

                    waiters.start_soon(wait_for, finished)
                    if can_claim:
                        waiters.start_soon(wait_for, poked)
            if not woken or (can_claim and poked.is_set()):
                return True  # the poll (retries may have come due) or new events
        if inflight > 1:
            # Let answers arriving together be recorded in one transaction.
            await anyio.sleep(self.linger)
        return poked.is_set()
