"""The request log: every authenticated API request, kept per merchant for the dashboard
and ``lumenlater logs tail``.

Recording must cost a request nothing measurable, so the middleware only appends to this
process's in-memory buffer; a background task (:meth:`RequestLog.serve`, run by the
backend) writes the buffer in batches, a few multi-row INSERTs per flush, and keeps
each merchant's log to its newest :attr:`RequestLog.keep` rows, pruning a merchant once
per :attr:`RequestLog.prune_every` rows written for it. The log is observability, not a
ledger: a batch that fails to write is dropped (and logged), and a buffer that outgrows
``max_buffer`` before a flush loses its oldest entries.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from typing import Any

import anyio
import anyio.to_thread

from .._ids import new_id
from ..db import Database, Row
from ..paging import PageRequest
from ..store import request_logs as store
from .context import ServiceContext

__all__ = ["RequestLog", "list_request_logs", "request_log_object"]

log = logging.getLogger("lumenlater.backend.request_log")

Entry = tuple[Any, ...]  # a buffered request, or its row in store.COLUMNS order


class RequestLog:
    """One process's request-log buffer and its writer."""

    def __init__(
        self,
        db: Database,
        *,
        keep: int = 1000,
        flush_interval: float = 0.25,
        max_buffer: int = 50_000,
    ) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.db = db
        self.keep = keep
        self.prune_every = max(1, keep // 10)
        self.flush_interval = flush_interval
        self._buffer: deque[Entry] = deque(maxlen=max_buffer)
        self._since_prune: Counter[str] = Counter()
        # One flush at a time (the background task's and an explicit one, say).
        self._flushing = threading.Lock()

    def record(
        self,
        *,
        merchant_id: str,
        method: str,
        path: str,
        route: str,
        status: int,
        request_id: str,
        idempotency_key: str | None,
        latency_ms: float,
        livemode: bool,
        created: int,
    ) -> None:
        """Buffer one request (a deque append: safe from any thread, never blocks). What a
        request pays is this append; the row's id and its cleaned text are made when the
        buffer is written (ids are minted in buffer order, so they keep the log's order)."""
        self._buffer.append(
            (
                merchant_id,
                method,
                path,
                route,
                status,
                request_id,
                idempotency_key,
                latency_ms,
                livemode,
                created,
            )
        )

    def flush(self) -> int:
        """Write what is buffered now (and prune merchants that grew); return how many
        entries were written."""
        with self._flushing:
            batch: list[Entry] = []
            while self._buffer:
                batch.append(_row(self._buffer.popleft()))
            if not batch:
                return 0
            for entry in batch:
                self._since_prune[entry[1]] += 1
            due = [m for m, n in self._since_prune.items() if n >= self.prune_every]
            try:
                with self.db.transaction() as tx:
                    store.insert_many(tx, batch)
                    for merchant_id in due:
                        store.prune(tx, merchant_id, self.keep)
            except Exception:
                log.exception("dropped %d request log entries", len(batch))
                return 0
            for merchant_id in due:
                del self._since_prune[merchant_id]
            return len(batch)

    async def serve(self, stopping: anyio.Event) -> None:
        """Flush every :attr:`flush_interval` seconds until *stopping* is set, then once more."""
        while not stopping.is_set():
            with anyio.move_on_after(self.flush_interval):
                await stopping.wait()
            await anyio.to_thread.run_sync(self.flush)


def _row(recorded: Entry) -> Entry:
    """A buffered request as its row (store.COLUMNS order)."""
    merchant_id, method, path, route, status, request_id, key, latency_ms, live, created = recorded
    return (
        new_id("reqlog"),
        merchant_id,
        _text(method),
        _text(path),
        route,
        status,
        _text(request_id),
        None if key is None else _text(key),
        round(latency_ms, 2),
        int(live),
        created,
    )


def _text(value: str) -> str:
    # What a client sent, kept as text either database stores: PostgreSQL refuses NUL
    # in text, which would cost the whole batch its write; bounded, as a log line is.
    return value.replace("\x00", "\ufffd")[:2048]


def request_log_object(row: Row) -> dict[str, Any]:
    """A logged request as the API shows it."""
    return {
        "id": row["id"],
        "object": "request_log",
        "method": row["method"],
        "path": row["path"],
        "status": int(row["status"]),
        "request_id": row["request_id"],
        "idempotency_key": row["idempotency_key"],
        "latency_ms": float(row["latency_ms"]),
        "livemode": bool(row["livemode"]),
        "created": int(row["created"]),
    }


def list_request_logs(
    ctx: ServiceContext, merchant_id: str, page: PageRequest
) -> tuple[list[dict[str, Any]], bool]:
    """The merchant's logged requests, newest first."""
    with ctx.db.transaction(write=False) as tx:
        result = store.list_page(tx, merchant_id, page)
    return [request_log_object(r) for r in result.rows], result.has_more
