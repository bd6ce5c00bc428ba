"""An in-process event store."""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ._fork import on_fork
from ._store import DEFAULT_LEASE, Claim, ClaimStatus

__all__ = ["InMemoryEventStore"]

_DONE_CLAIM = Claim(ClaimStatus.DONE)
_BUSY_CLAIM = Claim(ClaimStatus.BUSY)

# What the store knows of an event id (InMemoryEventStore._events), one entry per id:
#   _DONE           handled;
#   a list          held by a delivery running in this process (hold()), without a
#                   lease: nothing in the process can outlive that delivery's
#                   complete() or release(), so it needs no renewal. A new, empty list
#                   per hold, so that dict.setdefault, which is atomic, says whether
#                   this hold is the one that put it there;
#   (token, expiry) claimed with a lease (claim()).
_DONE = "done"
_Held = list[str]
_Leased = tuple[str, float]
_Entry = str | _Held | _Leased

# The token of every held claim: only one delivery holds an event at a time (nothing
# takes over a claim without a lease, and only its holder frees it), so the token
# need not tell holders apart, and a constant costs no allocation. claim()'s tokens
# are numbers, never this.
_HELD_TOKEN = "held"


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
        # Taken by every change that reads an entry before writing it. Two changes
        # take no lock, being one atomic dict operation each (whatever other threads
        # do in between): hold() of an id the store has no entry for
        # (dict.setdefault), and the completion of a held claim by its holder (no
        # other change writes over a held entry, see complete()).
        self._lock = threading.Lock()
        self._events: dict[str, _Entry] = {}
        # The handled ids oldest first, which says which one to forget.
        self._done_order: deque[str] = deque()
        # Handlers finished for events not yet complete (a retry skips them).
        self._progress: OrderedDict[str, set[str]] = OrderedDict()
        self._tokens = itertools.count(1)
        on_fork(self)

    def _forked(self) -> None:
        # In a forked child the lock may have been copied taken, and the deliveries
        # holding claims without a lease live on in the parent only: free those here.
        self._lock = threading.Lock()
        self._events = {k: v for k, v in self._events.items() if type(v) is not list}

    def claim(self, event_id: str) -> Claim:
        """Take the event unless it is done or claimed by someone else."""
        now = self._clock()
        token = str(next(self._tokens))
        return self._take(event_id, (token, now + self.lease), now, token)

    def hold(self, event_id: str) -> str | Claim:
        """:meth:`claim` for a delivery that runs its handlers in this process and
        completes or releases the claim before it ends (``WebhookApp`` with ``async
        def`` handlers): the claim has no lease, so nothing need renew it, and no
        other delivery takes the event over while it runs, however long.

        Returns just the token when the event is claimed with no handler finished
        before (the common case, without building a :class:`Claim`), else the Claim.
        """
        mine: _Held = []
        entry = self._events.setdefault(event_id, mine)
        if entry is mine:
            if self._progress:
                finished = self._progress.get(event_id)
                if finished:
                    return Claim(ClaimStatus.CLAIMED, _HELD_TOKEN, frozenset(finished))
            return _HELD_TOKEN
        if entry is _DONE:
            return _DONE_CLAIM
        if type(entry) is list:
            return _BUSY_CLAIM
        # Claimed with a lease: taken over if that ran out.
        claim = self._take(event_id, mine, self._clock(), _HELD_TOKEN)
        if claim.status is ClaimStatus.CLAIMED and not claim.done_handlers:
            return _HELD_TOKEN
        return claim

    def _take(self, event_id: str, mine: _Entry, now: float, token: str) -> Claim:
        """Put *mine* in as the event's claim unless it is done or claimed by someone
        else (a lease that ran out counts as free)."""
        events = self._events
        lock = self._lock
        lock.acquire()  # not `with`: half the cost
        try:
            entry = events.get(event_id)
            if entry is None:
                # setdefault: a hold() may put its entry in at any moment, without the lock.
                entry = events.setdefault(event_id, mine)
                if entry is not mine:
                    return _DONE_CLAIM if entry is _DONE else _BUSY_CLAIM
            elif entry is _DONE:
                return _DONE_CLAIM
            elif type(entry) is tuple and entry[1] <= now:
                # Its lease ran out. Safe without a compare: only a change under the
                # lock writes over a claim with a lease.
                events[event_id] = mine
            else:
                return _BUSY_CLAIM
            finished = self._progress.get(event_id)
        finally:
            lock.release()
        if finished:
            return Claim(ClaimStatus.CLAIMED, token, frozenset(finished))
        return Claim(ClaimStatus.CLAIMED, token)

    def _owns(self, entry: _Entry | None, token: str) -> bool:
        if type(entry) is list:
            return token == _HELD_TOKEN
        return type(entry) is tuple and entry[0] == token

    def handler_done(self, event_id: str, token: str, handler: str) -> None:
        """Remember that ``handler`` finished for the event, so a retry skips it."""
        with self._lock:
            if self._events.get(event_id) is _DONE:
                return
            self._progress.setdefault(event_id, set()).add(handler)
            if len(self._progress) > self.max_done:
                self._progress.popitem(last=False)

    def extend(self, event_id: str, token: str) -> bool:
        """Renew our lease for another ``lease`` seconds; ``False`` if it is not ours."""
        with self._lock:
            entry = self._events.get(event_id)
            if not self._owns(entry, token):
                return False
            if type(entry) is tuple:  # a held claim has no lease to renew
                self._events[event_id] = (token, self._clock() + self.lease)
            return True

    def complete(self, event_id: str, token: str) -> None:
        """Record the event as handled."""
        events = self._events
        if token is _HELD_TOKEN and type(events.get(event_id)) is list:
            # The holder of a held claim, the one delivery allowed to change it
            # (nothing takes a held claim over): no lock. The one change that may
            # race it is a complete() by an earlier claimant whose lease ran out;
            # then both record the id, and it is listed twice in the order, which
            # _forget_oldest tolerates.
            events[event_id] = _DONE
            if self._progress:
                self._progress.pop(event_id, None)
            order = self._done_order
            order.append(event_id)
            if len(order) > self.max_done:
                with self._lock:
                    self._forget_oldest()
            return
        lock = self._lock
        lock.acquire()
        try:
            # Whoever holds the event now: the work is done.
            if events.get(event_id) is not _DONE:
                events[event_id] = _DONE
                self._progress.pop(event_id, None)
                order = self._done_order
                order.append(event_id)
                if len(order) > self.max_done:
                    self._forget_oldest()
        finally:
            lock.release()

    def _forget_oldest(self) -> None:
        # Under the lock. Only a done entry goes: an id listed twice may have been
        # forgotten and claimed again since its first place in the order came up
        # (and nothing without the lock writes over a done entry).
        order = self._done_order
        events = self._events
        while len(order) > self.max_done:
            oldest = order.popleft()
            if events.get(oldest) is _DONE:
                del events[oldest]

    def release(self, event_id: str, token: str) -> None:
        """Drop our claim so a retry can run the handlers."""
        with self._lock:
            if self._owns(self._events.get(event_id), token):
                del self._events[event_id]
