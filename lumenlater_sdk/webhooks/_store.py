"""The event-store protocol behind duplicate suppression.

A delivery *claims* the event id before running handlers. A claim is a lease: it
expires after ``lease`` seconds, so a receiver that crashed mid-handler does not
block the event forever. Success *completes* the id (later deliveries are
acknowledged without running handlers); failure *releases* it, so the sender's
retry runs the handlers again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
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
    """The result of :meth:`EventStore.claim`; ``token`` identifies a ``CLAIMED`` lease."""

    status: ClaimStatus
    token: str = ""


class EventStore(Protocol):
    """Where handled event ids are remembered. Implementations must be thread-safe.

    ``blocking`` says whether the methods do I/O; :class:`WebhookApp` then calls them
    in a worker thread instead of on the event loop.
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
