"""``lumenlater trigger TYPE [--override OBJECT:FIELD=VALUE ...]``: make the sandbox
produce an event of that type, optionally shaping the object it makes for it.

The event the API answers prints on stdout as JSON (or ``--format table``), like every
resource command, so ``lumenlater trigger bill.paid | jq -r .id`` gives its id; the
line saying what was triggered goes to stderr."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..types import EVENT_TYPES
from ._format import add_format_option, render_object
from ._params import AMOUNT_HELP, ParamError, parse_amount, parse_data

__all__ = ["add_connection_options", "register"]


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--api-key`` and ``--base-url`` (defaults: the LUMENLATER_* variables, local sandbox)."""
    parser.add_argument("--api-key", help="secret key (default: $LUMENLATER_API_KEY)", default=None)
    parser.add_argument(
        "--base-url",
        help="API root (default: $LUMENLATER_BASE_URL or http://127.0.0.1:8787)",
        default=None,
    )


def parse_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["bill:amount=12.50", "bill:metadata[k]=v"]`` →
    ``{"bill": {"amount": 125000000, "metadata": {"k": "v"}}}`` (amounts as on every
    command: decimals are USDC, whole numbers stroops)."""
    by_object: dict[str, list[str]] = {}
    for item in items:
        obj, sep, rest = item.partition(":")
        if not sep or not obj or "=" not in rest:
            raise ParamError(
                f"--override takes OBJECT:FIELD=VALUE (bill:amount=12.50), not {item!r}"
            )
        by_object.setdefault(obj.strip(), []).append(rest)
    out: dict[str, dict[str, Any]] = {}
    for obj, pairs in by_object.items():
        fields = parse_data(pairs)
        if "amount" in fields:
            if not isinstance(fields["amount"], str):
                raise ParamError(f"{obj}:amount takes one value")
            fields["amount"] = parse_amount(fields["amount"], f"{obj}:amount")
        out[obj] = fields
    return out


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError
    from ._signatures import missing_api_key, print_api_error

    try:
        overrides = parse_overrides(args.override)
    except ParamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if missing_api_key(args.api_key):
        return 1
    try:
        with LumenLater(api_key=args.api_key, base_url=args.base_url) as client:
            event = client.test_helpers.events.trigger(type=args.type, overrides=overrides or None)
    except LumenLaterError as exc:
        print_api_error(exc, f"trigger {args.type}")
        return 1
    answer = event.to_dict()
    print(render_object(answer, args.format))
    print(f"Triggered {args.type}: {answer.get('id', '(no id)')}", file=sys.stderr)
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
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="OBJECT:FIELD=VALUE",
        help="a field of the object the trigger makes, repeatable: OBJECT is bill (bill.* "
        "events) or checkout_session (checkout.session.*, payment.failed); FIELD is amount "
        f"({AMOUNT_HELP}), order_id, description or metadata[KEY]",
    )
    add_format_option(parser)
    add_connection_options(parser)
    parser.set_defaults(func=_run)
