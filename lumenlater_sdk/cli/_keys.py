"""``lumenlater keys``: show the sandbox's test keys again, or roll its secret key.

It opens the sandbox's database itself (``--database-url`` / ``DATABASE_URL`` and the
sealing key of ``--secret-key-file``, as ``lumenlater sandbox`` does), so a lost key
never means starting over with a fresh database, and it works whether or not the
sandbox is running. Test keys are kept sealed beside their hash for this; live keys
never are.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._sandbox import backend_config

__all__ = ["register", "run"]

_HOME = Path("~/.lumenlater")
_MAX_EXPIRES_IN = 7 * 86400
_LABEL = {"secret": "secret key", "publishable": "publishable key"}


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if not 0 <= value <= _MAX_EXPIRES_IN:
        raise argparse.ArgumentTypeError(f"must be from 0 to {_MAX_EXPIRES_IN} (7 days)")
    return value


def register(subparsers: Any) -> None:
    """Add the ``keys`` subcommand."""
    parser = subparsers.add_parser(
        "keys",
        help="show the sandbox's test keys again (--roll: a new secret key)",
        description="Print the sandbox merchant's test keys, read from the sandbox's "
        "database (running or not). --roll replaces the secret key.",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="the sandbox's database (default: $DATABASE_URL or "
        "sqlite:///~/.lumenlater/sandbox.db)",
    )
    parser.add_argument(
        "--secret-key-file",
        default=str(_HOME / "secret.key"),
        help="the sandbox's sealing key (default: ~/.lumenlater/secret.key)",
    )
    parser.add_argument(
        "--database-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for PostgreSQL to accept a connection (default 5)",
    )
    parser.add_argument(
        "--roll",
        action="store_true",
        help="replace the test secret key with a new one and print it",
    )
    parser.add_argument(
        "--expires-in",
        type=_seconds,
        default=0,
        metavar="SECONDS",
        help="with --roll: how long the old key keeps working (default 0: it stops now; "
        "at most 604800, 7 days)",
    )
    parser.set_defaults(func=run, sandbox_delivery=False, log_level="warning")


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _line(key: dict[str, Any]) -> str:
    label = _LABEL.get(key["type"], key["type"])
    shown = key.get("secret") or f"…{key['hint']} (cannot be shown: roll it for a new one)"
    note = f"  until {_when(key['expires_at'])}" if key["status"] == "expiring" else ""
    name = f"  ({key['name']})" if key.get("name") else ""
    return f"  {label:<16} {shown}  {key['id']}{note}{name}"


def _storage_missing(args: argparse.Namespace) -> str | None:
    # Opening a database that is not there would make a new, empty sandbox (and a new
    # sealing key file): say where the sandbox was looked for instead.
    if not Path(args.secret_key_file).expanduser().is_file():
        return f"no sealing key at {args.secret_key_file}"
    url = args.database_url or os.environ.get("DATABASE_URL") or ""
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else None
    if not url:
        path = str(_HOME / "sandbox.db")
    if path is not None and not Path(path).expanduser().is_file():
        return f"no sandbox database at {path}"
    return None


def run(args: argparse.Namespace) -> int:
    """Print the keys (or roll the secret key); 1 with a message if there is no sandbox."""
    from ..backend.app import Backend
    from ..backend.bootstrap import roll_sandbox_key, sandbox_keys, sandbox_merchant_id

    missing = _storage_missing(args)
    if missing:
        raise SystemExit(
            f"lumenlater keys: {missing}; start `lumenlater sandbox` first, or pass the"
            " --database-url and --secret-key-file it runs with"
        )
    config = backend_config(args, run_delivery=False)
    try:
        backend = Backend(config)
    except (ValueError, ConnectionError) as exc:
        raise SystemExit(f"lumenlater keys: {exc}") from None
    try:
        merchant_id = sandbox_merchant_id(backend)
        if merchant_id is None:
            raise SystemExit(
                "lumenlater keys: this database has no sandbox merchant; start"
                " `lumenlater sandbox` on it first"
            )
        if args.roll:
            new = roll_sandbox_key(backend, merchant_id, expires_in=args.expires_in)
            print("Rolled the test secret key:")
            print(_line(new))
            if args.expires_in:
                until = _when(int(new["created"]) + args.expires_in)
                print(f"The old key keeps working until {until}.")
            else:
                print(
                    "The old key stopped working (a running sandbox refuses it within two seconds)."
                )
            print(f"  export LUMENLATER_API_KEY={new['secret']}")
            return 0
        keys = sandbox_keys(backend, merchant_id)
        print(f"Test keys of the sandbox merchant {merchant_id}:")
        for key in keys:
            print(_line(key))
        secret = next(
            (k["secret"] for k in reversed(keys) if k["type"] == "secret" and k.get("secret")),
            None,
        )
        if secret:
            print(f"  export LUMENLATER_API_KEY={secret}")
        return 0
    finally:
        backend.close()
