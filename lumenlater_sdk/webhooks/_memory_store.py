"""An in-process event store."""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ._fork import generation
from ._store import DEFAULT_LEASE, Claim, ClaimStatus

__all__ = ["InMemoryEventStore"]

_DONE = Claim(ClaimStatus.DONE)
_BUSY = Claim(ClaimStatus.BUSY)

# The "expiry" of a claim held by a delivery running in this process (hold()): it
# never runs out, as nothing else in the process can outlive that delivery's
# complete() or release(), so it needs no renewal.
_HELD = float("inf")

# The token and entry of every claim held that way: only one delivery holds an event
# at a time (nothing takes over a claim without a lease, and only its holder frees
# it), so the token need not tell holders apart, and constants cost no allocation.
_HELD_TOKEN = "held"
_HELD_ENTRY = (_HELD_TOKEN, _HELD)


class InMemoryEventStore:
    """Remembers handled event ids in this process only (lost on restart).

    Fine for one process and for tests; use :class:`SQLiteEventStore` or
    :class:`RedisEventStore` when several processes receive webhooks. Only the
    newest ``max_done`` handled ids (and as many partly handled ones) are kept,
    oldest forgotten first.
    """

    blocking = False

    def __init__(
        self,
        *,
        lease: float = DEFAULT_LEASE,
        max_done: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lease = lease
        self.max_done = max_done
        self._clock = clock
        self._lock = threading.Lock()
        self._fork = generation[0]
        # Handled ids (a plain dict: cheaper to add to than an OrderedDict) and the
        # same ids oldest first, which says which one to forget.
        self._done: dict[str, None] = {}
        self._done_order: deque[str] = deque()
        self._claims: dict[str, tuple[str, float]] = {}
        # Handlers finished for events not yet complete (a retry skips them).
        self._progress: OrderedDict[str, set[str]] = OrderedDict()
        self._tokens = itertools.count(1)

    def claim(self, event_id: str) -> Claim:
        """Take the event unless it is done or claimed by someone else."""
        if self._fork != generation[0]:
            self._forked()
        now = self._clock()
        lock = self._lock
        lock.acquire()  # not `with`: see hold()
        try:
            if event_id in self._done:
                return _DONE
            held = self._claims.get(event_id)
            if held is not None and held[1] > now:
                return _BUSY
            token = str(next(self._tokens))
            self._claims[event_id] = (token, now + self.lease)
            finished = self._progress.get(event_id)
        finally:
            lock.release()
        if finished:
            return Claim(ClaimStatus.CLAIMED, token, frozenset(finished))
        return Claim(ClaimStatus.CLAIMED, token)

    def hold(self, event_id: str) -> str | Claim:
        """:meth:`claim` for a delivery that runs its handlers in this process and
        completes or releases the claim before it ends (``WebhookApp`` with ``async
        def`` handlers): the claim has no lease, so nothing need renew it, and no
        other delivery takes the event over while it runs, however long.

        Returns just the token when the event is claimed with no handler finished
        before (the common case, without building a :class:`Claim`), else the Claim.
        """
        if self._fork != generation[0]:
            self._forked()
        lock = self._lock
        # acquire/release rather than `with`: half the cost, on every delivery.
        lock.acquire()
        try:
            if event_id in self._done:
                return _DONE
            claims = self._claims
            held = claims.get(event_id)
            if held is not None and held[1] > self._clock():
                return _BUSY
            claims[event_id] = _HELD_ENTRY
            if self._progress:
                finished = self._progress.get(event_id)
                if finished:
                    return Claim(ClaimStatus.CLAIMED, _HELD_TOKEN, frozenset(finished))
            return _HELD_TOKEN
        finally:
            lock.release()

    def _forked(self) -> None:
        # In a forked child the lock may have been copied taken, and the deliveries
        # holding claims without a lease live on in the parent only: free those here.
        self._lock = threading.Lock()
        self._claims = {k: v for k, v in self._claims.items() if v[1] != _HELD}
        self._fork = generation[0]

    def handler_done(self, event_id: str, token: str, handler: str) -> None:
        """Remember that ``handler`` finished for the event, so a retry skips it."""
        with self._lock:
            if event_id in self._done:
                return
            self._progress.setdefault(event_id, set()).add(handler)
            if len(self._progress) > self.max_done:
                self._progress.popitem(last=False)

    def extend(self, event_id: str, token: str) -> bool:
        """Renew our lease for another ``lease`` seconds; ``False`` if it is not ours."""
        with self._lock:
            held = self._claims.get(event_id)
            if held is None or held[0] != token:
                return False
            if held[1] != _HELD:
                self._claims[event_id] = (token, self._clock() + self.lease)
            return True

    def complete(self, event_id: str, token: str) -> None:
        """Record the event as handled."""
        lock = self._lock
        lock.acquire()
        try:
            self._claims.pop(event_id, None)
            if self._progress:
                self._progress.pop(event_id, None)
            done = self._done
            if event_id not in done:
                done[event_id] = None
                order = self._done_order
                order.append(event_id)
                if len(order) > self.max_done:
                    del done[order.popleft()]
        finally:
            lock.release()

    def release(self, event_id: str, token: str) -> None:
        """Drop our claim so a retry can run the handlers."""
        with self._lock:
            held = self._claims.get(event_id)
            if held is not None and held[0] == token:
                del self._claims[event_id]
