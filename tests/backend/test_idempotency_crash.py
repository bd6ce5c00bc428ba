"""A crash between the state change and the HTTP response must not let a retry bill twice.

The backend process is SIGKILLed right after the transaction that created the bill
commits (see ``crash_after_commit.py``). A retry with the same Idempotency-Key, even
once the claim's lease has run out, must replay that bill instead of making another.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lumenlater_sdk._ports import free_port
from lumenlater_sdk.backend.app import Backend
from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.services import idempotency
from lumenlater_sdk.backend.testing import run_sandbox

HERE = Path(__file__).parent
KEY = "idempotency-crash-test-key-0123456789"


def _counts(db_url: str) -> tuple[int, int, int]:
    """Bills, relayed create_bill calls and bill.created events in the database."""
    with connect(db_url) as db, db.transaction(write=False) as tx:
        calls = "SELECT COUNT(*) FROM chain_transactions WHERE function = 'create_bill'"
        return (
            int(tx.scalar("SELECT COUNT(*) FROM bills")),
            int(tx.scalar(calls)),
            int(tx.scalar("SELECT COUNT(*) FROM events WHERE type = 'bill.created'")),
        )


def _wait_until_serving(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the crashing backend exited before serving"
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("the crashing backend did not start")


def test_retry_after_crash_past_commit_replays_the_one_bill(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = Backend(
        BackendConfig(database_url=db_url, secret_key=KEY, run_delivery=False, tick_interval=3600)
    )
    creds = backend.create_merchant("Crash Shop")
    customer = backend.genesis.wallets["approve"].public_key
    backend.close()
    body = {"customer": customer, "amount": 25_000_000, "order_id": "crash-1"}
    headers = {"Authorization": f"Bearer {creds.secret_key}", "Idempotency-Key": "crash-key-1"}

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "crash_after_commit.py"), db_url, str(port), KEY]
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_serving(base_url, proc)
        with pytest.raises(httpx.TransportError):  # the process died: no response at all
            httpx.post(base_url + "/v1/bills", json=body, headers=headers, timeout=30)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert _counts(db_url) == (1, 1, 1)  # the bill was durable before the crash

    # Make every unfinished claim look abandoned, as it would after the lease: a key
    # left "running" by the crash would now be taken over and the bill made again.
    monkeypatch.setattr(idempotency, "STALE_AFTER", 0)
    with run_sandbox(
        db_url, secret_key=KEY, webhook_url=None, run_delivery=False, tick_interval=3600
    ) as sb:
        retry = httpx.post(sb.base_url + "/v1/bills", json=body, headers=headers, timeout=30)
        assert retry.status_code == 200, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        listed = httpx.get(sb.base_url + "/v1/bills", headers=headers, timeout=30).json()["data"]
    assert [b["id"] for b in listed] == [retry.json()["id"]]
    assert retry.json()["order_id"] == "crash-1" and retry.json()["amount"] == 25_000_000
    assert _counts(db_url) == (1, 1, 1)
