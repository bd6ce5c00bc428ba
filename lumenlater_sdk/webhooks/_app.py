"""``WebhookApp``: the receiver as a plain ASGI application."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

from ._core import HANDLER_FAILED, OK, Receiver, Reply, Routed
from ._request import SecretResolver, WebhookRequest, is_resolver
from ._signature import SIGNATURE_HEADER, Secrets

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
        kind = scope["type"]
        if kind == "http":
            await self._send(send, await self._http(scope, receive))
        elif kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1003})

    async def _http(self, scope: Scope, receive: Receive) -> Reply:
        signature: str | None = None
        content_length: bytes | None = None
        for name, value in scope["headers"]:
            if name == _SIGNATURE:
                signature = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value
        path: str = scope.get("path", "")
        reply = self.check_head(scope["method"], content_length, path)
        if reply is not None:
            return reply
        body = await self._read_body(receive)
        if body is None:
            return self.refuse_too_large(path)
        secret = self.secret
        if is_resolver(secret):
            found = await self._resolve(secret, WebhookRequest.from_asgi(scope))
            if isinstance(found, Reply):
                return found
            return await self.deliver(body, signature, secret=found, path=path)
        return await self.deliver(body, signature, path=path)

    async def _resolve(self, resolver: SecretResolver, request: WebhookRequest) -> Secrets | Reply:
        try:
            value = resolver(request)
            if inspect.isawaitable(value):
                value = await value
        except Exception:
            return self.lookup_failed(request.path)
        return self.resolved(value, request.path)

    async def _read_body(self, receive: Receive) -> bytes | None:
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):  # the common case: one message
            return body if len(body) <= self.max_body_size else None
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
        routed = self.route(body, path)
        if isinstance(routed, Reply):
            return routed
        answer = await self._dispatch(body, routed, path)
        if answer is None:  # the guess was wrong (a hostile body): read it all
            routed = self.route_exact(body, path)
            if isinstance(routed, Reply):
                return routed
            answer = await self._dispatch(body, routed, path)
        return answer or HANDLER_FAILED  # an exact route always has an answer

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

    @staticmethod
    async def _send(send: Send, reply: Reply) -> None:
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.asgi_headers}
        )
        await send({"type": "http.response.body", "body": reply.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to start or stop, but answering lets the app be served on its own.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
