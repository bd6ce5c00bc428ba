"""The delivery worker: claims due outbox rows, POSTs the events, records every attempt."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets as _secrets
import ssl
import sys
import time
from collections.abc import Callable, Sequence

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup

from ...webhooks import sign
from .._crypto import SecretBox
from ..db import Database
from ._addresses import non_public
from ._attempts import Recorded, record_outcomes
from ._claims import SecretCache, claim_batch
from ._fair import DEFAULT_PER_ENDPOINT
from ._http import AddressRefused, Answer, ConnectError, PooledSender
from ._loop import Cycle, DeliveryLoop
from ._outbox import NOTIFY_CHANNEL, Claim, Outcome, release
from ._schedule import DEFAULT_SCHEDULE, DISABLE_AFTER

__all__ = ["USER_AGENT", "DeliveryObserver", "DeliveryWorker"]

log = logging.getLogger("lumenlater.delivery")

USER_AGENT = "LumenLater-Webhooks/1.0"

DeliveryObserver = Callable[[Recorded], None]
"""Called once per recorded attempt (e.g. to feed Prometheus); must be quick and not raise."""


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"timeout: no response within {timeout:g}s"
    if isinstance(exc, AddressRefused):
        return f"address_not_allowed: {exc}"[:500]
    if isinstance(exc, ConnectError):
        return f"connection_error: could not connect ({exc})"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _headers_json(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The kept response headers as the attempt log stores them (a JSON object)."""
    if not headers:
        return None
    return json.dumps({n.decode("latin-1"): v.decode("latin-1") for n, v in headers})


class DeliveryWorker(DeliveryLoop):
    """Delivers queued events to webhook endpoints, retrying on the *schedule*.

    ``await serve()`` runs the pipelined loop as a task of the caller's event loop
    (the backend's lifespan task group; ``run()`` in a worker process) until
    ``stop()``, with up to *concurrency* requests in flight. One endpoint has at most
    *endpoint_concurrency* of them (counted over every worker sharing the database),
    and each claim deals due rows to endpoints in turn, so a slow, hanging or failing
    receiver with any backlog holds its own few slots and delays no other merchant's
    webhooks; its backlog waits its turn. On stop, attempts still in flight after
    *drain_timeout* seconds are given back untried. ``run_once()`` does one claim-send-record round
    synchronously (handy in tests). Several workers (processes) may share one
    PostgreSQL database: rows are claimed with ``FOR UPDATE SKIP LOCKED`` under a
    lease. On SQLite run one.

    *secret_key* is the backend's ``BackendConfig.secret_key``; it decrypts signing secrets.
    *clock* drives scheduling and auto-disabling; signatures always carry real time,
    which is what receivers check. Requests go out on the worker's own keep-alive
    connection pool (see ``_http``), opened on the loop that serves and closed when it
    stops, the one send path in every environment: through *proxy* (an
    ``http://[user:password@]host:port`` URL) if given, else through the proxy of
    the ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` environment variables, except
    to hosts in ``NO_PROXY``. *livemode* sends only to public addresses (see
    :func:`non_public`), resolving each host itself and connecting to an address it
    checked: an endpoint whose host resolves only to loopback, private,
    link-local... addresses fails its attempt (``address_not_allowed: …``) and is
    retried on the schedule. *ssl_context* verifies HTTPS receivers (default:
    certifi's CA bundle).
    """

    def __init__(
        self,
        db: Database,
        *,
        secret_key: bytes | str,
        schedule: Sequence[float] = DEFAULT_SCHEDULE,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        proxy: str | None = None,
        livemode: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        concurrency: int = 64,
        endpoint_concurrency: int = DEFAULT_PER_ENDPOINT,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        linger: float = 0.002,
        drain_timeout: float = 2.0,
        lease_margin: float = 30.0,
        disable_after: float = DISABLE_AFTER,
        observer: DeliveryObserver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not schedule or schedule[0] != 0:
            raise ValueError("a schedule starts with 0 (the first attempt) and lists every attempt")
        if endpoint_concurrency < 1:
            raise ValueError("endpoint_concurrency must be at least 1")
        super().__init__(
            concurrency=concurrency,
            batch_size=batch_size,
            poll_interval=poll_interval,
            linger=linger,
            drain_timeout=drain_timeout,
        )
        self.db = db
        self.endpoint_concurrency = min(endpoint_concurrency, concurrency)
        self.schedule = tuple(schedule)
        self.timeout = timeout
        self.disable_after = disable_after
        self._lease = timeout + lease_margin
        self._secrets = SecretCache(SecretBox(secret_key))
        self._clock = clock
        self._sender = PooledSender(
            max_per_origin=max(concurrency, 1),
            proxy=proxy,
            ssl_context=ssl_context,
            refuse=non_public if livemode else None,
        )
        self._observer = observer
        self._rng = rng or random.Random()
        self._id = _secrets.token_hex(6)
        self._batches = 0

    # -- claiming and recording (blocking; runs on the database thread) ------------

    def _cycle(
        self,
        outcomes: Sequence[Outcome],
        tokens: dict[int, str],
        limit: int,
        released: Sequence[tuple[Claim, str]],
    ) -> Cycle:
        """Record finished attempts, give back *released* ones untried, and claim up to
        *limit* new ones, in one transaction."""
        recorded: list[Recorded] = []
        claims: list[Claim] = []
        capped = False
        token = ""
        with self.db.transaction() as tx:
            now = self._clock()
            if outcomes:
                recorded = record_outcomes(
                    tx,
                    outcomes,
                    tokens=tokens,
                    schedule=self.schedule,
                    disable_after=self.disable_after,
                    now=now,
                    rng=self._rng,
                )
            if released:
                release(tx, [(c.seq, token) for c, token in released], now=now)
            if limit > 0:
                self._batches += 1
                token = f"{self._id}:{self._batches}"
                claims, capped = claim_batch(
                    tx,
                    now=now,
                    lease=self._lease,
                    token=token,
                    limit=limit,
                    per_endpoint=self.endpoint_concurrency,
                    secret=self._secrets.open,
                )
        if self._observer is not None:
            for r in recorded:
                try:
                    self._observer(r)
                except Exception:  # a metrics hook must never stop deliveries
                    log.exception("delivery observer failed")
        return Cycle(claims, {c.seq: token for c in claims}, capped)

    async def _run_cycle(
        self,
        outcomes: Sequence[Outcome],
        tokens: dict[int, str],
        limit: int,
        released: Sequence[tuple[Claim, str]] = (),
    ) -> Cycle:
        # The loop awaits each cycle before the next, so cycles never overlap.
        return await anyio.to_thread.run_sync(self._cycle, outcomes, tokens, limit, released)

    # -- sending ------------------------------------------------------------------

    async def _send(self, claim: Claim) -> Outcome:
        signature = sign(claim.payload, claim.secrets, int(time.time()))
        headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", USER_AGENT),
            ("X-LumenLater-Event-Id", claim.event_id),
            ("X-LumenLater-Event-Type", claim.event_type),
            ("X-LumenLater-Delivery-Attempt", str(claim.attempt)),
            ("X-LumenLater-Signature", signature),
        ]
        started = time.perf_counter()
        answer: Answer | None = None
        error: str | None = None
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            if sys.version_info >= (3, 11):
                async with asyncio.timeout_at(deadline):  # no extra task, unlike wait_for
                    answer = await self._sender.send(claim.url, claim.payload, headers, deadline)
            else:  # pragma: no cover - Python 3.10
                answer = await asyncio.wait_for(
                    self._sender.send(claim.url, claim.payload, headers, deadline), self.timeout
                )
        except Exception as exc:
            error = _describe(exc, self.timeout)
        duration_ms = int((time.perf_counter() - started) * 1000)
        if answer is None:
            return Outcome(claim, None, error, duration_ms, self._clock(), signature=signature)
        return Outcome(
            claim,
            answer.status,
            None,
            duration_ms,
            self._clock(),
            response_headers=_headers_json(answer.headers),
            # PostgreSQL text holds no NUL: it is shown as the replacement character too.
            response_body=answer.body.decode("utf-8", "replace").replace("\x00", "\ufffd"),
            signature=signature,
        )

    # -- PostgreSQL wake-ups and the loop's connections --------------------------

    async def _listen(self, task_group: TaskGroup) -> None:
        # Commits notify us, this process's included; polling covers lost notifications.
        await task_group.start(self.db.watch, NOTIFY_CHANNEL, self.wake)

    async def _close_sessions(self) -> None:
        await self._sender.aclose()

    def close(self) -> None:
        """Stop serving (connections close when :meth:`serve` returns)."""
        self.stop()

    def __enter__(self) -> DeliveryWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
