"""Resource commands: ``lumenlater bills list``, ``lumenlater events get evt_…``, ...

Each command calls the SDK client method of the same name and prints the result
as JSON (a list prints one object per line, auto-paginating up to ``--max``).
Parameters are given as ``-d name=value``; a value that parses as JSON (numbers,
lists, objects) is sent as such, anything else as a string. Amounts are integer
stroops, as everywhere in the API.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from typing import Any

from ._trigger import add_connection_options

__all__ = ["COMMANDS", "register"]

COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "account": ("account", ("get",)),
    "bills": ("bills", ("list", "get", "create", "cancel")),
    "chain": ("chain", ("get",)),
    "checkout_sessions": ("checkout.sessions", ("list", "get", "create", "expire")),
    "events": ("events", ("list", "get", "resend")),
    "webhook_endpoints": (
        "webhook_endpoints",
        ("list", "get", "create", "update", "delete", "rotate_secret", "deliveries"),
    ),
    "wallets": ("test_helpers.wallets", ("list", "get", "create")),
    "merchants": ("test_helpers.merchants", ("create", "approve", "suspend", "reject")),
}
"""CLI resource name → (client attribute path, actions)."""

_NEEDS_ID = {
    "get",
    "cancel",
    "expire",
    "resend",
    "update",
    "delete",
    "rotate_secret",
    "deliveries",
    "approve",
    "suspend",
    "reject",
}
_LISTS = {"list", "deliveries"}
_SINGLETONS = {"account", "chain"}  # one per API key: ``get`` takes no id


def register(subparsers: Any) -> None:
    """Add one subcommand per resource, each with its actions."""
    for name, (_, actions) in COMMANDS.items():
        parser = subparsers.add_parser(name, help=f"{name}: {', '.join(actions)}")
        parser.add_argument("action", choices=actions)
        parser.add_argument("id", nargs="?", help="object id (get, cancel, ...)")
        parser.add_argument(
            "-d", "--data", action="append", default=[], metavar="NAME=VALUE", help="a parameter"
        )
        parser.add_argument("--max", type=int, default=100, help="most list items to print")
        add_connection_options(parser)
        parser.set_defaults(func=_run, resource=name)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``["amount=5", "order_id=o-1"]`` → ``{"amount": 5, "order_id": "o-1"}``."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected NAME=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        # A float is never money: keep "12.5" as text, the API will say what it wants.
        params[key] = raw if isinstance(value, float) else value
    return params


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    path, _ = COMMANDS[args.resource]
    needs_id = args.action in _NEEDS_ID and args.resource not in _SINGLETONS
    if needs_id and not args.id:
        print(f"usage: lumenlater {args.resource} {args.action} ID", file=sys.stderr)
        return 2
    try:
        params = parse_params(args.data)
        with LumenLater(api_key=args.api_key, base_url=args.base_url) as client:
            target: Any = client
            for part in path.split("."):
                target = getattr(target, part)
            method = getattr(target, "retrieve" if args.action == "get" else args.action)
            positional = [args.id] if needs_id else []
            result = method(*positional, **params)
            if args.action in _LISTS:
                for item in itertools.islice(result, args.max):
                    print(json.dumps(item.to_dict()))
            else:
                print(json.dumps(result.to_dict(), indent=2))
    except (LumenLaterError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
