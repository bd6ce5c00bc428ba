"""A delivery worker process for the multi-process tests:
``python run_worker.py DB_URL [ENDPOINT_CONCURRENCY [TIMEOUT]]``.

Runs until SIGTERM; prints ``ready`` once started.
"""

from __future__ import annotations

import signal
import sys

from delivery_support import FAST_SCHEDULE, SECRET_KEY

from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.delivery import DeliveryWorker


def main() -> None:
    options = {"endpoint_concurrency": int(sys.argv[2])} if len(sys.argv) > 2 else {}
    with (
        connect(sys.argv[1]) as db,
        DeliveryWorker(
            db,
            secret_key=SECRET_KEY,
            schedule=FAST_SCHEDULE,
            timeout=float(sys.argv[3]) if len(sys.argv) > 3 else 2.0,
            poll_interval=0.05,
            batch_size=20,
            lease_margin=1.0,
            **options,
        ) as worker,
    ):
        worker.run(
            on_started=lambda: print("ready", flush=True),
            stop_signals=(signal.SIGTERM, signal.SIGINT),
        )


if __name__ == "__main__":
    main()
