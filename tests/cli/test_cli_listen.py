"""``lumenlater listen`` against a real sandbox and a real receiving app on loopback:
one secret per machine, retries, --print-json, --replay-from, and no endpoint left."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lumenlater_sdk import LumenLater
from lumenlater_sdk._ports import free_port
from lumenlater_sdk._serving import ThreadedServer
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox
from lumenlater_sdk.errors import NotFoundError
from lumenlater_sdk.webhooks import verify_signature

DELIVERY = {
    "schedule": (0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1),
    "timeout": 10.0,
    "poll_interval": 0.1,
}


class App:
    """The app under development: records each request, answers the next status queued
    in ``statuses`` (200 when none is)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.statuses: list[int] = []
        self.got: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        self._lock = threading.Lock()
        self._server = ThreadedServer(self, self.port, lifespan="off", interface="asgi3")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
        self.got.put((headers, body))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def next(self) -> tuple[dict[str, str], bytes]:
        return self.got.get(timeout=30)


@pytest.fixture
def app() -> Iterator[App]:
    a = App()
    a._server.start()
    yield a
    a._server.stop()


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[SandboxHandle]:
    with run_sandbox(
        f"sqlite:///{tmp_path / 'sandbox.db'}", webhook_url=None, delivery=DELIVERY
    ) as handle:
        yield handle


class Listen:
    """``lumenlater listen`` running in the background, its output read line by line."""

    def __init__(self, sb: SandboxHandle, home: Path, *args: str) -> None:
        env = {
            **os.environ,
            "HOME": str(home),
            "LUMENLATER_API_KEY": sb.secret_key,
            "LUMENLATER_BASE_URL": sb.base_url,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lumenlater_sdk.cli", "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.until("Ready!")
        self.secret = self.ready.split("secret is ", 1)[1].split()[0]
        forwarding = self.until("Forwarding")
        self.endpoint = forwarding.rsplit("endpoint ", 1)[1].rstrip(")\n")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def until(self, text: str) -> str:
        """The next output line containing *text* (lines before it are skipped)."""
        while True:
            try:
                line = self.lines.get(timeout=30)
            except queue.Empty:
                err = self.proc.stderr.read() if self.proc.poll() is not None else ""
                raise AssertionError(f"no line with {text!r}; {err}") from None
            if text in line:
                return line

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=20)
        return err


def _client(sb: SandboxHandle) -> LumenLater:
    return LumenLater(api_key=sb.secret_key, base_url=sb.base_url)


def test_one_secret_per_machine_and_no_endpoint_left(
    sb: SandboxHandle, app: App, tmp_path: Path
) -> None:
    first = Listen(sb, tmp_path, "--forward-to", app.url)
    state_file = tmp_path / ".lumenlater" / "listen.json"
    assert f"kept in {state_file}" in first.ready or "new, kept in" in first.ready
    assert first.secret.startswith("whsec_")
    assert json.loads(state_file.read_text())["secret"] == first.secret
    assert state_file.stat().st_mode & 0o077 == 0  # a signing secret: this user's only
    with _client(sb) as ll:
        event = ll.test_helpers.events.trigger(type="bill.created")
        headers, body = app.next()
        verify_signature(body, headers["x-lumenlater-signature"], first.secret)
        assert json.loads(body)["id"] == event.id
        assert "[200]" in first.until(event.id)
        first.stop()
        with pytest.raises(NotFoundError):  # deleted on exit: nothing retries forever
            ll.webhook_endpoints.retrieve(first.endpoint)
        assert json.loads(state_file.read_text())["endpoints"] == []
        again = Listen(sb, tmp_path, "--forward-to", app.url)
        assert again.secret == first.secret and "--new-secret rolls it" in again.ready
        again.stop()
        rolled = Listen(sb, tmp_path, "--forward-to", app.url, "--new-secret")
        assert rolled.secret != first.secret
        assert json.loads(state_file.read_text())["secret"] == rolled.secret
        rolled.stop()
        assert [e.description for e in ll.webhook_endpoints.list()] == []


def test_a_killed_listens_endpoint_is_removed_on_the_next_start(
    sb: SandboxHandle, app: App, tmp_path: Path
) -> None:
    running = Listen(sb, tmp_path, "--forward-to", app.url)
    killed = Listen(sb, tmp_path, "--forward-to", app.url)
    killed.proc.kill()  # no chance to clean up
    killed.proc.wait(timeout=20)
    with _client(sb) as ll:
        assert ll.webhook_endpoints.retrieve(killed.endpoint).status == "enabled"
        nxt = Listen(sb, tmp_path, "--forward-to", app.url)
        with pytest.raises(NotFoundError):
            ll.webhook_endpoints.retrieve(killed.endpoint)
        # A listen still running keeps its endpoint: several can run at once.
        assert {e.id for e in ll.webhook_endpoints.list()} == {running.endpoint, nxt.endpoint}
        nxt.stop()
        running.stop()
        assert list(ll.webhook_endpoints.list()) == []
    state = json.loads((tmp_path / ".lumenlater" / "listen.json").read_text())
    assert state["endpoints"] == []


def test_failed_forwards_are_retried_with_each_attempt_printed(
    sb: SandboxHandle, app: App, tmp_path: Path
) -> None:
    app.statuses = [503, 500]
    listen = Listen(sb, tmp_path, "--forward-to", app.url, "--print-json", "--events",
                    "bill.created")  # fmt: skip
    with _client(sb) as ll:
        event = ll.test_helpers.events.trigger(type="bill.created")
    bodies = [app.next()[1] for _ in range(3)]
    assert {json.loads(b)["id"] for b in bodies} == {event.id}
    assert '"type": "bill.created"' in listen.until('"type"')  # --print-json
    one = listen.until("attempt 1/3")
    assert "[503]" in one and "retrying in 0.5s" in one
    two = listen.until("attempt 2/3")
    assert "[500]" in two and "retrying in 1s" in two
    three = listen.until("attempt 3/3")
    assert "[200]" in three and "retrying" not in three
    listen.stop()
    # Attempts run out: the app's last answer is what the sandbox records (and retries).
    app.statuses = [503, 503]
    short = Listen(sb, tmp_path, "--forward-to", app.url, "--retries", "1")
    with _client(sb) as ll:
        ll.test_helpers.events.trigger(type="bill.created")
        last = short.until("attempt 2/2")
        assert "[503]" in last and "retrying" not in last
        short.stop()


def test_replay_from_resends_the_events_after_it(
    sb: SandboxHandle, app: App, tmp_path: Path
) -> None:
    with _client(sb) as ll:
        since = ll.test_helpers.events.trigger(type="bill.created")
        later = [ll.test_helpers.events.trigger(type=t) for t in ("bill.cancelled", "bill.created")]
        wanted = [e.id for e in ll.events.list() if e.id != since.id]
    assert later[-1].id in wanted
    listen = Listen(sb, tmp_path, "--forward-to", app.url, "--replay-from", since.id)
    assert f"Replaying {len(wanted)} event(s) after {since.id}" in listen.until("Replaying")
    got = [json.loads(app.next()[1])["id"] for _ in wanted]
    assert sorted(got) == sorted(wanted) and since.id not in got
    listen.stop()
    filtered = Listen(sb, tmp_path, "--forward-to", app.url, "--replay-from", since.id,
                      "--events", "bill.cancelled")  # fmt: skip
    assert "Replaying 1 event(s)" in filtered.until("Replaying")
    assert json.loads(app.next()[1])["type"] == "bill.cancelled"
    filtered.stop()
    unknown = subprocess.run(
        [sys.executable, "-m", "lumenlater_sdk.cli", "listen", "--forward-to", app.url,
         "--replay-from", "evt_nope"],
        env={**os.environ, "HOME": str(tmp_path), "LUMENLATER_API_KEY": sb.secret_key,
             "LUMENLATER_BASE_URL": sb.base_url},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert unknown.returncode == 1 and "resource_missing" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    with _client(sb) as ll:
        assert list(ll.webhook_endpoints.list()) == []  # removed on the error too
