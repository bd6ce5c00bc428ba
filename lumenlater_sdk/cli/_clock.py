"""``lumenlater clock [show | advance DURATION]``: read or move the sandbox ledger clock.

DURATION is ``20d``, ``3h``, ``90m``, ``45s``, ``1d12h`` or a whole number of seconds.
The API's answer (``{"object": "test_helpers.clock", "now": ...}``) prints on stdout
as JSON (or ``--format table``), like every resource command; the time in words goes
to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ._format import add_format_option, render_object
from ._params import DURATION_HELP, ParamError, parse_duration
from ._signatures import missing_api_key, print_api_error
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
    parser.add_argument(
        "action",
        nargs="?",
        choices=["show", "advance"],
        default="show",
        help="show the ledger time, or advance it by DURATION (default: show)",
    )
    parser.add_argument(
        "duration",
        nargs="?",
        default=None,
        metavar="DURATION",
        help=f"for advance: {DURATION_HELP}",
    )
    add_format_option(parser)
    add_connection_options(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    seconds = 0
    if args.action == "advance":
        try:
            seconds = parse_duration(args.duration or "")
        except ParamError as exc:
            print(f"usage: lumenlater clock advance DURATION: {exc}", file=sys.stderr)
            return 2
        if seconds <= 0:
            print("usage: lumenlater clock advance DURATION (more than 0)", file=sys.stderr)
            return 2
    if missing_api_key(args.api_key):
        return 1
    try:
        with LumenLater(api_key=args.api_key, base_url=args.base_url) as client:
            clock = (
                client.test_helpers.clock.advance(seconds=seconds)
                if args.action == "advance"
                else client.test_helpers.clock.retrieve()
            )
    except LumenLaterError as exc:
        print_api_error(exc, f"clock {args.action}")
        return 1
    print(render_object(clock.to_dict(), args.format))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(clock.now))
    moved = f"advanced {args.duration.strip()}; " if args.action == "advance" else ""
    print(f"Ledger clock {moved}now {stamp}", file=sys.stderr)
    return 0
