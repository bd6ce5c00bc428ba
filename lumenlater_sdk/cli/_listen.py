"""``lumenlater listen --forward-to URL``: relay the sandbox's webhooks to a local app.

Like the Stripe CLI: it registers a temporary webhook endpoint pointing at a small
relay on 127.0.0.1, checks each delivery's signature, and forwards the raw body to
--forward-to signed with this machine's listen secret (so the app under development
verifies exactly as in production). The secret is made once and kept in
~/.lumenlater/listen.json (with the sandbox's data; --state-file to move it), printed
on every start, and rolled with --new-secret. A failed forward is retried a few times
with a growing pause, one line per attempt; the app's last answer is what the sandbox
sees, so it retries later on its own schedule. The temporary endpoint is deleted on
exit; one left by a listen that was killed is deleted on the next start (the state
file lists each running listen's endpoint and process, so several can run at once).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from .._ports import free_port
from .._serving import ThreadedServer
from ._interrupt import StopOnSignal
from ._relay import Relay

__all__ = ["Relay", "load_state", "register", "save_state"]

STATE_FILE = Path("~/.lumenlater/listen.json")
_DESCRIPTION = "lumenlater listen (temporary)"


def load_state(path: Path) -> dict[str, Any]:
    """The listen state at *path* (``{}`` when there is none yet)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SystemExit(f"lumenlater listen: cannot read {path}: {exc}") from None
    return data if isinstance(data, dict) else {}


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write *state* readable by this user only (it holds a signing secret), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, path)


def _secret(args: argparse.Namespace, path: Path, state: dict[str, Any]) -> tuple[str, str]:
    """The outbound secret and where it came from."""
    if args.secret:
        return args.secret, "given with --secret"
    if args.new_secret or not isinstance(state.get("secret"), str):
        state["secret"] = "whsec_" + secrets.token_hex(32)
        save_state(path, state)
        return state["secret"], f"new, kept in {path}"
    return state["secret"], f"kept in {path}; --new-secret rolls it"


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _remove_leftovers(client: Any, state: dict[str, Any], base_url: str, say: Any) -> None:
    """Delete the endpoints of listens on this sandbox whose process is gone (killed, or
    crashed before cleaning up); another listen still running keeps its own."""
    from ..errors import LumenLaterError, NotFoundError

    kept = []
    for left in state.get("endpoints", []):
        if (
            not isinstance(left, dict)
            or _alive(left.get("pid"))
            or left.get("base_url") != base_url
        ):
            kept.append(left)
            continue
        try:
            client.webhook_endpoints.delete(str(left.get("id")))
            say(f"Removed endpoint {left.get('id')} left by an earlier listen")
        except NotFoundError:
            pass
        except LumenLaterError as exc:
            print(f"warning: could not delete {left.get('id')}: {exc}", file=sys.stderr)
            kept.append(left)
    state["endpoints"] = kept


def _forget(path: Path, endpoint_id: str) -> None:
    """Drop *endpoint_id* from the state file (re-read: other listens may have written)."""
    state = load_state(path)
    state["endpoints"] = [
        e
        for e in state.get("endpoints", [])
        if not (isinstance(e, dict) and e.get("id") == endpoint_id)
    ]
    save_state(path, state)


def _replay(client: Any, since: str, endpoint_id: str, events: list[str], say: Any) -> None:
    """Resend to *endpoint_id* every event after *since*, oldest first."""
    client.events.retrieve(since)  # an unknown id is an error here, not an empty replay
    newer = []
    for event in client.events.list():  # newest first, back to *since*
        if event.id == since:
            break
        if "*" in events or event.type in events:
            newer.append(event)
    for event in reversed(newer):
        client.events.resend(event.id, endpoint=endpoint_id)
    say(f"Replaying {len(newer)} event(s) after {since}")


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError
    from ._signatures import missing_api_key, print_api_error

    def say(line: str) -> None:
        print(line, flush=True)

    events = [e for item in args.events or ["*"] for e in item.split(",") if e] or ["*"]
    if missing_api_key(args.api_key):
        return 1
    path = Path(args.state_file).expanduser()
    state = load_state(path)
    secret, origin = _secret(args, path, state)
    port = args.port or free_port()
    relay = Relay(
        args.forward_to,
        inbound_secret="whsec_pending",
        outbound_secret=secret,
        out=say,
        attempts=args.retries + 1,
        print_json=args.print_json,
    )
    # The endpoint is deleted on the way out: a signal ends the wait below, no sooner.
    with StopOnSignal() as stop:
        try:
            client = LumenLater(api_key=args.api_key, base_url=args.base_url)
        except LumenLaterError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        base_url = str(client.base_url)
        server = ThreadedServer(
            relay, port, name="the local relay", lifespan="off", interface="asgi3"
        ).start(timeout=15)
        endpoint_id: str | None = None
        try:
            _remove_leftovers(client, state, base_url, say)
            save_state(path, state)
            try:
                ep = client.webhook_endpoints.create(
                    url=f"http://127.0.0.1:{port}/", enabled_events=events, description=_DESCRIPTION
                )
            except LumenLaterError as exc:
                print_api_error(exc, "listen: registering the endpoint")
                return 1
            endpoint_id = ep.id
            state = load_state(path)  # fresh: another listen may have written since
            mine = {"id": ep.id, "base_url": base_url, "pid": os.getpid()}
            state["endpoints"] = [*state.get("endpoints", []), mine]
            save_state(path, state)
            relay.inbound_secret = ep.secret or ""
            say(f"Ready! Your webhook signing secret is {secret} ({origin}) (^C to quit)")
            say(f"Forwarding {', '.join(events)} to {args.forward_to} (endpoint {ep.id})")
            if args.replay_from:
                try:
                    _replay(client, args.replay_from, ep.id, events, say)
                except LumenLaterError as exc:
                    print_api_error(exc, f"listen --replay-from {args.replay_from}")
                    return 1
            while stop.pause(3600):
                pass
            return 0
        finally:
            if endpoint_id is not None:
                try:
                    client.webhook_endpoints.delete(endpoint_id)
                    _forget(path, endpoint_id)
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
    parser.add_argument(
        "--forward-to", required=True, metavar="URL", help="your webhook URL (required)"
    )
    parser.add_argument(
        "--events",
        action="append",
        metavar="TYPES",
        help="event types to forward, comma-separated or repeated (default: all)",
    )
    parser.add_argument(
        "--secret",
        help="sign forwarded events with this whsec_… instead of the machine's listen secret "
        "(not stored)",
    )
    parser.add_argument(
        "--new-secret",
        action="store_true",
        help="roll the machine's listen secret: make a new one, store it, use it",
    )
    parser.add_argument(
        "--state-file",
        default=str(STATE_FILE),
        metavar="PATH",
        help=f"where the listen secret is kept (default: {STATE_FILE}, under $HOME)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="forward a failed delivery (no connection, 5xx, 408, 429) again up to N times, "
        "pausing 0.5 s, then 1 s, ... (within 8 s; default 2)",
    )
    parser.add_argument(
        "--print-json", action="store_true", help="also print each event's JSON as it arrives"
    )
    parser.add_argument(
        "--replay-from",
        metavar="EVT_ID",
        help="on start, send again every event after this evt_… (oldest first, "
        "filtered by --events)",
    )
    parser.add_argument("--port", type=int, default=0, help="local relay port (default: any)")
    add_connection_options(parser)
    parser.set_defaults(func=_run)
