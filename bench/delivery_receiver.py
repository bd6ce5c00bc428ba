"""Receivers for ``bench/delivery.py``, each in its own process, and their own capacity.

``webhook``: a real ``WebhookApp`` (signature check, typed event, in-memory dedupe,
async handler) under uvicorn, what a merchant runs. ``null``: a bare asyncio HTTP/1.1
server that answers 200 without parsing JSON or checking signatures, to show what the
worker does when the receiver costs (almost) nothing. Several processes share one
port through ``SO_REUSEPORT``; each also listens on its own control port, where
``GET /count`` and ``GET /latencies`` report what it handled (handler time minus the
``bench_t`` the event was inserted with).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from lumenlater_sdk._ports import free_port

__all__ = ["ReceiverGroup", "capacity", "free_port"]


def _listen(port: int, *, shared: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


_BENCH_T = re.compile(rb'"bench_t": *([0-9.]+)')


def _bench_t(body: bytes) -> float:
    m = _BENCH_T.search(body)
    return float(m.group(1)) if m else time.time()


async def _control(latencies: list[float], scope: Any, send: Any) -> None:
    payload: Any = len(latencies) if scope["path"] == "/count" else latencies
    body = json.dumps(payload).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _serve_webhook(shared: socket.socket, control: socket.socket, secret: str) -> None:
    import uvicorn

    from lumenlater_sdk.webhooks import WebhookApp

    latencies: list[float] = []
    hooks = WebhookApp(secret=secret)

    @hooks.on("*")
    async def handle(event: Any) -> None:
        latencies.append(time.time() - float(event.model_extra["bench_t"]))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            await _control(latencies, scope, send)
            return
        await hooks(scope, receive, send)

    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[shared, control])


class _NullProtocol(asyncio.Protocol):
    """Answers every request 200; GET /count and /latencies report."""

    def __init__(self, latencies: list[float]) -> None:
        self.latencies = latencies
        self.buf = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = self.buf[:end].lower()
            m = re.search(rb"content-length: *(\d+)", head)
            size = int(m.group(1)) if m else 0
            if len(self.buf) < end + 4 + size:
                return
            body, self.buf = self.buf[end + 4 : end + 4 + size], self.buf[end + 4 + size :]
            if head.startswith(b"get"):
                data_out = json.dumps(
                    len(self.latencies) if b" /count " in head else self.latencies
                ).encode()
            else:
                self.latencies.append(time.time() - _bench_t(body))
                data_out = b""
            self.transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(data_out) + data_out
            )
            if b"connection: close" in head:
                self.transport.close()
                return


def _serve_null(shared: socket.socket, control: socket.socket) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        for sock in (shared, control):
            await loop.create_server(lambda: _NullProtocol(latencies), sock=sock)
        await asyncio.Event().wait()

    asyncio.run(main())


def serve(kind: str, port: int, control_port: int, secret: str) -> None:
    """Child process entry point."""
    shared, control = _listen(port, shared=True), _listen(control_port, shared=False)
    if kind == "null":
        _serve_null(shared, control)
    else:
        _serve_webhook(shared, control, secret)


def _get(port: int, path: str) -> Any:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(1 << 20):
            data += chunk
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


class ReceiverGroup:
    """*n* receiver processes of *kind* on one port; ``url`` is what endpoints point at."""

    def __init__(self, kind: str, n: int, secret: str, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.controls = [free_port() for _ in range(n)]
        self.procs = [
            subprocess.Popen(
                [sys.executable, __file__, kind, str(self.port), str(c), secret],
                env={**os.environ, "PYTHONPATH": os.getcwd()},
            )
            for c in self.controls
        ]
        deadline = time.monotonic() + 30
        try:
            for c in self.controls:
                while True:
                    try:
                        _get(c, "/count")
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
        except BaseException:
            self.close()
            raise

    def count(self) -> int:
        return sum(self.counts())

    def counts(self) -> list[int]:
        """Events handled so far by each receiver process."""
        return [int(_get(c, "/count")) for c in self.controls]

    def latencies(self, after: list[int] | None = None) -> list[float]:
        """Handler latencies (s), skipping each process's first ``after[i]``."""
        skip = after or [0] * len(self.controls)
        pairs = zip(self.controls, skip, strict=True)
        return [x for c, k in pairs for x in _get(c, "/latencies")[k:]]

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.procs:
            with open(f"/proc/{p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def close(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(10)


_LUA = r"""
local requests, n, counter = {}, 0, 0
function init(args)
  for line in io.lines(args[1]) do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    n = n + 1
    requests[n] = wrk.format("POST", "/hooks", {["Content-Type"] = "application/json",
      ["X-LumenLater-Signature"] = sig}, body)
  end
  counter = math.random(n)
end
function request()
  counter = counter % n + 1
  return requests[counter]
end
"""


def capacity(kind: str, n: int, *, seconds: int = 4, connections: int = 32) -> tuple[float, float]:
    """The receiver group's own (requests/s, server CPU µs per request), driven by wrk.

    Distinct signed events, so every request runs the handler (nothing is deduped).
    """
    from lumenlater_sdk.webhooks import sign
    from lumenlater_sdk.webhooks.testing import make_event

    secret = "whsec_capacity"
    group = ReceiverGroup(kind, n, secret)
    try:
        with tempfile.TemporaryDirectory() as work:
            with open(os.path.join(work, "post.lua"), "w") as f:
                f.write(_LUA)
            t = int(time.time())
            with open(os.path.join(work, "requests.tsv"), "w") as f:
                for _ in range(60_000):
                    ev = make_event("bill.paid")
                    ev["bench_t"] = time.time()
                    body = json.dumps(ev, separators=(",", ":"))
                    f.write(f"{sign(body, secret, t)}\t{body}\n")
            cpu0 = group.cpu_seconds()
            lua, requests = os.path.join(work, "post.lua"), os.path.join(work, "requests.tsv")
            cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", lua, group.url]
            out = subprocess.run(
                [*cmd, "--", requests],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            cpu = group.cpu_seconds() - cpu0
    finally:
        group.close()
    if "Non-2xx" in out:
        raise RuntimeError(f"receiver answered non-2xx under load:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    assert rate and total, out
    return float(rate.group(1)), cpu / int(total.group(1)) * 1e6


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
