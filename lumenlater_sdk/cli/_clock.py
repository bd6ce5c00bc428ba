"""``lumenlater clock [show | advance SECONDS]``: read or move the sandbox ledger clock."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ._trigger import add_connection_options

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``clock`` subcommand."""
    parser = subparsers.add_parser(
        "clock",
        help="show or advance the sandbox ledger clock",
        description="Advancing runs everything time triggers: bill and session expiry, "
        "overdue bills, liquidation eligibility, and their events.",
    )
    parser.add_argument("action", nargs="?", choices=["show", "advance"], default="show")
    parser.add_argument("seconds", nargs="?", type=int, default=None, help="for advance")
    add_connection_options(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    if args.action == "advance" and (args.seconds is None or args.seconds <= 0):
        print("usage: lumenlater clock advance SECONDS (a positive whole number)", file=sys.stderr)
        return 2
    try:
        with LumenLater(api_key=args.api_key, base_url=args.base_url) as client:
            clock = (
                client.test_helpers.clock.advance(seconds=args.seconds)
                if args.action == "advance"
                else client.test_helpers.clock.retrieve()
            )
    except LumenLaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(clock.now))
    print(f"{clock.now} ({stamp})")
    return 0
