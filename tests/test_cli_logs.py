"""``lumenlater logs tail`` against a real sandbox (SQLite and PostgreSQL), as a user
runs it: it prints each API request once, in order, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue

import pytest

from lumenlater_sdk import LumenLater
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox
from lumenlater_sdk.cli import _logs
from lumenlater_sdk.errors import NotFoundError
from lumenlater_sdk.types import RequestLog


@pytest.fixture(params=["sqlite", "postgresql"])
def sb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SandboxHandle]:
    url = (
        f"sqlite:///{tmp_path / 'sb.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    with run_sandbox(url, run_delivery=False, tick_interval=3600) as handle:
        yield handle


def _lines(proc: subprocess.Popen[str]) -> Queue[str]:
    lines: Queue[str] = Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _next(lines: Queue[str]) -> str:
    try:
        return lines.get(timeout=30)
    except Empty:
        raise AssertionError("logs tail printed nothing within 30 s") from None


def _stopped(proc: subprocess.Popen[str]) -> str:
    """Wait for the tail to exit and give its stderr. Its stdout stays with the pump
    thread (a second reader would race it); a hang is answered with SIGABRT, on which
    faulthandler prints every thread's stack into the failure."""
    assert proc.stderr is not None
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=10)
        raise AssertionError(
            f"logs tail still ran 30 s after Ctrl-C:\n{proc.stderr.read()}"
        ) from None
    return proc.stderr.read()


def test_tail_streams_new_requests_as_json_and_stops_on_ctrl_c(sb: SandboxHandle) -> None:
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as client:
        client.account.retrieve()  # before the tail: not printed (no --history)
        sb.backend.request_log.flush()
        env = {
            **os.environ,
            "LUMENLATER_API_KEY": sb.secret_key,
            "LUMENLATER_BASE_URL": sb.base_url,
        }
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "lumenlater_sdk.cli", "logs", "tail",
             "--format", "json", "--interval", "0.2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            assert "Tailing the request log" in proc.stderr.readline()
            lines = _lines(proc)
            client.bills.list(limit=3)
            bill_id = "bill_missing"
            with pytest.raises(NotFoundError):
                client.bills.retrieve(bill_id)
            first, second = json.loads(_next(lines)), json.loads(_next(lines))
        finally:
            proc.send_signal(signal.SIGINT)
            err = _stopped(proc)
    assert (first["method"], first["path"], first["status"]) == ("GET", "/v1/bills", 200)
    assert (second["path"], second["status"]) == (f"/v1/bills/{bill_id}", 404)
    assert first["request_id"].startswith("req_") and first["object"] == "request_log"
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_tail_text_lines_history_and_no_repeats(sb: SandboxHandle) -> None:
    """The in-process tail: --history prints the newest first-in-order, a poll prints
    only what is new, once, even while the cursor waits to settle."""
    shown: list[RequestLog] = []
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as client:
        client.account.retrieve()
        client.bills.list()
        sb.backend.request_log.flush()
        tail = _logs.Tail(client, shown.append, clock=lambda: 0.0)
        tail.start(history=1)
        assert [e.path for e in shown] == ["/v1/bills"]
        assert tail.poll() == 0
        client.webhook_endpoints.list()
        client.events.list()
        sb.backend.request_log.flush()
        assert tail.poll() == 2
        assert tail.poll() == 0  # the same entries again are skipped
    assert [e.path for e in shown] == ["/v1/bills", "/v1/webhook_endpoints", "/v1/events"]
    line = _logs.format_line(shown[1])
    assert line.split()[2:6] == ["200", "GET", "/v1/webhook_endpoints", shown[1].request_id]
    assert line.endswith(" ms")


def test_the_cursor_settles_past_what_was_shown(sb: SandboxHandle) -> None:
    now = [0.0]
    shown: list[RequestLog] = []
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as client:
        tail = _logs.Tail(client, shown.append, clock=lambda: now[0])
        tail.start(history=0)
        assert tail.cursor is None  # an empty log
        client.account.retrieve()
        sb.backend.request_log.flush()
        assert tail.poll() == 1 and tail.cursor is None and len(tail.recent) == 1
        now[0] = _logs.SETTLE_SECONDS
        assert tail.poll() == 0
    assert tail.cursor == shown[0].id and tail.recent == {}
