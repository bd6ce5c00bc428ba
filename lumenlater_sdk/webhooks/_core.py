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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar, cast

from .._logging import setup_logging, webhooks_logger
from ..types.event import BaseEvent
from ._errors import InvalidPayloadError, ProcessLocalStoreWarning, SignatureVerificationError
from ._events import _VALIDATORS, guess_id_type, parse_event_payload, parse_typed, peek_id_type
from ._heartbeat import Heartbeat
from ._memory_store import InMemoryEventStore
from ._request import SecretResolver, WebhookRequest, is_resolver, resolved_keys
from ._signature import DEFAULT_TOLERANCE, SIGNATURE_HEADER, Secrets, _keys, verify_signature
from ._store import DEFAULT_LEASE, Claim, ClaimStatus, EventStore

__all__ = ["MAX_BODY_SIZE", "Handler", "HeldRoute", "Receiver", "Reply", "Routed"]

logger = webhooks_logger

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


def _error(status: int, code: str, message: str, *headers: tuple[str, str]) -> Reply:
    body = {"error": {"code": code, "message": message}}
    return Reply(status, json.dumps(body).encode(), headers)


OK = Reply(200, b'{"received":true}')
DUPLICATE = Reply(200, b'{"received":true,"duplicate":true}')
IN_PROGRESS = _error(
    409,
    "event_in_progress",
    "This event is being handled by another delivery right now",
    ("Retry-After", "5"),
)
METHOD_NOT_ALLOWED = _error(405, "method_not_allowed", "Webhooks must be POSTed", ("Allow", "POST"))
TOO_LARGE = _error(413, "body_too_large", f"The body is larger than {MAX_BODY_SIZE} bytes")
HANDLER_FAILED = _error(
    500, "handler_failed", "A handler for this event failed; it will run again on retry"
)
NO_SECRET = _error(400, "no_secret", "No webhook secret is known for this URL")
SECRET_LOOKUP_FAILED = _error(
    500, "secret_lookup_failed", "Looking up this URL's webhook secret failed; retry later"
)

# What to check when a delivery is refused: in the log only, for the receiver's owner.
_HINTS = {
    "missing_header": f"a proxy in between must pass the {SIGNATURE_HEADER} header on",
    "no_matching_signature": "is this receiver's secret the endpoint's own whsec_ secret "
    "(each endpoint has one; `lumenlater listen` prints the one it signs with), and does "
    "the body reach the receiver byte for byte?",
    "timestamp_too_old": "check this machine's clock; an old delivery replayed is refused",
    "timestamp_in_future": "check this machine's clock",
    "no_secret": "the secret resolver returned no secret for this URL",
}


@dataclass(frozen=True)
class Registered:
    """A handler, whether it must be awaited, and the name the store knows it by."""

    fn: Handler
    is_async: bool
    key: str


class HeldRoute(NamedTuple):
    """Where WebhookApp's held path sends an event type (every handler ``async``)."""

    event_type: str
    handlers: tuple[Registered, ...]
    validator: Any
    """The type's own pydantic-core validator; ``None`` for a type this SDK does not know."""


class Routed(NamedTuple):
    """A verified delivery's id, type and handlers; ``event`` once parsed (else ``None``)."""

    event_id: str
    event_type: str
    handlers: tuple[Registered, ...]
    event: BaseEvent | None
    exact: bool
    """False for a guess from the start of the body, not yet confirmed."""


def handler_key(fn: Handler, taken: list[str]) -> str:
    """``module.qualname`` of ``fn``, with ``#2``, ``#3`` … for later registrations
    sharing one (two lambdas, or one function registered twice): stable across
    processes and restarts as long as handlers are registered in the same order."""
    module = getattr(fn, "__module__", None) or type(fn).__module__
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    base = f"{module}.{name}"
    same = sum(1 for key in taken if key == base or key.startswith(base + "#"))
    return base if same == 0 else f"{base}#{same + 1}"


_STORE_METHODS = frozenset({"claim", "hold", "handler_done", "extend", "complete", "release"})

_warned_process_local = False


def _warn_process_local() -> None:
    global _warned_process_local
    if _warned_process_local:
        return
    _warned_process_local = True
    warnings.warn(
        "WebhookApp without store= suppresses duplicate deliveries only within this "
        "process (and forgets them on restart): with several workers or processes, "
        "pass store=SQLiteEventStore(...) or store=RedisEventStore(...); pass "
        "store=InMemoryEventStore() to keep the in-process store without this warning",
        ProcessLocalStoreWarning,
        stacklevel=3,
    )


class Receiver:
    """Signature check, typed parsing, duplicate suppression and handler registry."""

    def __init__(
        self,
        secret: Secrets | SecretResolver,
        store: EventStore | None = None,
        tolerance: float | None = DEFAULT_TOLERANCE,
        *,
        clock: Callable[[], float] = time.time,
        max_body_size: int = MAX_BODY_SIZE,
    ) -> None:
        setup_logging()
        self.secret: Secrets | SecretResolver
        if is_resolver(secret):
            self.secret = secret
        else:
            fixed = cast(Secrets, secret)
            _keys(fixed)  # fail now, not on the first delivery, if there is no secret
            self.secret = fixed if isinstance(fixed, str) else list(fixed)
        if store is None:
            _warn_process_local()
            store = InMemoryEventStore()
        self.store = store
        self.tolerance = tolerance
        self.clock = clock
        self.max_body_size = max_body_size
        self._too_large = (
            TOO_LARGE
            if max_body_size == MAX_BODY_SIZE
            else _error(413, "body_too_large", f"The body is larger than {max_body_size} bytes")
        )
        self._registrations: list[tuple[frozenset[str], Registered]] = []
        self._by_type: dict[str, tuple[Registered, ...]] = {}
        self._async_by_type: dict[str, tuple[Registered, ...] | None] = {}
        self._held_routes: dict[bytes, HeldRoute | None] = {}

    @property
    def store(self) -> EventStore:
        """Where handled events (and the handlers that finished) are remembered."""
        return self._store

    @store.setter
    def store(self, store: EventStore) -> None:
        self._store = store
        # Optional store methods (see EventStore): looked up once, not per delivery.
        self._handler_done: Callable[[str, str, str], None] | None = getattr(
            store, "handler_done", None
        )
        extend: Callable[[str, str], bool] | None = getattr(store, "extend", None)
        lease = float(getattr(store, "lease", DEFAULT_LEASE))
        self._heartbeat = None if extend is None else Heartbeat(extend, lease / 3)
        # The in-memory store as it ships (not a subclass, no method replaced on the
        # instance, e.g. to watch the calls): WebhookApp's fast path holds its claims
        # without a lease (InMemoryEventStore.hold) and skips the heartbeat.
        self._holding: InMemoryEventStore | None = (
            store
            if type(store) is InMemoryEventStore and not _STORE_METHODS & vars(store).keys()
            else None
        )

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Register the decorated function for these event types (``"*"``: every type).

        Handlers may be ``async def`` or plain functions (run in a worker thread by
        the ASGI app). All handlers matching an event run in registration order; if
        one raises, the rest wait for the retry, which skips those that finished
        (the store knows a handler by its module and qualified name).
        """
        if not event_types:
            raise TypeError('on() needs at least one event type, e.g. on("bill.paid") or on("*")')

        def register(fn: H) -> H:
            # An object with an async __call__ must be awaited too.
            is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
                cast(Any, fn).__call__
            )
            key = handler_key(fn, [reg.key for _, reg in self._registrations])
            self._registrations.append((frozenset(event_types), Registered(fn, is_async, key)))
            self._by_type.clear()
            self._async_by_type.clear()
            self._held_routes.clear()
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

    def async_handlers_for(self, event_type: str) -> tuple[Registered, ...] | None:
        """:meth:`handlers_for` if there are some and every one is ``async``, else ``None``."""
        try:
            return self._async_by_type[event_type]
        except KeyError:
            handlers = self.handlers_for(event_type)
            found = handlers if handlers and all(r.is_async for r in handlers) else None
            self._async_by_type[event_type] = found
            return found

    def held_route(self, raw_type: bytes) -> HeldRoute | None:
        """The held path's route for an event type as the body spells it (ASCII, as
        :data:`CANONICAL` reads it): ``None`` unless it has handlers, all ``async``.
        Kept by the bytes, so a delivery needs no decode of its type nor a call to
        find its handlers."""
        routes = self._held_routes
        if raw_type not in routes:
            event_type = raw_type.decode("ascii")
            handlers = self.async_handlers_for(event_type)
            routes[raw_type] = (
                None
                if handlers is None
                else HeldRoute(event_type, handlers, _VALIDATORS.get(event_type))
            )
        return routes[raw_type]

    # --- decisions ---------------------------------------------------------------

    @staticmethod
    def refused(reply: Reply, path: str = "", *, level: int = logging.WARNING) -> Reply:
        """Log why a delivery is refused (never the body or the secret); return *reply*."""
        error = json.loads(reply.body)["error"]
        code = error["code"]
        hint = _HINTS.get(code)
        logger.log(
            level,
            "Refused a LumenLater webhook%s: %d %s: %s%s",
            f" to {path}" if path else "",
            reply.status,
            code,
            error["message"],
            f" ({hint})" if hint else "",
            extra={"fields": {"status": reply.status, "code": code, "path": path}},
        )
        return reply

    def check_head(
        self, method: str, content_length: str | bytes | None, path: str = ""
    ) -> Reply | None:
        """The answer to give before reading the body, if any (405, 413, 400)."""
        if method != "POST":
            # Not a delivery (a browser, a health check): worth a line, not a warning.
            return self.refused(METHOD_NOT_ALLOWED, path, level=logging.INFO)
        if content_length:
            try:
                length = int(content_length)
            except ValueError:
                reply = _error(400, "invalid_content_length", "Content-Length is not a number")
                return self.refused(reply, path)
            if length > self.max_body_size:
                return self.refused(self._too_large, path)
        return None

    @property
    def too_large(self) -> Reply:
        """The 413 answer."""
        return self._too_large

    def refuse_too_large(self, path: str = "") -> Reply:
        """Log and give the 413 answer for a body found too large while reading it."""
        return self.refused(self._too_large, path)

    def parse(
        self, body: bytes, signature: str | None, secret: Secrets | None = None, path: str = ""
    ) -> BaseEvent | Reply:
        """The verified, typed event, or the 400 answer saying which check failed.

        *secret* is the one resolved for this request (default: the receiver's own).
        """
        reply = self.verify(body, signature, secret, path)
        if reply is not None:
            return reply
        try:
            return parse_event_payload(body)
        except InvalidPayloadError as exc:
            return self.refused(_error(400, exc.reason, str(exc)), path)

    def verify(
        self, body: bytes, signature: str | None, secret: Secrets | None = None, path: str = ""
    ) -> Reply | None:
        """``None`` if *signature* signs *body*, else the 400 answer saying why."""
        try:
            verify_signature(
                body,
                signature,
                cast(Secrets, self.secret) if secret is None else secret,
                self.tolerance,
                now=self.clock(),
            )
        except SignatureVerificationError as exc:
            return self.signature_refused(exc, path)
        return None

    def signature_refused(self, exc: SignatureVerificationError, path: str = "") -> Reply:
        """Log and give the 400 answer for a signature that did not verify."""
        return self.refused(_error(400, exc.reason, exc.message), path)

    def route(self, body: bytes, path: str = "") -> Routed | Reply:
        """Where a verified body goes: its id and handlers, or the answer already.

        The id and type are read from the raw body, so an event type without a
        handler is answered 200 without the typed parse, and a duplicate is found by
        the store before it. First a guess (:func:`guess_id_type`, the start of the
        body as LumenLater writes it); a guess is confirmed before any answer given
        on its word alone (``Routed.exact`` False: see :meth:`confirmed`), and the
        typed event of a delivery that runs handlers is checked against it.
        """
        guess = guess_id_type(body)
        if guess is not None:
            handlers = self.handlers_for(guess[1])
            if handlers:
                return Routed(guess[0], guess[1], handlers, None, False)
            if peek_id_type(body) == guess:
                return OK
        return self.route_exact(body, path)

    def route_exact(self, body: bytes, path: str = "") -> Routed | Reply:
        """:meth:`route` reading the top-level keys of the whole body
        (:func:`peek_id_type`, same JSON rules as the typed parse); a body that has no
        string id and type is parsed in full at once, which gives its 400 answer."""
        head = peek_id_type(body)
        if head is None:
            event = self.typed(body, None, path)
            if isinstance(event, Reply):
                return event
            handlers = self.handlers_for(event.type)
            return Routed(event.id, event.type, handlers, event, True) if handlers else OK
        handlers = self.handlers_for(head[1])
        return Routed(head[0], head[1], handlers, None, True) if handlers else OK

    @staticmethod
    def confirmed(body: bytes, routed: Routed, event: BaseEvent | None = None) -> bool:
        """Whether *routed* is the body's own id and type: always for an exact route;
        for a guess, by the typed *event* if parsed, else by :func:`peek_id_type`."""
        if routed.exact:
            return True
        if event is not None:
            return event.id == routed.event_id and event.type == routed.event_type
        return peek_id_type(body) == (routed.event_id, routed.event_type)

    def typed(self, body: bytes, event_type: str | None, path: str = "") -> BaseEvent | Reply:
        """The typed event of a verified body (of *event_type* if known), or its 400."""
        try:
            if event_type is None:
                return parse_event_payload(body)
            return parse_typed(body, event_type)
        except InvalidPayloadError as exc:
            return self.payload_refused(exc, path)

    def payload_refused(self, exc: InvalidPayloadError, path: str = "") -> Reply:
        """Log and give the 400 answer for a verified body that is not a valid event."""
        return self.refused(_error(400, exc.reason, str(exc)), path)

    def resolved(self, value: object, path: str) -> Secrets | Reply:
        """A resolver's answer checked: the secret(s), or the 400 when it has none."""
        try:
            keys = resolved_keys(value)
        except TypeError:
            return self.lookup_failed(path)
        return self.refused(NO_SECRET, path) if keys is None else keys

    @staticmethod
    def lookup_failed(path: str) -> Reply:
        """Log the current exception of a secret resolver and give the 500 (retried later)."""
        logger.exception("The webhook secret resolver failed%s", f" for {path}" if path else "")
        return SECRET_LOOKUP_FAILED

    def secret_for_sync(
        self, request: Callable[[], WebhookRequest] | None, path: str
    ) -> Secrets | Reply:
        """This request's secret(s): the receiver's own, or the resolver's answer (an
        ``async def`` resolver is run to completion)."""
        secret = self.secret
        if not is_resolver(secret):
            return cast(Secrets, secret)
        try:
            value = secret(request() if request is not None else WebhookRequest(path))
            if inspect.isawaitable(value):
                value = _run(value)
        except Exception:
            return self.lookup_failed(path)
        return self.resolved(value, path)

    @staticmethod
    def after_claim(claim: Claim) -> Reply | None:
        """The answer when this delivery must not run the handlers, else ``None``."""
        if claim.status is ClaimStatus.CLAIMED:
            return None
        return DUPLICATE if claim.status is ClaimStatus.DONE else IN_PROGRESS

    @staticmethod
    def pending(handlers: tuple[Registered, ...], claim: Claim) -> tuple[Registered, ...]:
        """The handlers still to run: those an earlier delivery did not finish."""
        done = claim.done_handlers
        if not done:
            return handlers
        return tuple(reg for reg in handlers if reg.key not in done)

    def hold_lease(self, event_id: str, token: str) -> int | None:
        """Start renewing the claim's lease while handlers run (``None``: cannot)."""
        heartbeat = self._heartbeat
        return None if heartbeat is None else heartbeat.hold(event_id, token)

    def drop_lease(self, handle: int | None) -> None:
        """Stop renewing a lease taken with :meth:`hold_lease`."""
        if handle is not None and self._heartbeat is not None:
            self._heartbeat.drop(handle)

    def record_handler(self, event_id: str, token: str, reg: Registered) -> None:
        """Tell the store ``reg`` finished, so a retry after a later failure skips it."""
        if self._handler_done is None:
            return
        try:
            self._handler_done(event_id, token, reg.key)
        except Exception:
            # The handler did its work; failing the delivery now would only make the
            # retry run it again, which is what losing this mark costs anyway.
            logger.exception("Could not record that handler %s finished for %s", reg.key, event_id)

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
        *,
        path: str = "",
        request: Callable[[], WebhookRequest] | None = None,
    ) -> Reply:
        """Answer one request in a WSGI-style framework; ``read(n)`` reads the body.

        *path* names the URL in log lines; *request* builds the :class:`WebhookRequest`
        a secret resolver receives (called only when ``secret`` is one).
        """
        reply = self.check_head(method, content_length, path)
        if reply is not None:
            return reply
        body = read_limited(read, self.max_body_size)
        if body is None:
            return self.refuse_too_large(path)
        secret = self.secret_for_sync(request, path)
        if isinstance(secret, Reply):
            return secret
        reply = self.verify(body, signature, secret, path)
        if reply is not None:
            return reply
        routed = self.route(body, path)
        if isinstance(routed, Reply):
            return routed
        answer = self.dispatch_sync(body, routed, path)
        if answer is None:  # the guess was wrong (a hostile body): read it all
            routed = self.route_exact(body, path)
            if isinstance(routed, Reply):
                return routed
            answer = self.dispatch_sync(body, routed, path)
        return answer or HANDLER_FAILED  # an exact route always has an answer

    def dispatch_sync(self, body: bytes, routed: Routed, path: str = "") -> Reply | None:
        """Claim, parse and run the handlers of a routed delivery; ``None`` (before any
        handler ran) if a guessed route proves wrong."""
        event_id, event_type, handlers, parsed, _ = routed
        claim = self.store.claim(event_id)
        reply = self.after_claim(claim)
        if reply is not None:
            # A duplicate: answered without the typed parse.
            return reply if self.confirmed(body, routed) else None
        lease = None
        done = False
        try:
            event = self.typed(body, event_type, path) if parsed is None else parsed
            if isinstance(event, Reply):
                return event  # the claim is released below
            if not self.confirmed(body, routed, event):
                return None  # the claim is released below
            todo = self.pending(handlers, claim)
            lease = self.hold_lease(event_id, claim.token)
            last = len(todo) - 1
            for i, reg in enumerate(todo):
                try:
                    run_sync(reg, event)
                except Exception:
                    return self.handler_failed(event, reg.fn)
                if i < last:  # the last one is recorded by complete()
                    self.record_handler(event_id, claim.token, reg)
            self.drop_lease(lease)  # before complete: a renewal after it would fail
            lease = None
            self.store.complete(event_id, claim.token)
            done = True
            return OK
        finally:
            self.drop_lease(lease)
            if not done:
                self.store.release(event_id, claim.token)


def _run(awaitable: Any) -> Any:
    import asyncio

    async def wait() -> Any:
        return await awaitable

    return asyncio.run(wait())


def run_sync(reg: Registered, event: BaseEvent) -> None:
    """Call a handler from synchronous code, driving it to completion if it is async."""
    result = reg.fn(event)
    if inspect.isawaitable(result):
        _run(result)


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
