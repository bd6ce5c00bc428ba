"""``WebhookApp``: the receiver as a plain ASGI application."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import anyio.to_thread

from ._core import HANDLER_FAILED, OK, Receiver, Reply, Routed
from ._errors import InvalidPayloadError, SignatureVerificationError
from ._events import CANONICAL, parse_typed, peek_id_type
from ._request import SecretResolver, WebhookRequest, is_resolver
from ._signature import SIGNATURE_HEADER, Secrets, verify_signature
from ._store import Claim

__all__ = ["WebhookApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_SIGNATURE = SIGNATURE_HEADER.lower().encode()


class WebhookApp(Receiver):
    """Receives LumenLater webhooks; mount it in any ASGI app or serve it directly.

    ``hooks = WebhookApp(secret="whsec_…", store=SQLiteEventStore("hooks.db"))``,
    register handlers with :meth:`on`, then route to it, e.g. Starlette's
    ``Route("/webhooks/lumenlater", hooks)`` (a ``Mount`` would 307-redirect the
    slash-less URL, and webhook senders do not follow redirects).
    Answers 200 once every handler succeeded (or the event was already handled),
    400 on a bad signature or body, 405 on non-POST, 413 over ``max_body_size``
    (1 MiB), 409 (``Retry-After: 5``) while another delivery of the same event is
    being handled, and 500 if a handler raised, so that the sender retries; the
    retry runs only the handlers that had not finished. While handlers run, the
    claim's lease is renewed, so a slow handler never runs twice at once. An error
    answer's body is ``{"error": {"code": ..., "message": ...}}`` (the code names the
    check that failed) and each refused delivery is logged at WARNING on
    ``lumenlater.webhooks``, without the body or the secret.
    ``secret`` may be a list (rotation), or a function of the :class:`WebhookRequest`
    (plain or ``async def``) returning the secret(s) for the URL a delivery came to,
    for one URL serving many merchants' endpoints; ``store`` defaults to an
    :class:`InMemoryEventStore`, which suppresses duplicates only within one process
    (a :class:`ProcessLocalStoreWarning` says so, once per process); ``clock`` gives
    the current Unix time for the timestamp check.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] != "http":
            await _not_http(scope, receive, send)
            return
        # A delivery with async handlers and the in-memory store is answered in this
        # one coroutine, without awaiting a helper (each coroutine costs about what
        # uvicorn's header parsing does); every other case goes to _routed.
        # One C call instead of a loop comparing every header twice; a repeated
        # header's last value counts, as it did in the loop.
        headers: dict[bytes, bytes] = dict(scope["headers"])
        content_length = headers.get(b"content-length")
        limit = self.max_body_size
        reply: Reply | None = None
        body = b""
        # The common case decided inline; anything else gets check_head's answer.
        if scope["method"] != "POST" or (
            content_length is not None
            and not (content_length.isdigit() and int(content_length) <= limit)
        ):
            reply = self.check_head(scope["method"], content_length, scope.get("path", ""))
        if reply is None:
            message = await receive()
            body = message.get("body", b"")
            if message.get("more_body", False):
                rest = await self._read_rest(receive, message)
                if rest is None:
                    reply = self.refuse_too_large(scope.get("path", ""))
                else:
                    body = rest
            elif len(body) > limit:
                reply = self.refuse_too_large(scope.get("path", ""))
        if reply is None:
            secret = self.secret
            if type(secret) is not str and is_resolver(secret):
                found = await self._resolve(secret, WebhookRequest.from_asgi(scope))
                if isinstance(found, Reply):
                    reply = found
                else:
                    secret = found
        if reply is None:
            raw_signature = headers.get(_SIGNATURE)
            try:
                # (A resolver was replaced by its answer above; no cast() call per request.)
                verify_signature(
                    body,
                    None if raw_signature is None else raw_signature.decode("latin-1"),
                    secret,  # type: ignore[arg-type]
                    self.tolerance,
                    now=self.clock(),
                )
            except SignatureVerificationError as exc:
                reply = self.signature_refused(exc, scope.get("path", ""))
        if reply is None:
            store = self._holding
            match = None if store is None else CANONICAL.match(body)
            route = None
            if match is not None:
                # guess_id_type inline, the type looked up by its bytes (held_route).
                raw_id, raw_type = match.groups()
                routes = self._held_routes
                route = routes[raw_type] if raw_type in routes else self.held_route(raw_type)
            if store is None or route is None:
                reply = await self._routed(body, scope.get("path", ""))
            else:
                # The held path: _dispatch for the in-memory store and async handlers
                # only, a guessed route: the same answers, logs and store records,
                # minus the lease renewals (the claim is held without a lease, see
                # InMemoryEventStore.hold) and the per-step calls that only matter
                # for blocking stores or sync handlers. Inline: no coroutine more.
                event_id = raw_id.decode("ascii")
                event_type, handlers, validator = route
                held = store.hold(event_id)
                if type(held) is str:
                    token = held
                    todo = handlers
                else:
                    claim = cast(Claim, held)
                    reply = self.after_claim(claim)
                    if reply is None:
                        token = claim.token
                        todo = self.pending(handlers, claim)
                    elif peek_id_type(body) != (event_id, event_type):
                        # A duplicate is answered without the typed parse only once
                        # the guess holds.
                        reply = await self._exact(body, scope.get("path", ""))
                if reply is None:
                    done = False
                    try:
                        try:
                            try:
                                # The type's own class: its Literal field has checked
                                # the type, so only the id is left to confirm.
                                event = validator.validate_json(body)
                                confirmed = event.id == event_id
                            except (AttributeError, ValueError):
                                # pydantic's errors are ValueErrors; the validator is
                                # None for a type this SDK does not know. The generic
                                # path gives the event or says what is wrong.
                                event = parse_typed(body, event_type)
                                confirmed = event.id == event_id and event.type == event_type
                        except InvalidPayloadError as exc:
                            reply = self.payload_refused(exc, scope.get("path", ""))
                        else:
                            if confirmed:
                                last = todo[-1]
                                for reg in todo:
                                    try:
                                        await reg.fn(event)
                                    except Exception:
                                        reply = self.handler_failed(event, reg.fn)
                                        break
                                    if reg is not last:  # complete() records the last
                                        self.record_handler(event_id, token, reg)
                                else:
                                    store.complete(event_id, token)
                                    done = True
                                    reply = OK
                    finally:
                        if not done:  # also when cancelled: a retry must find it free
                            store.release(event_id, token)
                    if reply is None:  # the guess was wrong (a hostile body): read it all
                        reply = await self._exact(body, scope.get("path", ""))
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                # A list of its own each time: middleware may append to it in
                # place (OpenTelemetry's ASGI middleware adds its headers so).
                "headers": [*reply.asgi_headers],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    async def _resolve(self, resolver: SecretResolver, request: WebhookRequest) -> Secrets | Reply:
        try:
            value = resolver(request)
            if inspect.isawaitable(value):
                value = await value
        except Exception:
            return self.lookup_failed(request.path)
        return self.resolved(value, request.path)

    async def _read_rest(self, receive: Receive, message: Message) -> bytes | None:
        # A body in several messages (chunked): stop reading as soon as it is too large.
        body: bytes = message.get("body", b"")
        chunks = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_size:
                return None  # stop reading at once; the rest is never buffered
            chunks.append(chunk)
        return b"".join(chunks) if size <= self.max_body_size else None

    async def deliver(
        self,
        body: bytes,
        signature: str | None,
        *,
        secret: Secrets | None = None,
        path: str = "",
    ) -> Reply:
        """Verify, deduplicate and dispatch one raw delivery; the reply to send.

        A duplicate, or an event type without a handler, is answered without the
        typed parse (the id and type are read from the raw body).

        *secret* overrides the receiver's own (a resolved one); *path* is for log lines.
        """
        reply = self.verify(body, signature, secret, path)
        if reply is not None:
            return reply
        return await self._routed(body, path)

    async def _routed(self, body: bytes, path: str) -> Reply:
        routed = self.route(body, path)
        if isinstance(routed, Reply):
            return routed
        answer = await self._dispatch(body, routed, path)
        if answer is None:  # the guess was wrong (a hostile body): read it all
            return await self._exact(body, path)
        return answer

    async def _exact(self, body: bytes, path: str) -> Reply:
        routed = self.route_exact(body, path)
        if isinstance(routed, Reply):
            return routed
        return await self._dispatch(body, routed, path) or HANDLER_FAILED  # never None

    async def _dispatch(self, body: bytes, routed: Routed, path: str) -> Reply | None:
        event_id, event_type, handlers, parsed, _ = routed
        store = self.store
        if store.blocking:
            claim = await anyio.to_thread.run_sync(store.claim, event_id)
        else:
            claim = store.claim(event_id)
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
                    if reg.is_async:
                        await reg.fn(event)
                    else:
                        result = await anyio.to_thread.run_sync(reg.fn, event)
                        if hasattr(result, "__await__"):
                            await result
                except Exception:
                    return self.handler_failed(event, reg.fn)
                if i < last:  # the last one is recorded by complete()
                    if store.blocking:
                        await anyio.to_thread.run_sync(
                            self.record_handler, event_id, claim.token, reg
                        )
                    else:
                        self.record_handler(event_id, claim.token, reg)
            self.drop_lease(lease)  # before complete: a renewal after it would fail
            lease = None
            if store.blocking:
                await anyio.to_thread.run_sync(store.complete, event_id, claim.token)
            else:
                store.complete(event_id, claim.token)
            done = True
            return OK
        finally:
            self.drop_lease(lease)
            if not done:
                # Shielded: a cancelled request must still free the event for the retry.
                with anyio.CancelScope(shield=True):
                    if store.blocking:
                        await anyio.to_thread.run_sync(store.release, event_id, claim.token)
                    else:
                        store.release(event_id, claim.token)


async def _not_http(scope: Scope, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        await _lifespan(receive, send)
    elif kind == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1003})


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to start or stop, but answering lets the app be served on its own.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
