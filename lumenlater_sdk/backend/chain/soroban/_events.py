"""The contracts' events from ``getEvents``, each given a local cursor when first seen.

Both ways an event reaches the backend go through here: ``invoke`` (the events of the
transaction it just sent) and ``events_after`` (everything, including calls made
outside the backend). Both read ``getEvents`` into the journal first, so one event
has one cursor whichever way it arrived, as the backend's event de-duplication
(by cursor) needs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from stellar_sdk import xdr
from stellar_sdk.soroban_rpc import EventFilter, EventFilterType

from .._gateway import ChainUnavailableError, ContractEvent
from ._codec import decode_event
from ._journal import Journal, StoredEvent
from ._rpc import Rpc, stored_event

__all__ = ["EventFeed"]

log = logging.getLogger("lumenlater.chain.soroban")

_PAGE = 200


class EventFeed:
    """``getEvents`` of the contracts *ids* (name → ``C…``) into *journal*.

    Paging resumes where the last sync stopped (the journal's ``soroban_sync`` row,
    locked for the sync); the very first sync starts at *latest_ledger()*: events
    from before the gateway existed are not the backend's.
    """

    def __init__(
        self, journal: Journal, rpc: Rpc, ids: Mapping[str, str], latest_ledger: Callable[[], int]
    ) -> None:
        self._journal, self._rpc = journal, rpc
        self._names = {cid: name for name, cid in ids.items()}
        self._filters = [EventFilter(type=EventFilterType.CONTRACT, contractIds=list(ids.values()))]
        self._latest_ledger = latest_ledger
        self._lock = threading.Lock()

    def sync(self) -> int:
        """Store the events not seen yet; how many."""
        server = self._rpc.server
        added = 0
        with self._lock, self._journal.db.transaction() as t:
            cursor, start = self._journal.sync_position(t)
            if start is None:
                start = self._latest_ledger()
            while True:
                page = self._rpc.call(
                    "getEvents",
                    server.get_events,
                    start_ledger=None if cursor else start,
                    filters=self._filters,
                    cursor=cursor,
                    limit=_PAGE,
                )
                found = [stored_event(e, self._names) for e in page.events]
                added += self._journal.add_events(t, [e for e in found if e is not None])
                cursor = page.cursor or cursor
                if len(page.events) < _PAGE:
                    break
            self._journal.save_position(t, cursor, start)
        return added

    def events_of(self, tx_hash: str, expected: int, pause: float) -> list[ContractEvent]:
        """The events of transaction *tx_hash*, once *expected* of them are indexed (a few
        tries: the RPC's event index may trail the transaction by a moment). What is missing
        then arrives later through ``events_after``."""
        stored: list[StoredEvent] = []
        for _ in range(5):
            try:
                self.sync()
            except ChainUnavailableError:
                log.warning("events of %s left to the next events_after", tx_hash)
                break
            stored = self._journal.events_of(tx_hash)
            if len(stored) >= expected:
                break
            time.sleep(pause)
        return [self.event(e) for e in stored]

    @staticmethod
    def event(e: StoredEvent) -> ContractEvent:
        """A stored event decoded into the engine's shapes."""
        topics, data = decode_event(
            e.contract, [xdr.SCVal.from_xdr(t) for t in e.topics], xdr.SCVal.from_xdr(e.data)
        )
        return ContractEvent(
            e.cursor, e.contract, e.contract_id, topics, data, e.ledger, e.timestamp, e.tx_hash
        )
