"""SIGKILL a backend mid-delivery, restart it: every queued event is still delivered."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from delivery_receiver import Receiver

from lumenlater_sdk import LumenLater
from lumenlater_sdk._ports import free_port
from lumenlater_sdk.backend.db import connect

HERE = Path(__file__).parent
KEY = "crash-test-secret-key-0123456789"


def start(db_url: str, port: int, hook: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "run_backend.py"), db_url, str(port), KEY, hook],
        cwd=HERE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def test_sigkill_mid_delivery_then_restart_delivers_everything(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    receiver = Receiver()
    receiver.mode = "hang"  # attempts are in flight when the process dies
    receiver.hang_seconds = 0.3
    receiver.start()
    port = free_port()
    proc, info = start(db_url, port, receiver.url)
    receiver.set_secret(info["webhook_secret"])
    try:
        with LumenLater(
            api_key=info["secret_key"], base_url=f"http://127.0.0.1:{port}", max_retries=0
        ) as client:
            address = next(
                w.address for w in client.test_helpers.wallets.list() if w.name == "approve"
            )
            for i in range(15):
                client.bills.create(customer=address, amount=10_000_000, order_id=f"o-{i}")
        receiver.wait_hits(1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with connect(db_url) as db, db.transaction(write=False) as tx:
            event_ids = {r["id"] for r in tx.fetchall("SELECT id FROM events")}
            pending = tx.scalar("SELECT COUNT(*) FROM webhook_outbox WHERE status = 'pending'")
        assert len(event_ids) >= 15 and pending > 0
        receiver.mode = "ok"
        proc, _ = start(db_url, port, receiver.url)
        receiver.wait_handled(len(event_ids), timeout=60)
    finally:
        proc.kill()
        proc.wait(10)
        receiver.stop()
    assert {e.id for e in receiver.handled} == event_ids
