"""The worker's life: a task of the backend's lifespan, or `lumenlater worker` in a process
of its own; stopped (SIGTERM, server shutdown) it drains for two seconds and hands back
what is still unanswered, untried, so nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_receiver import Receiver

from lumenlater_sdk import LumenLater
from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.delivery import DeliveryWorker
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

KEY = "delivery-lifecycle-" + "0123456789abcdef" * 2
# Within the two-second drain, with room for a loaded machine to notice and exit.
DRAIN_BOUND = 2.0 + 2.5


@pytest.fixture
def hanging() -> Iterator[Receiver]:
    receiver = Receiver().start()
    receiver.mode = "hang"
    receiver.hang_seconds = 6.0  # longer than any drain
    yield receiver
    receiver.stop()


def _arrived(receiver: Receiver, timeout: float = 15.0) -> None:
    """Wait until the first request is being held (not answered) by the receiver."""
    deadline = time.monotonic() + timeout
    while not receiver.hits:
        assert time.monotonic() < deadline, "no delivery attempt arrived"
        time.sleep(0.02)
    hit = receiver.hits[0]
    assert hit.event_type == "bill.created" and hit.attempt == 1


def _outbox(db: Database) -> list[dict[str, object]]:
    with db.transaction(write=False) as tx:
        return tx.fetchall("SELECT status, attempts, lock_token FROM webhook_outbox")


def _bill(sb: SandboxHandle) -> None:
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as ll:
        wallet = ll.test_helpers.wallets.retrieve("approve")
        ll.bills.create(customer=wallet.address, amount=10_000_000)


def _given_back_then_delivered(
    db_url: str, receiver: Receiver, endpoint_secret: str, sb: SandboxHandle
) -> None:
    with connect(db_url) as db:
        rows = _outbox(db)
        assert [(r["status"], r["attempts"], r["lock_token"]) for r in rows] == [
            ("pending", 0, None)
        ], "the unanswered attempt is handed back untried"
        receiver.mode = "ok"
        receiver.set_secret(endpoint_secret)
        with DeliveryWorker(db, secret_key=KEY) as worker:
            assert worker.run_once() == 1
        assert [r["status"] for r in _outbox(db)] == ["delivered"]
    assert [e.type for e in receiver.wait_handled(1)] == ["bill.created"]


def test_lumenlater_worker_delivers_and_drains_on_sigterm(
    pg_url: str, hanging: Receiver, tmp_path: Path
) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text(KEY)
    with run_sandbox(pg_url, secret_key=KEY, run_delivery=False, webhook_url=None) as sb:
        endpoint = sb.create_webhook_endpoint(hanging.url, ["bill.created"])
        env = {**os.environ, "HOME": str(tmp_path)}
        env.pop("DATABASE_URL", None)
        command = [sys.executable, "-m", "lumenlater_sdk.cli", "worker"]
        worker = subprocess.Popen(
            [*command, "--database-url", pg_url, "--secret-key-file", str(key_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.startswith("LumenLater worker delivering from "), line
            _bill(sb)
            _arrived(hanging)  # the worker was woken by the commit's NOTIFY
            started = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=15) == 0, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() - started < DRAIN_BOUND
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        _given_back_then_delivered(pg_url, hanging, str(endpoint["secret"]), sb)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_backend_drains_its_worker_when_the_server_stops(
    backend: str, request: pytest.FixtureRequest, hanging: Receiver, tmp_path: Path
) -> None:
    db_url = (
        f"sqlite:///{tmp_path / 'drain.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    with run_sandbox(db_url, secret_key=KEY, webhook_url=None) as sb:
        endpoint = sb.create_webhook_endpoint(hanging.url, ["bill.created"])
        _bill(sb)
        _arrived(hanging)  # the lifespan's worker task sent it at once
        started = time.monotonic()
    stopped_in = time.monotonic() - started
    assert stopped_in < DRAIN_BOUND
    _given_back_then_delivered(db_url, hanging, str(endpoint["secret"]), sb)


def test_the_worker_runs_on_the_servers_event_loop(tmp_path: Path) -> None:
    import threading

    before = {t.name for t in threading.enumerate()}
    with run_sandbox(f"sqlite:///{tmp_path / 'loop.db'}", secret_key=KEY) as sb:
        assert sb.backend.worker is not None and sb.backend.worker.serving
        during = {t.name for t in threading.enumerate()} - before
    # Background work is tasks on the server's loop, not threads with loops of their own.
    assert not {n for n in during if "delivery" in n or "tick" in n}
