"""Sandbox-only: what a congested node does to ``sendTransaction``, set by tests.

A real Soroban RPC answers ``TRY_AGAIN_LATER`` when its core's queue is full, and a
transaction it accepted (``PENDING``) may sit in the queue for ledgers before it is
applied, or never be; ``getTransaction`` answers ``NOT_FOUND`` meanwhile. The
sandbox endpoint applies every accepted transaction at once, so neither ever
happens here unless a test asks for it through :func:`congestion`::

    congestion(sandbox_gateway).answer_busy(2)  # the next two sends: TRY_AGAIN_LATER
    congestion(sandbox_gateway).hold()          # accept sends, apply none yet
    congestion(sandbox_gateway).release()       # apply the held ones, in order

Nothing here is reachable over HTTP: only code holding the sandbox's
:class:`~..chain.local.LocalGateway` can congest its endpoint.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from ..chain.local import LocalGateway

__all__ = ["Congestion", "Held", "congestion"]


@dataclass(frozen=True)
class Held:
    """An accepted transaction not applied yet: its hash, source account and how to apply
    it (re-checked first, as core re-validates a queued transaction at apply time)."""

    tx_hash: str
    source: str
    apply: Callable[[], bool]


@dataclass
class Congestion:
    """The endpoint's congestion: busy answers still owed, and the held queue."""

    busy: int = 0
    holding: bool = False
    busy_answered: int = 0
    _held: list[Held] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_busy(self, count: int) -> None:
        """Answer the next *count* ``sendTransaction`` calls ``TRY_AGAIN_LATER``."""
        with self._lock:
            self.busy = count

    def hold(self) -> None:
        """Accept valid sends (``PENDING``) without applying them until :meth:`release`."""
        with self._lock:
            self.holding = True

    def release(self) -> list[str]:
        """Stop holding; apply each held transaction that is still valid, in the order it
        was accepted. Returns the hashes applied (the others are dropped, never applied)."""
        with self._lock:
            self.holding = False
            held, self._held = self._held, []
        return [h.tx_hash for h in held if h.apply()]

    def take_busy(self) -> bool:
        """Whether this send is answered ``TRY_AGAIN_LATER`` (one owed answer used)."""
        with self._lock:
            if self.busy <= 0:
                return False
            self.busy -= 1
            self.busy_answered += 1
            return True

    def queued(self, tx_hash: str) -> bool:
        """Whether *tx_hash* is held (a resend of it is ``DUPLICATE``)."""
        with self._lock:
            return any(h.tx_hash == tx_hash for h in self._held)

    def source_queued(self, source: str) -> bool:
        """Whether *source* already has a held transaction: core queues one transaction
        per source account and answers ``TRY_AGAIN_LATER`` to the next."""
        with self._lock:
            return any(h.source == source for h in self._held)

    def offer(self, held: Held) -> bool:
        """Queue *held* if holding; ``False`` means apply it now."""
        with self._lock:
            if not self.holding:
                return False
            self._held.append(held)
            return True


_BY_GATEWAY: weakref.WeakKeyDictionary[LocalGateway, Congestion] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def congestion(gateway: LocalGateway) -> Congestion:
    """The congestion of the RPC endpoint served over *gateway*'s ledger (one per ledger)."""
    with _REGISTRY_LOCK:
        found = _BY_GATEWAY.get(gateway)
        if found is None:
            found = _BY_GATEWAY[gateway] = Congestion()
        return found
