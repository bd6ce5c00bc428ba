"""SIGTERM stops the backend cleanly: every answered POST is committed, no POST is
half-written, and webhook deliveries that were queued or in flight stay in the outbox."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from backend_process import backend_process

from lumenlater_sdk.backend.db import connect


def hanging_receiver() -> tuple[str, list[socket.socket]]:
    """A webhook URL whose server accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(100)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/hook", held


def test_sigterm_answers_or_rolls_back_and_keeps_the_outbox(db_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    hook, held = hanging_receiver()
    answers: dict[str, Any] = {}
    with backend_process(db_url, key_file, "--no-rate-limit", "--webhook-url", hook) as first:
        auth = {"Authorization": f"Bearer {first.secret_key}"}
        api = httpx.Client(base_url=first.base_url, headers=auth, timeout=30)
        customer = api.get("/v1/test_helpers/wallets/approve").json()["address"]
        body = {"customer": customer, "amount": 10_000_000}
        for i in range(3):  # their webhooks hang in flight at the receiver
            assert api.post("/v1/bills", json=body, headers={"Idempotency-Key": f"pre{i}"})
        deadline = time.monotonic() + 60
        while not held and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held, "no delivery reached the receiver"

        def post(key: str) -> None:
            try:
                answers[key] = api.post("/v1/bills", json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:  # cut off by the stop: no answer
                answers[key] = exc

        posts = [threading.Thread(target=post, args=(f"k{i}",)) for i in range(20)]
        for t in posts:
            t.start()
        first.terminate()  # while POSTs are in flight (structural: no timing asserted)
        for t in posts:
            t.join(60)
        api.close()
    assert first.proc.returncode is not None
    answered = {k: r for k, r in answers.items() if isinstance(r, httpx.Response)}
    assert all(r.status_code == 200 for r in answered.values()), answered
    with backend_process(db_url, key_file, "--no-delivery", "--no-rate-limit") as second:
        api = httpx.Client(base_url=second.base_url, headers=auth, timeout=30)
        for key in [f"pre{i}" for i in range(3)] + sorted(answers):
            retry = api.post("/v1/bills", json=body, headers={"Idempotency-Key": key})
            assert retry.status_code == 200, retry.text
            if key in answered:  # committed before its answer: replayed, never made twice
                assert retry.headers.get("idempotent-replayed") == "true"
                assert retry.json()["id"] == answered[key].json()["id"]
        bills = api.get("/v1/bills", params={"limit": 100}).json()["data"]
        assert len(bills) == 3 + 20  # one bill per key: none lost, none doubled
        events = api.get("/v1/events", params={"limit": 100}).json()["data"]
        api.close()
    db = connect(db_url)
    try:
        with db.transaction(write=False) as tx:
            rows = tx.fetchall("SELECT event_id, status FROM webhook_outbox")
    finally:
        db.close()
    # The receiver never answered: every event's delivery is still to be made.
    outbox = {row["event_id"]: row["status"] for row in rows}
    created_before_stop = [e["id"] for e in events if e["data"]["object"]["id"] in _ids(answered)]
    assert all(outbox.get(event) == "pending" for event in created_before_stop), outbox
    assert len(created_before_stop) >= len(answered)


def _ids(answered: dict[str, httpx.Response]) -> set[str]:
    return {r.json()["id"] for r in answered.values()}
