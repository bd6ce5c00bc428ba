"""From an API call on a real backend to a handler running in a real ``WebhookApp``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from delivery_receiver import Receiver
from delivery_support import FAST_SCHEDULE

from lumenlater_sdk import LumenLater
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox
from lumenlater_sdk.errors import BadRequestError, NotFoundError
from lumenlater_sdk.types import BillCreatedEvent, WebhookDelivery, WebhookEndpointPingEvent
from lumenlater_sdk.webhooks import verify_signature

DELIVERY = {"schedule": FAST_SCHEDULE, "timeout": 1.0, "poll_interval": 0.1}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[SandboxHandle]:
    with run_sandbox(
        f"sqlite:///{tmp_path / 'sandbox.db'}", webhook_url=None, delivery=DELIVERY
    ) as handle:
        yield handle


@pytest.fixture
def client(sb: SandboxHandle) -> Iterator[LumenLater]:
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as c:
        yield c


def customer(client: LumenLater) -> str:
    wallets = {w.name: w for w in client.test_helpers.wallets.list()}
    return str(wallets["approve"].address)


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_bill_created_via_api_runs_the_handler(client: LumenLater, receiver: Receiver) -> None:
    ep = client.webhook_endpoints.create(url=receiver.url, enabled_events=["bill.created"])
    assert ep.secret and ep.secret.startswith("whsec_") and ep.status == "enabled"
    receiver.set_secret(ep.secret)
    bill = client.bills.create(customer=customer(client), amount=10_000_000, order_id="o-1")
    (event,) = receiver.wait_handled(1)
    assert isinstance(event, BillCreatedEvent)
    assert event.data.object.id == bill.id
    stored = client.events.retrieve(event.id)
    hit = receiver.hits[0]
    assert hit.event_id == stored.id and hit.attempt == 1
    wait_for(lambda: len(list(client.webhook_endpoints.deliveries(ep.id))) == 1)
    (delivery,) = client.webhook_endpoints.deliveries(ep.id)
    assert isinstance(delivery, WebhookDelivery)
    assert (delivery.event, delivery.attempt, delivery.status_code) == (event.id, 1, 200)


def test_500_then_200_and_resend_through_the_api(client: LumenLater, receiver: Receiver) -> None:
    receiver.mode = "500"
    ep = client.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    receiver.set_secret(ep.secret or "")
    client.bills.create(customer=customer(client), amount=10_000_000)
    receiver.wait_hits(2)
    receiver.mode = "ok"
    (event,) = receiver.wait_handled(1)
    wait_for(lambda: any(d.status_code == 200 for d in client.webhook_endpoints.deliveries(ep.id)))
    log = list(client.webhook_endpoints.deliveries(ep.id))
    assert [d.status_code for d in reversed(log)][:2] == [500, 500]
    assert log[0].status_code == 200 and log[0].attempt == len(log)
    assert all(d.next_attempt_at is not None for d in log[1:])
    # Resend: a new attempt of the same event id; the receiver's dedupe answers 200.
    before = len(receiver.hits)
    resent = client.events.resend(event.id, endpoint=ep.id)
    assert resent.id == event.id
    receiver.wait_hits(before + 1)
    assert receiver.hits[-1].event_id == event.id
    assert len({e.id for e in receiver.handled}) == 1


def test_hanging_receiver_times_out(client: LumenLater, receiver: Receiver) -> None:
    receiver.mode = "hang"
    receiver.hang_seconds = 2.5
    ep = client.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    receiver.set_secret(ep.secret or "")
    client.bills.create(customer=customer(client), amount=10_000_000)
    wait_for(lambda: len(list(client.webhook_endpoints.deliveries(ep.id))) >= 1)
    first = list(client.webhook_endpoints.deliveries(ep.id))[-1]
    assert first.status_code is None and "timeout" in (first.error or "")
    receiver.mode = "ok"
    receiver.wait_handled(1)


def test_rotation_filtering_scoping_and_validation(
    sb: SandboxHandle, client: LumenLater, receiver: Receiver
) -> None:
    ep = client.webhook_endpoints.create(url=receiver.url, enabled_events=["bill.cancelled"])
    rotated = client.webhook_endpoints.rotate_secret(ep.id, expire_old_after=600)
    assert rotated.secret and rotated.secret != ep.secret
    receiver.set_secret(ep.secret or "")  # the old secret still verifies
    bill = client.bills.create(customer=customer(client), amount=10_000_000)
    client.bills.cancel(bill.id)
    (event,) = receiver.wait_handled(1)
    assert event.type == "bill.cancelled"  # bill.created was filtered out
    hit = receiver.hits[0]
    verify_signature(hit.body, hit.signature, rotated.secret)
    verify_signature(hit.body, hit.signature, ep.secret or "")
    # Another merchant sees nothing of it.
    other = sb.create_merchant()
    with LumenLater(api_key=other.secret_key, base_url=sb.base_url, max_retries=0) as stranger:
        with pytest.raises(NotFoundError):
            stranger.webhook_endpoints.retrieve(ep.id)
        with pytest.raises(NotFoundError):
            stranger.events.resend(event.id)
        assert list(stranger.webhook_endpoints.list()) == []
    with pytest.raises(BadRequestError) as bad:
        client.webhook_endpoints.create(url="ftp://example.com/x", enabled_events=["*"])
    assert bad.value.param == "url"
    with pytest.raises(BadRequestError) as bad:
        client.webhook_endpoints.create(url=receiver.url, enabled_events=["bill.nope"])
    assert bad.value.param == "enabled_events"
    updated = client.webhook_endpoints.update(ep.id, disabled=True)
    assert updated.status == "disabled"
    assert client.webhook_endpoints.delete(ep.id).deleted


def test_ping_is_stored_enqueued_and_delivered(client: LumenLater, receiver: Receiver) -> None:
    with pytest.raises(BadRequestError) as none:
        client.test_helpers.events.trigger(type="webhook_endpoint.ping")
    assert (none.value.code, none.value.param) == ("webhook_endpoint_missing", "type")
    assert "no enabled webhook endpoint" in str(none.value)
    ep = client.webhook_endpoints.create(url=receiver.url, enabled_events=["webhook_endpoint.ping"])
    newer = client.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    client.webhook_endpoints.update(newer.id, disabled=True)  # the newest *enabled* one counts
    receiver.set_secret(ep.secret or "")
    triggered = client.test_helpers.events.trigger(type="webhook_endpoint.ping")
    assert isinstance(triggered, WebhookEndpointPingEvent)
    (event,) = receiver.wait_handled(1)
    assert isinstance(event, WebhookEndpointPingEvent)
    assert event.id == triggered.id
    assert event.data.object.id == ep.id and event.data.object.url == receiver.url
    assert b"whsec_" not in receiver.hits[0].body  # the endpoint object, never its secret
    assert receiver.hits[0].event_type == "webhook_endpoint.ping"
    assert client.events.retrieve(event.id).id == event.id
    assert [e.id for e in client.events.list(type="webhook_endpoint.ping")] == [event.id]
    wait_for(lambda: len(list(client.webhook_endpoints.deliveries(ep.id))) == 1)
    (delivery,) = client.webhook_endpoints.deliveries(ep.id)
    assert (delivery.event, delivery.status_code) == (event.id, 200)
    assert list(client.webhook_endpoints.deliveries(newer.id)) == []


def test_listen_and_trigger_cli(
    sb: SandboxHandle, client: LumenLater, receiver: Receiver, tmp_path: Path
) -> None:
    secret = "whsec_" + "ab" * 32
    receiver.set_secret(secret)
    env = {
        **os.environ,
        "HOME": str(tmp_path),  # listen keeps its state file there, not in the real home
        "LUMENLATER_API_KEY": sb.secret_key,
        "LUMENLATER_BASE_URL": sb.base_url,
    }
    listen = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lumenlater_sdk.cli",
            "listen",
            "--forward-to",
            receiver.url,
            "--events",
            "bill.created",
            "--secret",
            secret,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert listen.stdout is not None
        ready = listen.stdout.readline()
        assert secret in ready, ready + (listen.stderr.read() if listen.poll() else "")
        forwarding = listen.stdout.readline()
        endpoint_id = forwarding.rsplit("endpoint ", 1)[1].rstrip(")\n")
        assert client.webhook_endpoints.retrieve(endpoint_id).status == "enabled"
        trig = subprocess.run(
            [sys.executable, "-m", "lumenlater_sdk.cli", "trigger", "bill.created"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert "Triggered bill.created" in trig.stderr  # stdout: the event as JSON
        (event,) = receiver.wait_handled(1)
        assert event.type == "bill.created"
        line = listen.stdout.readline()
        assert "bill.created" in line and "[200]" in line and event.id in line
    finally:
        listen.send_signal(signal.SIGINT)
        out, _ = listen.communicate(timeout=20)
    assert "Removed temporary endpoint" in out
    with pytest.raises(NotFoundError):
        client.webhook_endpoints.retrieve(endpoint_id)
