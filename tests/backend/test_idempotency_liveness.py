"""Keys that never get stuck (issue 14): only a request that is still running holds its
Idempotency-Key, on SQLite and PostgreSQL, across backend processes.

A request that dies before its state change commits (its process SIGKILLed, a
database error, a lock timeout) leaves the key usable for the very next retry, on
any process; a live twin still gets 409 ``idempotency_key_in_use``; a completed
answer is replayed byte for byte, also to a body that differs only in whitespace
or key order.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from backend_helpers import SECRET_KEY, Api, new_bill_body

from lumenlater_sdk._ports import free_port
from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

HERE = Path(__file__).parent


def _bills(db_url: str) -> int:
    with connect(db_url) as db, db.transaction(write=False) as tx:
        return int(tx.scalar("SELECT COUNT(*) FROM bills"))


def _reordered(body: dict[str, object]) -> bytes:
    """The same JSON value with its keys reversed and other whitespace."""
    return json.dumps(dict(reversed(body.items())), indent=3).encode()


@pytest.fixture
def sandbox_on(db_url: str) -> Iterator[SandboxHandle]:
    """A backend (this process) on *db_url*, started before any other holds a lock."""
    with run_sandbox(
        db_url, secret_key=SECRET_KEY, webhook_url=None, run_delivery=False, tick_interval=3600
    ) as sb:
        yield sb


class HangingBackend:
    """``hang_in_request.py`` in its own process, on the same database."""

    def __init__(self, db_url: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "hang_in_request.py"), db_url, str(self.port), SECRET_KEY],
            stdout=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the hanging backend exited before serving"
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        pytest.fail("the hanging backend did not start")

    def wait_in_flight(self) -> None:
        """Until a request announced that it holds its key with its writes uncommitted."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        assert ready, "no request reached its commit"
        assert self.proc.stdout.readline() == b"in-flight\n"

    def kill(self) -> None:
        self.proc.kill()
        assert self.proc.wait(30) == -signal.SIGKILL


def _wait_until_the_server_dropped_it(db_url: str) -> None:
    """PostgreSQL ends a dead client's session (and its locks) when it reads the closed
    connection, a moment after the process is gone: wait for that, not for any lease."""
    if not db_url.startswith("postgresql"):
        return  # the kernel dropped the process's file locks before wait() returned
    deadline = time.monotonic() + 30
    with connect(db_url) as db:
        while time.monotonic() < deadline:
            with db.transaction(write=False) as tx:
                if not tx.scalar(
                    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                ):
                    return
            time.sleep(0.01)
    pytest.fail("PostgreSQL kept the killed backend's session")


def test_a_request_killed_before_commit_frees_its_key_for_the_next_process(
    db_url: str, sandbox_on: SandboxHandle
) -> None:
    sb = sandbox_on
    api = Api(sb.base_url, sb.secret_key)
    body = new_bill_body(api)
    raw = json.dumps(body).encode()
    headers = {
        "Authorization": f"Bearer {sb.secret_key}",
        "Idempotency-Key": "killed-key",
        "Content-Type": "application/json",
    }
    hanging = HangingBackend(db_url)
    outcome: list[object] = []

    def first_attempt() -> None:
        try:
            outcome.append(
                httpx.post(
                    hanging.base_url + "/v1/bills", content=raw, headers=headers, timeout=120
                )
            )
        except httpx.TransportError as exc:
            outcome.append(exc)

    attempt = threading.Thread(target=first_attempt)
    attempt.start()
    try:
        hanging.wait_in_flight()
        # Genuinely in flight on the other process: its twin here is told so.
        twin = api.http.post("/v1/bills", content=raw, headers=headers)
        assert twin.status_code == 409, twin.text
        assert twin.json()["error"]["code"] == "idempotency_key_in_use"
        hanging.kill()
    finally:
        if hanging.proc.poll() is None:
            hanging.kill()
        attempt.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError)
    assert _bills(db_url) == 0  # it died before its bill committed
    _wait_until_the_server_dropped_it(db_url)

    # The very next retry, on another process, runs: no 409, no lease to wait out.
    retry = api.http.post("/v1/bills", content=raw, headers=headers)
    assert retry.status_code == 200, retry.text
    assert "idempotent-replayed" not in retry.headers
    again = api.http.post("/v1/bills", content=_reordered(body), headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.content == retry.content
    assert again.headers["content-type"] == retry.headers["content-type"]
    assert [b["id"] for b in api.ok("GET", "/v1/bills")["data"]] == [retry.json()["id"]]
    api.http.close()


_FAIL_SQLITE = (
    "CREATE TRIGGER fail_bills BEFORE INSERT ON bills"
    " BEGIN SELECT RAISE(ABORT, 'bills refused by a test trigger'); END"
)
_FAIL_FUNCTION_PG = (
    "CREATE FUNCTION fail_bills() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'bills refused by a test trigger'; END $$"
)
_FAIL_PG = (
    "CREATE TRIGGER fail_bills BEFORE INSERT ON bills FOR EACH ROW EXECUTE FUNCTION fail_bills()"
)


def test_a_database_error_inside_the_unit_leaves_the_key_usable(
    sb: SandboxHandle, api: Api
) -> None:
    body = new_bill_body(api)
    headers = {"Idempotency-Key": "trigger-key"}
    db = sb.backend.db
    with db.transaction() as tx:
        if tx.dialect == "postgresql":
            tx.execute(_FAIL_FUNCTION_PG)
            tx.execute(_FAIL_PG)
        else:
            tx.execute(_FAIL_SQLITE)
    failed = api.post("/v1/bills", body, headers=headers)
    assert failed.status_code == 500, failed.text
    assert failed.json()["error"]["type"] == "api_error"
    with db.transaction() as tx:
        tx.execute("DROP TRIGGER fail_bills" + (" ON bills" if tx.dialect == "postgresql" else ""))
    retry = api.post("/v1/bills", body, headers=headers)
    assert retry.status_code == 200, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert [b["id"] for b in api.ok("GET", "/v1/bills")["data"]] == [retry.json()["id"]]


def test_a_lock_timeout_leaves_the_key_usable(db_url: str) -> None:
    if db_url.startswith("postgresql"):
        # Every new session of this (per-test) database gives up on a lock after 200 ms.
        with connect(db_url) as db, db.reads() as tx:
            name = tx.scalar("SELECT current_database()")
            tx.execute(f"ALTER DATABASE \"{name}\" SET lock_timeout = '200ms'")
    with (
        run_sandbox(db_url, webhook_url=None, run_delivery=False, tick_interval=3600) as sb,
        Api(sb.base_url, sb.secret_key) as api,
        connect(db_url) as holder,
    ):
        body = new_bill_body(api)
        headers = {"Idempotency-Key": "lock-key"}
        with holder.transaction() as tx:
            # PostgreSQL: the chain ledger's row, which every POST locks; SQLite: the
            # write lock itself, past the backend's busy timeout.
            tx.execute(
                "UPDATE chain_ledger SET sequence = sequence WHERE id = 1"
                if tx.dialect == "postgresql"
                else "UPDATE backend_state SET v = v"
            )
            failed = api.post("/v1/bills", body, headers=headers)
        assert failed.status_code >= 500, failed.text
        assert failed.json()["error"]["type"] == "api_error"
        retry = api.post("/v1/bills", body, headers=headers)
        assert retry.status_code == 200, retry.text
        assert "idempotent-replayed" not in retry.headers
        assert [b["id"] for b in api.ok("GET", "/v1/bills")["data"]] == [retry.json()["id"]]


def test_whitespace_and_key_order_replay_the_exact_answer(sb: SandboxHandle, api: Api) -> None:
    body = {**new_bill_body(api), "metadata": {"b": "2", "a": "1"}, "order_id": "ws-1"}
    headers = {"Idempotency-Key": "ws-key", "Content-Type": "application/json"}
    first = api.http.post("/v1/bills", content=json.dumps(body).encode(), headers=headers)
    assert first.status_code == 200, first.text
    variants = [
        json.dumps(body, separators=(",", ":")).encode(),
        _reordered(body),
        json.dumps({**body, "metadata": {"a": "1", "b": "2"}}, indent="\t").encode(),
    ]
    for raw in variants:
        again = api.http.post("/v1/bills", content=raw, headers=headers)
        assert again.status_code == first.status_code
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
    changed = api.http.post(
        "/v1/bills", content=json.dumps({**body, "order_id": "ws-2"}).encode(), headers=headers
    )
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    # A refusal is an answer too, kept and replayed byte for byte.
    decline = api.ok("GET", "/v1/test_helpers/wallets/decline")["address"]
    bill = api.ok("POST", "/v1/bills", json={"customer": decline, "amount": 5_000_000})
    path = f"/v1/test_helpers/bills/{bill['id']}/pay"
    refused = api.post(path, {"wallet": "decline"}, headers={"Idempotency-Key": "ws-refused"})
    assert refused.status_code == 400
    replayed = api.http.post(
        path,
        content=b'{ "wallet" :\n "decline" }',
        headers={"Idempotency-Key": "ws-refused", "Content-Type": "application/json"},
    )
    assert replayed.headers["idempotent-replayed"] == "true"
    assert (replayed.status_code, replayed.content) == (refused.status_code, refused.content)


def test_no_body_and_an_empty_object_are_the_same_request(api: Api) -> None:
    bill = api.ok("POST", "/v1/bills", json=new_bill_body(api))
    path = f"/v1/bills/{bill['id']}/cancel"
    first = api.http.post(path, content=b"", headers={"Idempotency-Key": "empty-k"})
    assert first.status_code == 200, first.text
    again = api.post(path, {}, headers={"Idempotency-Key": "empty-k"})
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
