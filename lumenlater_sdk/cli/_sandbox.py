"""``lumenlater sandbox``: run the bundled backend locally (SQLite by default)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "register", "serve"]

_HOME = Path("~/.lumenlater")


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` subcommand."""
    parser = subparsers.add_parser("sandbox", help="run the local LumenLater backend")
    _add_arguments(parser)
    parser.set_defaults(func=serve)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: $DATABASE_URL or sqlite:///~/.lumenlater/sandbox.db",
    )
    parser.add_argument("--no-rate-limit", action="store_true", help="turn rate limits off")
    parser.add_argument(
        "--webhook-url",
        default="http://127.0.0.1:5000/webhooks/lumenlater",
        help="where the sandbox merchant's first webhook endpoint points",
    )
    parser.add_argument("--secret-key-file", default=str(_HOME / "secret.key"))
    parser.add_argument("--public-url", default=None, help="base URL browsers use")
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--sandbox-delivery",
        action="store_true",
        help="compress the webhook retry schedule to about a minute",
    )


def serve(args: argparse.Namespace) -> int:
    """Start the server; on the first start print the test merchant's keys."""
    import uvicorn

    from ..backend.app import create_app
    from ..backend.bootstrap import ensure_sandbox_merchant, load_or_create_secret_key
    from ..backend.config import BackendConfig
    from ..backend.observability import JsonFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("lumenlater")
    root.addHandler(handler)
    root.setLevel(args.log_level.upper())
    url = (
        args.database_url
        or os.environ.get("DATABASE_URL")
        or ("sqlite:///" + str((_HOME / "sandbox.db").expanduser()))
    )
    delivery: dict[str, Any] = {}
    if args.sandbox_delivery:
        from ..backend.delivery import SANDBOX_SCHEDULE

        delivery["schedule"] = SANDBOX_SCHEDULE
    config = BackendConfig(
        database_url=url,
        host=args.host,
        port=args.port,
        rate_limit=not args.no_rate_limit,
        secret_key=load_or_create_secret_key(Path(args.secret_key_file)),
        public_base_url=args.public_url,
        delivery=delivery,
        log_requests=args.log_level.lower() == "debug",
    )
    app = create_app(config)
    creds = ensure_sandbox_merchant(app.backend, webhook_url=args.webhook_url)
    if creds is not None:
        print("LumenLater sandbox: created the test merchant (keys are shown only once)")
        print(f"  merchant         {creds.merchant_id}  (Sandbox Shop)")
        print(f"  secret key       {creds.secret_key}")
        print(f"  publishable key  {creds.publishable_key}")
        if creds.webhook_secret:
            print(f"  webhook secret   {creds.webhook_secret}  -> {args.webhook_url}")
    print(
        f"LumenLater sandbox listening on {config.base_url} (database: {url.split('@')[-1]})",
        flush=True,
    )
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lumenlater_sdk.backend``."""
    parser = argparse.ArgumentParser(prog="python -m lumenlater_sdk.backend")
    _add_arguments(parser)
    return serve(parser.parse_args(argv))
