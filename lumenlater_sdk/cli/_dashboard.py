"""``lumenlater dashboard``: print (or open) a one-time link into the sandbox dashboard."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ._trigger import add_connection_options

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``dashboard`` subcommand."""
    parser = subparsers.add_parser(
        "dashboard",
        help="print a one-time sign-in link to the sandbox dashboard",
        description="The link opens the dashboard signed in as the key's account. It works "
        "once, within 10 minutes; the dashboard's sign-in page also takes the test secret key.",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the link in the default web browser"
    )
    add_connection_options(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    try:
        with LumenLater(api_key=args.api_key, base_url=args.base_url) as client:
            link = client.test_helpers.dashboard_links.create()
    except LumenLaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    until = time.strftime("%H:%M:%S UTC", time.gmtime(link.expires_at))
    print(link.url)
    print(f"(works once, until {until})", file=sys.stderr)
    if args.open:
        import webbrowser

        webbrowser.open(link.url)
    return 0
