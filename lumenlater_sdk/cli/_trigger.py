"""``lumenlater trigger TYPE``: make the sandbox produce an event of that type."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..types import EVENT_TYPES

__all__ = ["add_connection_options", "register"]


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--api-key`` and ``--base-url`` (defaults: the LUMENLATER_* variables, local sandbox)."""
    parser.add_argument("--api-key", help="secret key (default: $LUMENLATER_API_KEY)", default=None)
    parser.add_argument(
        "--base-url",
        help="API root (default: $LUMENLATER_BASE_URL or http://127.0.0.1:8787)",
        default=None,
    )


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    try:
        with LumenLater(api_key=args.api_key, base_url=args.base_url) as client:
            event = client.test_helpers.events.trigger(type=args.type)
    except LumenLaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    event_id = getattr(event, "id", None)
    print(f"Triggered {args.type}" + (f": {event_id}" if event_id else ""))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``trigger`` subcommand."""
    parser = subparsers.add_parser(
        "trigger",
        help="create the objects that cause an event type (sandbox only)",
        description="Calls POST /v1/test_helpers/events/trigger; the event is then "
        "delivered to your webhook endpoints (or to `lumenlater listen`).",
    )
    parser.add_argument(
        "type", metavar="TYPE", help="event type, one of: " + ", ".join(EVENT_TYPES)
    )
    add_connection_options(parser)
    parser.set_defaults(func=_run)
