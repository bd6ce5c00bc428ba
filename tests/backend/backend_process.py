"""The backend as a user starts it: ``python -m lumenlater_sdk.backend`` in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lumenlater_sdk._ports import free_port, wait_for_port


@dataclass
class BackendProcess:
    """A running backend process: where it listens and what it printed."""

    proc: subprocess.Popen[str]
    base_url: str
    secret_key: str | None
    output: list[str] = field(default_factory=list)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit status (the wait is generous: timings are a bench's)."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def backend_command(database_url: str, key_file: Path, *args: str) -> list[str]:
    """The command line of a sandbox backend on *database_url*."""
    return [
        sys.executable,
        "-m",
        "lumenlater_sdk.backend",
        "--database-url",
        database_url,
        "--secret-key-file",
        str(key_file),
        *args,
    ]


@contextmanager
def backend_process(
    database_url: str, key_file: Path, *args: str, startup: float = 120
) -> Iterator[BackendProcess]:
    """Start a backend on a free port and wait until it listens; killed if still running
    on exit. Its stdout is collected in the background (``output``)."""
    port = free_port()
    proc = subprocess.Popen(
        backend_command(database_url, key_file, "--port", str(port), *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    listening = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "listening on" in line:
                listening.set()
        listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # "listening on" is printed just before the server binds its port.
        started = listening.wait(startup) and wait_for_port(port, timeout=startup)
        if not started or proc.poll() is not None:
            raise AssertionError("the backend did not start:\n" + "".join(lines))
        key = next(
            (line.split()[-1] for line in lines if line.strip().startswith("secret key")), None
        )
        yield BackendProcess(proc, f"http://127.0.0.1:{port}", key, lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        reader.join(10)
