"""``lumenlater listen --forward-to URL``: relay the sandbox's webhooks to a local app.

Like the Stripe CLI: it registers a temporary webhook endpoint pointing at a small
relay on 127.0.0.1, checks each delivery's signature, and forwards the raw body to
``--forward-to`` signed with the secret it prints at start (so the app under
development verifies exactly as in production). One line per event shows the
app's answer, which is also what the sandbox sees, so failures are retried. The
temporary endpoint is deleted on exit.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .._http import AsyncHTTP, TransportFailure
from .._ports import free_port
from .._serving import ThreadedServer
from ..webhooks import SignatureVerificationError, sign, verify_signature

__all__ = ["Relay", "register"]

_FORWARDED = (
    "content-type",
    "user-agent",
    "x-lumenlater-event-id",
    "x-lumenlater-event-type",
    "x-lumenlater-delivery-attempt",
)


class Relay:
    """The ASGI app deliveries arrive at: verify with *inbound_secret*, re-sign, forward."""

    def __init__(
        self,
        forward_to: str,
        *,
        inbound_secret: str,
        outbound_secret: str,
        out: Callable[[str], None] = print,
        timeout: float = 10.0,
    ) -> None:
        self.forward_to = forward_to
        self.inbound_secret = inbound_secret
        self.outbound_secret = outbound_secret
        self._out = out
        self._timeout = timeout
        self._http = AsyncHTTP()

    async def _reply(self, send: Any, status: int, body: bytes = b"") -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Handle one delivery from the sandbox."""
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = b""
        more = True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        if scope["method"] != "POST":
            await self._reply(send, 405)
            return
        try:
            verify_signature(body, headers.get("x-lumenlater-signature"), self.inbound_secret)
        except SignatureVerificationError as exc:
            await self._reply(send, 400, str(exc).encode())
            return
        event_type = headers.get("x-lumenlater-event-type", "?")
        event_id = headers.get("x-lumenlater-event-id", "?")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        out = {k: v for k, v in headers.items() if k in _FORWARDED}
        out["x-lumenlater-signature"] = sign(body, self.outbound_secret)
        try:
            resp = await self._http.send("POST", self.forward_to, out, body, None, self._timeout)
            status, shown = resp.status_code, f"[{resp.status_code}]"
        except TransportFailure as exc:
            status, shown = 502, f"[ERR] {exc}"
        self._out(f"{stamp}  --> {event_type} [{event_id}]  <-- {shown} POST {self.forward_to}")
        await self._reply(send, status)

    async def aclose(self) -> None:
        """Close the forwarding HTTP client."""
        await self._http.aclose()


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    def say(line: str) -> None:
        print(line, flush=True)

    events = [e for item in args.events or ["*"] for e in item.split(",") if e] or ["*"]
    secret = args.secret or "whsec_" + secrets.token_hex(32)
    port = args.port or free_port()
    relay = Relay(args.forward_to, inbound_secret="whsec_pending", outbound_secret=secret, out=say)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        client = LumenLater(api_key=args.api_key, base_url=args.base_url)
    except LumenLaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    server = ThreadedServer(
        relay, port, name="the local relay", lifespan="off", interface="asgi3"
    ).start(timeout=15)
    endpoint_id: str | None = None
    try:
        try:
            ep = client.webhook_endpoints.create(
                url=f"http://127.0.0.1:{port}/",
                enabled_events=events,
                description="lumenlater listen (temporary)",
            )
        except LumenLaterError as exc:
            print(f"error: could not register the endpoint: {exc}", file=sys.stderr)
            return 1
        endpoint_id = ep.id
        relay.inbound_secret = ep.secret or ""
        say(f"Ready! Your webhook signing secret is {secret} (^C to quit)")
        say(f"Forwarding {', '.join(events)} to {args.forward_to} (endpoint {ep.id})")
        while not stop.wait(0.2):
            pass
        return 0
    finally:
        if endpoint_id is not None:
            try:
                client.webhook_endpoints.delete(endpoint_id)
                say(f"Removed temporary endpoint {endpoint_id}")
            except LumenLaterError as exc:
                print(f"warning: could not delete {endpoint_id}: {exc}", file=sys.stderr)
        client.close()
        server.stop(10)


def register(subparsers: Any) -> None:
    """Add the ``listen`` subcommand."""
    from ._trigger import add_connection_options

    parser = subparsers.add_parser(
        "listen",
        help="forward the sandbox's webhooks to a local URL",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--forward-to", required=True, metavar="URL", help="your webhook URL")
    parser.add_argument(
        "--events",
        action="append",
        metavar="TYPES",
        help="event types to forward, comma-separated or repeated (default: all)",
    )
    parser.add_argument(
        "--secret", help="sign forwarded events with this whsec_… (default: a new one)"
    )
    parser.add_argument("--port", type=int, default=0, help="local relay port (default: any)")
    add_connection_options(parser)
    parser.set_defaults(func=_run)
