"""The event-store protocol behind duplicate suppression.

A delivery *claims* the event id before running handlers. A claim is a lease: it
expires after ``lease`` seconds, so a receiver that crashed mid-handler does not
block the event forever; while handlers run the receiver keeps *extending* it, so a
slow handler never lets a redelivery start the same handlers beside it. Each handler
that finishes is recorded per (event id, handler), so after a failure the retry runs
only the handlers that did not finish. Success *completes* the id (later deliveries
are acknowledged without running handlers); failure *releases* it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["DEFAULT_LEASE", "Claim", "ClaimStatus", "EventStore"]

DEFAULT_LEASE = 60.0
"""Seconds a claim holds before another delivery may take the event over."""


class ClaimStatus(enum.Enum):
    """What a claim attempt found."""

    CLAIMED = "claimed"
    """This caller holds the event now and must run the handlers."""
    DONE = "done"
    """The event was already handled successfully."""
    BUSY = "busy"
    """Another delivery holds an unexpired claim on the event right now."""


@dataclass(frozen=True)
class Claim:
    """The result of :meth:`EventStore.claim`; ``token`` identifies a ``CLAIMED`` lease.

    ``done_handlers`` names the handlers an earlier delivery of the event already ran
    to completion; the receiver skips them.
    """

    status: ClaimStatus
    token: str = ""
    done_handlers: frozenset[str] = field(default=frozenset())


class EventStore(Protocol):
    """Where handled event ids are remembered. Implementations must be thread-safe.

    ``blocking`` says whether the methods do I/O; :class:`WebhookApp` then calls them
    in a worker thread instead of on the event loop.

    Two further methods are optional (the built-in stores have both; a store without
    them still works, but then a retry runs every handler again and a handler
    slower than the lease may run twice at once):

    ``handler_done(event_id, token, handler) -> None``
        record that the handler named ``handler`` finished for this event; later
        claims list it in :attr:`Claim.done_handlers` until the event completes.
    ``extend(event_id, token) -> bool``
        renew the lease for another ``lease`` seconds if ``token`` still holds it;
        ``False`` if it does not. Called from a background thread every third of
        the store's ``lease`` attribute while handlers run.
    """

    blocking: bool

    def claim(self, event_id: str) -> Claim:
        """Atomically take the event unless it is done or claimed by someone else."""
        ...

    def complete(self, event_id: str, token: str) -> None:
        """Record the event as handled (whoever holds the lease now)."""
        ...

    def release(self, event_id: str, token: str) -> None:
        """Give up the claim identified by ``token`` (no-op if it is no longer ours)."""
        ...
