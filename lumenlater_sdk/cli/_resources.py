"""Resource commands: ``lumenlater bills create``, ``lumenlater events get evt_…``, ...

Each command calls the SDK client method of the same name (``get`` is ``retrieve``).
Its parameters, their types and whether they are required come from that method's
signature (see :mod:`._signatures`), so ``lumenlater bills create --help`` always
matches the SDK. Give them as ``--name VALUE`` or ``-d name=VALUE``; nested ones the
Stripe CLI's way: ``-d 'line_items[0][name]=Mug' -d 'metadata[k]=v'``. Amounts with
a decimal point are USDC (``12.50``), whole numbers stroops. The answer prints as
JSON (a list as ``{"object": "list", "data": [...]}``), or ``--format table``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any

from ._format import add_format_option, render_list, render_object
from ._params import ParamError, parse_data
from ._signatures import COMMANDS, Command, command_spec, missing_api_key, print_api_error
from ._trigger import add_connection_options

__all__ = ["COMMANDS", "register"]


def register(subparsers: Any) -> None:
    """Add one subcommand per resource, and under it one per action."""
    for name, (_, _cls, actions) in COMMANDS.items():
        parser = subparsers.add_parser(
            name,
            help=f"{name.replace('_', ' ')}: {', '.join(actions)}",
            description=f"Call client.{COMMANDS[name][0]}.* (run with ACTION --help for "
            "its parameters).",
        )
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        for action in actions:
            _add_action(sub, command_spec(name, action))


def _add_action(sub: Any, cmd: Command) -> None:
    parser = sub.add_parser(
        cmd.action,
        help=cmd.summary,
        description=f"{cmd.summary}\n\n{cmd.sdk_call}",
        epilog="Give each parameter as --name VALUE or -d name=VALUE; nested ones as "
        "-d 'name[key]=VALUE', -d 'name[0][key]=VALUE' or -d 'name[]=VALUE'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if cmd.positional:
        parser.add_argument("id", metavar="ID", help=f"the object's id ({cmd.positional})")
    group = parser.add_argument_group(f"parameters of {cmd.title}")
    for p in cmd.params:
        flags = [f"--{p.name.replace('_', '-')}"]
        if "_" in p.name:
            flags.append(f"--{p.name}")
        # argparse formats help with %: the API's words may hold one ("90 %").
        help_text = p.help.replace("%", "%%")
        group.add_argument(*flags, dest=f"p_{p.name}", metavar=p.metavar, help=help_text)
    parser.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter, repeatable; nested: name[key]=v, name[0][key]=v, name[]=v",
    )
    if cmd.is_list:
        parser.add_argument(
            "--max",
            type=int,
            default=100,
            help="most objects to print (pages are fetched as needed)",
        )
    add_format_option(parser)
    add_connection_options(parser)
    parser.set_defaults(func=_run, command_spec=cmd)


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    cmd: Command = args.command_spec
    try:
        given = parse_data(args.data)
        for p in cmd.params:
            flag = getattr(args, f"p_{p.name}", None)
            if flag is not None:
                if p.name in given:
                    raise ParamError(f"{p.name} is given both as --{p.name} and with -d")
                given[p.name] = flag
        params = cmd.convert(given)
    except ParamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if missing_api_key(args.api_key):
        return 1
    try:
        with LumenLater(api_key=args.api_key, base_url=args.base_url) as client:
            method = cmd.bind(client)
            result = method(*([args.id] if cmd.positional else []), **params)
            if cmd.is_list:
                items = [i.to_dict() for i in itertools.islice(result, args.max + 1)]
                print(render_list(items[: args.max], len(items) > args.max, args.format))
            else:
                print(render_object(result.to_dict(), args.format))
    except LumenLaterError as exc:
        print_api_error(exc, cmd.title)
        return 1
    except (TypeError, ValueError) as exc:  # the SDK's own checks, before any request
        print(f"error: {cmd.title}: {exc}", file=sys.stderr)
        return 1
    if cmd.resource == "events" and cmd.action == "resend":
        target = params.get("endpoint") or "every endpoint subscribed to it"
        print(
            f"Queued {args.id} for delivery again to {target}; follow it with "
            "`lumenlater webhook_endpoints deliveries we_…`",
            file=sys.stderr,
        )
    return 0
