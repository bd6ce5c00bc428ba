"""A backend that dies like a killed process right after committing a new bill.

``python crash_after_commit.py DB_URL PORT SECRET_KEY``: the real app under uvicorn,
except that the first write transaction after whose commit a bill exists is
followed by SIGKILL to this process: the state change is durable and no byte of
the HTTP response has left. That is the window in which a crash used to leave the
Idempotency-Key "running" with a bill behind it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from lumenlater_sdk.backend.app import create_app
from lumenlater_sdk.backend.config import BackendConfig


def kill_after_bill_commit(db: Any) -> None:
    """Patch *db*'s class so that the first commit leaving a bill behind is followed by SIGKILL."""
    cls = type(db)
    original = cls.transaction

    @contextmanager
    def transaction(self: Any, *, write: bool = True) -> Iterator[Any]:
        with original(self, write=write) as tx:
            yield tx
        if write:
            with original(self, write=False) as check:
                if check.scalar("SELECT COUNT(*) FROM bills"):  # committed: die right now
                    os.kill(os.getpid(), signal.SIGKILL)

    cls.transaction = transaction


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
    kill_after_bill_commit(app.backend.db)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
