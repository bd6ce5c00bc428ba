"""A server in a child process for the benches: started, waited for until ``/healthz``
answers 200, stopped when the block ends.

:func:`child_server` runs any command that serves on a given port (backend_load.py's
own script with its workers and credentials file); :func:`served` is the common case,
the bundled backend under uvicorn with a :class:`BackendConfig` built from keywords.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from lumenlater_sdk._ports import free_port

__all__ = ["Served", "child_server", "served"]


@contextmanager
def child_server(
    cmd: Sequence[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    ready: Callable[[], bool] = lambda: True,
    timeout: float = 300.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """*cmd* in a child process, once ``GET /healthz`` on 127.0.0.1:*port* answers 200
    and *ready()* holds; terminated when the block ends. A child that exits or does not
    answer within *timeout* seconds ends the bench (the figures would be meaningless)."""
    proc = subprocess.Popen(list(cmd), env=None if env is None else dict(env), cwd=cwd)
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                sys.exit(f"the server exited with {proc.returncode}")
            try:
                if ready() and httpx.get(health).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                sys.exit("the server did not start")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


class Served(NamedTuple):
    """A backend served by :func:`served`: its base URL and process id."""

    base: str
    pid: int


# Run from a directory of its own, so nothing in the caller's working directory
# shadows a module it imports.
_BACKEND = """
import json, os
import uvicorn
from lumenlater_sdk.backend import BackendConfig, create_app

config = BackendConfig(**json.loads(os.environ["BENCH_CONFIG"]))
uvicorn.run(create_app(config), host="127.0.0.1", port=config.port, log_level="warning",
            access_log=False)
"""


@contextmanager
def served(db_url: str, key: str, **settings: Any) -> Iterator[Served]:
    """The backend on *db_url* (sealing key *key*) under uvicorn in a child process.

    Rate limits, request logs and webhook delivery are off unless *settings* (further
    :class:`BackendConfig` fields, JSON values) say otherwise."""
    port = free_port()
    config = {
        "rate_limit": False,
        "log_requests": False,
        "run_delivery": False,
        **settings,
        "database_url": db_url,
        "secret_key": key,
        "port": port,
    }
    with tempfile.TemporaryDirectory(prefix="ll-bench-srv-") as tmp:
        (Path(tmp) / "server.py").write_text(_BACKEND)
        env = {**os.environ, "BENCH_CONFIG": json.dumps(config)}
        cmd = [sys.executable, str(Path(tmp) / "server.py")]
        with child_server(cmd, port, env=env, cwd=tmp) as proc:
            yield Served(f"http://127.0.0.1:{port}", proc.pid)
