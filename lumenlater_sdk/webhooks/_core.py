"""The I/O-free heart of the receiver: handler registry and every status decision.

:class:`WebhookApp` (ASGI) and the Flask and Django adapters only move bytes in and
out; what a request means (which status, whether handlers run) is decided here, so
all three behave the same.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ..types.event import BaseEvent
from ._errors import InvalidPayloadError, SignatureVerificationError
from ._events import parse_event_payload
from ._memory_store import InMemoryEventStore
from ._signature import DEFAULT_TOLERANCE, Secrets, _keys, verify_signature
from ._store import Claim, ClaimStatus, EventStore

__all__ = ["MAX_BODY_SIZE", "Handler", "Receiver", "Reply"]

logger = logging.getLogger("lumenlater_sdk.webhooks")

MAX_BODY_SIZE = 1024 * 1024
"""Bodies over 1 MiB are refused with 413 (DESIGN §5)."""

Handler = Callable[[Any], Any]
"""A function taking the event; ``async def`` or plain."""

H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    asgi_headers: list[tuple[bytes, bytes]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once per reply so the ASGI hot path only hands the list over.
        raw = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
        ]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        object.__setattr__(self, "asgi_headers", raw)


def _error(status: int, message: str, *headers: tuple[str, str]) -> Reply:
    return Reply(status, json.dumps({"error": {"message": message}}).encode(), headers)


OK = Reply(200, b'{"received":true}')
DUPLICATE = Reply(200, b'{"received":true,"duplicate":true}')
IN_PROGRESS = _error(
    409, "This event is being handled by another delivery right now", ("Retry-After", "5")
)
METHOD_NOT_ALLOWED = _error(405, "Webhooks must be POSTed", ("Allow", "POST"))
TOO_LARGE = _error(413, f"The body is larger than {MAX_BODY_SIZE} bytes")
HANDLER_FAILED = _error(500, "A handler for this event failed; it will run again on retry")


@dataclass(frozen=True)
class Registered:
    """A handler and whether it must be awaited."""

    fn: Handler
    is_async: bool


class Receiver:
    """Signature check, typed parsing, duplicate suppression and handler registry."""

    def __init__(
        self,
        secret: Secrets,
        store: EventStore | None = None,
        tolerance: float | None = DEFAULT_TOLERANCE,
        *,
        clock: Callable[[], float] = time.time,
        max_body_size: int = MAX_BODY_SIZE,
    ) -> None:
        _keys(secret)  # fail now, not on the first delivery, if there is no secret
        self.secret: Secrets = secret if isinstance(secret, str) else list(secret)
        self.store: EventStore = InMemoryEventStore() if store is None else store
        self.tolerance = tolerance
        self.clock = clock
        self.max_body_size = max_body_size
        self._too_large = (
            TOO_LARGE
            if max_body_size == MAX_BODY_SIZE
            else _error(413, f"The body is larger than {max_body_size} bytes")
        )
        self._registrations: list[tuple[frozenset[str], Registered]] = []
        self._by_type: dict[str, tuple[Registered, ...]] = {}

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Register the decorated function for these event types (``"*"``: every type).

        Handlers may be ``async def`` or plain functions (run in a worker thread by
        the ASGI app). All handlers matching an event run in registration order.
        """
        if not event_types:
            raise TypeError('on() needs at least one event type, e.g. on("bill.paid") or on("*")')

        def register(fn: H) -> H:
            # An object with an async __call__ must be awaited too.
            is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
                cast(Any, fn).__call__
            )
            self._registrations.append((frozenset(event_types), Registered(fn, is_async)))
            self._by_type.clear()
            return fn

        return register

    def handlers_for(self, event_type: str) -> tuple[Registered, ...]:
        """The handlers an event of this type runs, in order."""
        found = self._by_type.get(event_type)
        if found is None:
            found = tuple(
                reg for types, reg in self._registrations if event_type in types or "*" in types
            )
            self._by_type[event_type] = found
        return found

    # --- decisions ---------------------------------------------------------------

    def check_head(self, method: str, content_length: str | bytes | None) -> Reply | None:
        """The answer to give before reading the body, if any (405, 413, 400)."""
        if method != "POST":
            return METHOD_NOT_ALLOWED
        if content_length:
            try:
                length = int(content_length)
            except ValueError:
                return _error(400, "Content-Length is not a number")
            if length > self.max_body_size:
                return self._too_large
        return None

    @property
    def too_large(self) -> Reply:
        """The 413 answer."""
        return self._too_large

    def parse(self, body: bytes, signature: str | None) -> BaseEvent | Reply:
        """The verified, typed event, or the 400 answer saying why not."""
        try:
            verify_signature(body, signature, self.secret, self.tolerance, now=self.clock())
            return parse_event_payload(body)
        except SignatureVerificationError as exc:
            return _error(400, exc.message)
        except InvalidPayloadError as exc:
            return _error(400, str(exc))

    @staticmethod
    def after_claim(claim: Claim) -> Reply | None:
        """The answer when this delivery must not run the handlers, else ``None``."""
        if claim.status is ClaimStatus.CLAIMED:
            return None
        return DUPLICATE if claim.status is ClaimStatus.DONE else IN_PROGRESS

    @staticmethod
    def handler_failed(event: BaseEvent, handler: Handler) -> Reply:
        """Log the current exception and give the 500 answer (the sender retries)."""
        logger.exception(
            "LumenLater webhook handler %s failed for %s (%s)",
            getattr(handler, "__qualname__", handler),
            event.id,
            event.type,
        )
        return HANDLER_FAILED

    # --- the synchronous driver (Flask, Django) -------------------------------------

    def handle_sync(
        self,
        method: str,
        content_length: str | None,
        signature: str | None,
        read: Callable[[int], bytes],
    ) -> Reply:
        """Answer one request in a WSGI-style framework; ``read(n)`` reads the body."""
        reply = self.check_head(method, content_length)
        if reply is not None:
            return reply
        body = read_limited(read, self.max_body_size)
        if body is None:
            return self._too_large
        event = self.parse(body, signature)
        if isinstance(event, Reply):
            return event
        handlers = self.handlers_for(event.type)
        if not handlers:
            return OK
        claim = self.store.claim(event.id)
        reply = self.after_claim(claim)
        if reply is not None:
            return reply
        done = False
        try:
            for reg in handlers:
                try:
                    run_sync(reg, event)
                except Exception:
                    return self.handler_failed(event, reg.fn)
            self.store.complete(event.id, claim.token)
            done = True
            return OK
        finally:
            if not done:
                self.store.release(event.id, claim.token)


def run_sync(reg: Registered, event: BaseEvent) -> None:
    """Call a handler from synchronous code, driving it to completion if it is async."""
    result = reg.fn(event)
    if inspect.isawaitable(result):
        import asyncio

        async def wait() -> None:
            await result

        asyncio.run(wait())


def read_limited(read: Callable[[int], bytes], limit: int) -> bytes | None:
    """Read a whole body with ``read(n)``, or ``None`` as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = read(min(65536, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
