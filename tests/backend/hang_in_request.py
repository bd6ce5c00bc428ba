"""A backend whose keyed requests stop just before they commit, until it is killed.

``python hang_in_request.py DB_URL PORT SECRET_KEY``: the real app under uvicorn,
except that a keyed request, once its handler has run and its writes sit in the
open transaction, prints ``in-flight`` on stdout and waits forever instead of
storing its answer and committing. The test kills the process there (SIGKILL):
the request died before its state change committed, with its key held.
"""

from __future__ import annotations

import sys
import threading

import uvicorn

from lumenlater_sdk.backend.app import create_app
from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.services import idempotency


def hang_before_commit() -> None:
    """Make every unit announce itself and block where it would store its answer."""

    def complete(self: idempotency.Unit, status_code: int, body: bytes) -> None:
        print("in-flight", flush=True)
        threading.Event().wait()

    idempotency.Unit.complete = complete  # type: ignore[method-assign]


def main() -> None:
    url, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    config = BackendConfig(
        database_url=url,
        port=port,
        secret_key=key,
        rate_limit=False,
        log_requests=False,
        run_delivery=False,
        tick_interval=3600,
    )
    app = create_app(config)
    hang_before_commit()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
