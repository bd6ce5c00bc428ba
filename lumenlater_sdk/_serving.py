"""Serve an ASGI app with uvicorn on a loopback port from a background thread.

The sandbox test helper, ``lumenlater listen``'s relay and the test suites' receivers
all need the same thing: start, wait until uvicorn accepts connections (or fail
clearly), and later stop and join.
"""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["ThreadedServer"]


class ThreadedServer:
    """uvicorn serving *app* on ``127.0.0.1:port`` in a daemon thread.

    Extra keyword arguments go to ``uvicorn.Config`` (``lifespan=``, ``interface=``...).
    """

    def __init__(self, app: Any, port: int, *, name: str = "server", **config: Any) -> None:
        import uvicorn  # a backend extra: imported only when a server is started

        config.setdefault("log_level", "warning")
        self.port = port
        self.name = name
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)

    def start(self, timeout: float = 30.0) -> ThreadedServer:
        """Start serving; return once connections are accepted, or raise ``RuntimeError``."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def join(self) -> None:
        """Block until the server stops on its own (e.g. a signal)."""
        self._thread.join()
