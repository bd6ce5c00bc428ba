"""``lumenlater worker``: deliver webhooks in a process of its own.

On PostgreSQL any number of workers (and backend processes) share the outbox:
rows are claimed under a lease with ``SKIP LOCKED``, and commits wake every
worker through ``LISTEN``. Start the API with ``lumenlater sandbox --no-delivery``
to leave all delivery to them. SIGTERM or Ctrl-C stops claiming; attempts in
flight get two seconds to finish, and the rest are handed back untried.
"""

from __future__ import annotations

import argparse
import signal
from typing import Any

from ._sandbox import add_storage_arguments, backend_config, configure_logging

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``worker`` subcommand."""
    parser = subparsers.add_parser(
        "worker",
        help="deliver webhooks in a separate process (several share one PostgreSQL database)",
    )
    add_storage_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Deliver until SIGTERM or SIGINT."""
    from ..backend.app import Backend

    configure_logging(args)
    config = backend_config(args, run_delivery=True)
    try:  # the schema is migrated and the chain set up, as the API does
        backend = Backend(config)
    except ConnectionError as exc:  # the database does not answer: one line, no traceback
        raise SystemExit(f"lumenlater worker: {exc}") from None
    try:
        worker = backend.worker
        assert worker is not None  # run_delivery with a secret key always makes one
        where = config.database_url.split("@")[-1]
        worker.run(
            on_started=lambda: print(f"LumenLater worker delivering from {where}", flush=True),
            stop_signals=(signal.SIGTERM, signal.SIGINT),
        )
    finally:
        backend.close()
    return 0
