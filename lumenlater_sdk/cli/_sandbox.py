"""``lumenlater sandbox``: run the bundled backend locally (SQLite by default)."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backend.config import BackendConfig

__all__ = [
    "add_storage_arguments",
    "backend_config",
    "check_port",
    "configure_logging",
    "keys_command",
    "main",
    "register",
    "serve",
    "worker_app",
]

_HOME = Path("~/.lumenlater")
# How ``serve`` hands its arguments to worker processes (uvicorn starts them fresh).
_ARGS_ENV = "LUMENLATER_SANDBOX_ARGS"
WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn's supervisor waits for a worker to answer its ping before killing
it. A spawned worker answers only once it has imported the backend; uvicorn's default
(5 s) is less than that takes on a busy machine, and a worker killed for it is started
again, killed again, for ever: the server never answered (seen with 2 workers at load 10)."""


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` subcommand."""
    parser = subparsers.add_parser(
        "sandbox",
        help="run the local LumenLater backend",
        description="Run the bundled backend: the API, the hosted checkout, the dashboard and "
        "webhook delivery, on SQLite (default) or PostgreSQL, with a local sandbox ledger. "
        "Each option's default is given with it.",
    )
    _add_arguments(parser)
    parser.set_defaults(func=serve)


def add_storage_arguments(parser: argparse.ArgumentParser) -> None:
    """What every process of one backend shares: its database, sealing key and schedule."""
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="sqlite:///PATH or postgresql://USER:PASS@HOST/DB (default: $DATABASE_URL, else "
        "sqlite:///~/.lumenlater/sandbox.db)",
    )
    parser.add_argument(
        "--secret-key-file",
        default=str(_HOME / "secret.key"),
        metavar="PATH",
        help="the key that seals stored secrets (webhook secrets, wallet and managed "
        "merchant seeds, test keys); made on first start, keep it with the database "
        "(default: ~/.lumenlater/secret.key)",
    )
    parser.add_argument(
        "--database-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long start waits for PostgreSQL to accept a connection (default 5)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        metavar="LEVEL",
        help="debug, info, warning or error: JSON log lines on stderr; debug also logs each "
        "request (default: info)",
    )
    parser.add_argument(
        "--sandbox-delivery",
        action="store_true",
        help="compress the webhook retry schedule (8 attempts over a day) to about a "
        "minute (default: off)",
    )


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage_arguments(parser)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on; 0.0.0.0 for every interface (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--port", type=int, default=8787, help="TCP port of the API (default: 8787)"
    )
    parser.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="turn rate limits off (default: on, see --rate-limit-rate)",
    )
    parser.add_argument(
        "--rate-limit-rate",
        type=float,
        default=None,
        metavar="PER_SECOND",
        help="requests per second per API key (per client address without one; default 100)",
    )
    parser.add_argument(
        "--rate-limit-burst",
        type=int,
        default=None,
        metavar="N",
        help="requests allowed at once before the rate applies (default 200)",
    )
    parser.add_argument(
        "--rate-limit-store",
        default=None,
        metavar="redis://HOST:PORT/DB",
        help="share rate limits between processes in this Redis "
        "(env LUMENLATER_RATE_LIMIT_STORE; default: each process's memory)",
    )
    parser.add_argument(
        "--webhook-url",
        default=None,
        metavar="URL",
        help="register a webhook endpoint at URL for the sandbox merchant (once: restarts "
        "reuse it) and print its secret; default: none (`lumenlater listen` registers one "
        "while it runs)",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="base URL browsers use for the hosted pages and printed links, when it is not "
        "http://HOST:PORT (behind a proxy or tunnel; default: http://HOST:PORT)",
    )
    parser.add_argument(
        "--no-delivery",
        action="store_true",
        help="deliver no webhooks in this process (leave it to `lumenlater worker` "
        "processes; default: this process delivers)",
    )
    parser.add_argument(
        "--soroban-rpc",
        action="store_true",
        default=None,
        help="also serve Soroban JSON-RPC at /soroban/rpc and /friendbot "
        "(standalone network; env LUMENLATER_SOROBAN_RPC; default: off)",
    )
    chain = parser.add_argument_group("chain (default: the local sandbox ledger)")
    chain.add_argument(
        "--chain",
        choices=["local", "soroban"],
        default=None,
        help="local: the contracts in-process; soroban: a Soroban RPC endpoint "
        "(env LUMENLATER_CHAIN; default: local, or soroban when --network is given)",
    )
    chain.add_argument(
        "--network",
        choices=["testnet"],
        default=None,
        help="preset RPC URL, passphrase and contract ids (env LUMENLATER_NETWORK; default: none)",
    )
    chain.add_argument(
        "--rpc-url",
        default=None,
        metavar="URL",
        help="the Soroban RPC endpoint of --chain soroban (env LUMENLATER_RPC_URL; default: "
        "--network's)",
    )
    chain.add_argument(
        "--network-passphrase",
        default=None,
        metavar="TEXT",
        help="the network's passphrase, which every signature covers (env "
        "LUMENLATER_NETWORK_PASSPHRASE; default: --network's)",
    )
    chain.add_argument(
        "--contracts",
        default=None,
        metavar="bnpl_core=C…,lp_token=C…,usdc=C…",
        help="the deployed contract ids (env LUMENLATER_CONTRACTS; default: --network's)",
    )
    chain.add_argument(
        "--source-secret-file",
        default=None,
        metavar="PATH",
        help="file holding the fee-paying account's secret seed (env "
        "LUMENLATER_SOURCE_SECRET_FILE; default: none, needed by --chain soroban)",
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=1.5,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT: at most this long to finish, half for requests in flight, "
        "half for webhook deliveries in flight (default 1.5)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes sharing the port (more CPU for the API; best with PostgreSQL, "
        "since SQLite still runs one write at a time; default: 1)",
    )


def configure_logging(args: argparse.Namespace) -> None:
    """JSON log lines on stderr at ``--log-level``."""
    from ..backend.observability import JsonFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("lumenlater")
    root.addHandler(handler)
    root.setLevel(args.log_level.upper())


def backend_config(args: argparse.Namespace, **overrides: Any) -> BackendConfig:
    """The :class:`BackendConfig` of :func:`add_storage_arguments`'s options, then
    *overrides* (the secret key file is made on first use)."""
    from ..backend.bootstrap import load_or_create_secret_key
    from ..backend.config import BackendConfig

    url = (
        args.database_url
        or os.environ.get("DATABASE_URL")
        or ("sqlite:///" + str((_HOME / "sandbox.db").expanduser()))
    )
    delivery: dict[str, Any] = {}
    if args.sandbox_delivery:
        from ..backend.delivery import SANDBOX_SCHEDULE

        delivery["schedule"] = SANDBOX_SCHEDULE
    if getattr(args, "stop_timeout", None) is not None:
        # Unanswered deliveries are handed back to the outbox, to be retried later.
        delivery["drain_timeout"] = args.stop_timeout / 2
    try:
        secret_key = load_or_create_secret_key(Path(args.secret_key_file))
    except ValueError as exc:  # a refused key file: say why, without a traceback
        command = getattr(args, "command", None) or "sandbox"
        raise SystemExit(f"lumenlater {command}: {exc}") from None
    values: dict[str, Any] = {
        "database_url": url,
        "secret_key": secret_key,
        "delivery": delivery,
        "log_requests": args.log_level.lower() == "debug",
        "database_connect_timeout": args.database_timeout,
    }
    return BackendConfig(**{**values, **overrides})


def _api_config(args: argparse.Namespace) -> BackendConfig:
    """The sandbox's config: storage options plus the API server's own."""
    return backend_config(
        args,
        host=args.host,
        port=args.port,
        rate_limit=not args.no_rate_limit,
        rate_limit_store=args.rate_limit_store or os.environ.get("LUMENLATER_RATE_LIMIT_STORE"),
        **{
            name: value
            for name in ("rate_limit_rate", "rate_limit_burst")
            if (value := getattr(args, name)) is not None
        },
        public_base_url=args.public_url,
        run_delivery=not args.no_delivery,
        soroban_rpc=_soroban_rpc(args),
        **_chain_options(args),
    )


_CHAIN_ENV = {
    "chain": "LUMENLATER_CHAIN",
    "network": "LUMENLATER_NETWORK",
    "rpc_url": "LUMENLATER_RPC_URL",
    "network_passphrase": "LUMENLATER_NETWORK_PASSPHRASE",
    "contracts": "LUMENLATER_CONTRACTS",
    "source_secret_file": "LUMENLATER_SOURCE_SECRET_FILE",
}


def _chain_options(args: argparse.Namespace) -> dict[str, Any]:
    """The chain options: each from its flag, else its environment variable."""
    from ..backend.config import parse_contracts

    found: dict[str, Any] = {}
    for name, var in _CHAIN_ENV.items():
        value = getattr(args, name, None) or os.environ.get(var)
        if value:
            found[name] = value
    if found.get("network") and "chain" not in found:
        found["chain"] = "soroban"
    if found.get("chain", "local") not in ("local", "soroban"):
        raise SystemExit(
            f"lumenlater sandbox: chain must be local or soroban, not {found['chain']!r}"
        )
    if "contracts" in found:
        try:
            found["contracts"] = parse_contracts(found["contracts"])
        except ValueError as exc:
            raise SystemExit(f"lumenlater sandbox: {exc}") from None
    return found


def _soroban_rpc(args: argparse.Namespace) -> bool:
    if getattr(args, "soroban_rpc", None):
        return True
    return os.environ.get("LUMENLATER_SOROBAN_RPC", "").lower() in ("1", "true", "yes", "on")


def worker_app() -> Any:
    """The app of one ``--workers`` process (a uvicorn factory), configured like the parent."""
    from ..backend.app import create_app

    args = argparse.Namespace(**json.loads(os.environ[_ARGS_ENV]))
    configure_logging(args)
    return create_app(_api_config(args))


def keys_command(args: argparse.Namespace) -> str:
    """The ``lumenlater keys`` line that reads this sandbox's database (with the storage
    options given to this command)."""
    parts = ["lumenlater keys"]
    if args.database_url:
        parts.append(f"--database-url {args.database_url}")
    if Path(args.secret_key_file) != _HOME / "secret.key":
        parts.append(f"--secret-key-file {args.secret_key_file}")
    return " ".join(parts)


def _print_start(args: argparse.Namespace, config: BackendConfig, app: Any) -> None:
    """What every start prints: the first start's keys, the webhook endpoint if one was
    asked for, where the dashboard is and how to see the keys again."""
    from ..backend.bootstrap import (
        ensure_sandbox_merchant,
        ensure_sandbox_webhook,
        sandbox_merchant_id,
    )

    if app.backend.sandbox is None:  # a real chain's merchants are enrolled by their owners
        return
    creds = ensure_sandbox_merchant(app.backend, webhook_url=args.webhook_url)
    if creds is not None:
        print("LumenLater sandbox: created the test merchant")
        print(f"  merchant         {creds.merchant_id}  (Sandbox Shop)")
        print(f"  secret key       {creds.secret_key}")
        print(f"  publishable key  {creds.publishable_key}")
        if creds.webhook_secret:
            print(f"  webhook secret   {creds.webhook_secret}  -> {args.webhook_url}")
    elif args.webhook_url:
        merchant_id = sandbox_merchant_id(app.backend)
        if merchant_id is not None:
            hook = ensure_sandbox_webhook(app.backend, merchant_id, args.webhook_url)
            print(f"  webhook secret   {hook.secret}  -> {hook.url}")
    print(f"  dashboard        {config.base_url}/dashboard")
    print(f"  test keys        {keys_command(args)}   (shows them again; --roll for new ones)")
    if not args.webhook_url:
        print(
            "  webhooks         none registered: `lumenlater listen --forward-to URL`"
            " forwards them while it runs, or start with --webhook-url URL"
        )


def check_port(host: str, port: int) -> None:
    """Exit with one line when *host*:*port* cannot be listened on (another sandbox has
    it), before anything is printed or opened: else the start would print its keys and
    "listening on" and then die in uvicorn with "address already in use"."""
    if port == 0:  # any free port: nothing to check
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            # As uvicorn binds: a port left in TIME_WAIT by a stopped sandbox is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"lumenlater sandbox: port {port} on {host} is in use (another sandbox?); "
                "use --port N"
            ) from None
        raise SystemExit(
            f"lumenlater sandbox: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None


def serve(args: argparse.Namespace) -> int:
    """Start the server; print the test merchant's keys (first start), the dashboard URL
    and how to see the keys again (every start). A port in use ends it first, in one line."""
    import uvicorn

    from ..backend.app import create_app
    from ..backend.chain import ChainUnavailableError

    check_port(args.host, args.port)
    configure_logging(args)
    config = _api_config(args)
    url = config.database_url
    try:
        app = create_app(config)
    # A configuration to fix or a database that does not answer: one line, no traceback.
    except (ValueError, ChainUnavailableError, ConnectionError) as exc:
        raise SystemExit(f"lumenlater sandbox: {exc}") from None
    _print_start(args, config, app)
    print(
        f"LumenLater sandbox listening on {config.base_url} (database: {url.split('@')[-1]})",
        flush=True,
    )
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
        # Requests still running then are cancelled: a cut-off request commits whole or
        # not at all (the same Idempotency-Key runs it again), never half.
        "timeout_graceful_shutdown": args.stop_timeout / 2,
    }
    if args.workers <= 1:
        uvicorn.run(app, **options)
        return 0
    # Migrations, genesis and the merchant are done; each worker opens its own backend.
    app.backend.close()
    settings = {k: v for k, v in vars(args).items() if k != "func"}
    os.environ[_ARGS_ENV] = json.dumps(settings)
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        workers=args.workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **options,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lumenlater_sdk.backend``."""
    parser = argparse.ArgumentParser(prog="python -m lumenlater_sdk.backend")
    _add_arguments(parser)
    return serve(parser.parse_args(argv))
