"""A backend server process for the crash test: ``python run_backend.py DB_URL PORT KEY HOOK_URL``.

The same app as ``python -m lumenlater_sdk.backend`` (``create_app`` under uvicorn),
with the compressed retry schedule and a short timeout so a lease runs out quickly.
Prints one JSON line (keys and webhook secret on the first start) when it serves.
"""

from __future__ import annotations

import json
import sys

from delivery_support import FAST_SCHEDULE

from lumenlater_sdk._serving import ThreadedServer
from lumenlater_sdk.backend.app import create_app
from lumenlater_sdk.backend.bootstrap import ensure_sandbox_merchant
from lumenlater_sdk.backend.config import BackendConfig


def main() -> None:
    url, port, key, hook = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    config = BackendConfig(
        database_url=url,
        port=port,
        secret_key=key,
        rate_limit=False,
        log_requests=False,
        delivery={"schedule": FAST_SCHEDULE, "timeout": 1.0, "lease_margin": 1.0},
    )
    app = create_app(config)
    creds = ensure_sandbox_merchant(app.backend, webhook_url=hook)
    server = ThreadedServer(app, port, name="backend").start()
    info = {}
    if creds is not None:
        info = {"secret_key": creds.secret_key, "webhook_secret": creds.webhook_secret}
    print(json.dumps(info), flush=True)
    server.join()


if __name__ == "__main__":
    main()
