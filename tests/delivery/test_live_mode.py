"""Live mode sends webhooks to public addresses only; the sandbox reaches loopback.

The rule is checked when an endpoint's URL is set (a 400 ``url_not_allowed``) and
again by the sender on every connection (a failed attempt, retried on the
schedule), with real servers on loopback: nothing must reach them in live mode.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_support import MERCHANT, SECRET_KEY, emit, prepare
from endpoint_support import Endpoints
from wire_support import HttpProxy, Receiver, tls_pair

from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.delivery import (
    AddressNotAllowed,
    DeliveryWorker,
    check_public_host,
    non_public,
    worker_for,
)
from lumenlater_sdk.backend.delivery._http import AddressRefused, PooledSender
from lumenlater_sdk.backend.services.errors import InvalidRequest

HEADERS = [("Content-Type", "application/json")]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "not a public address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("64:ff9b::a9fe:a9fe", "a link-local address"),
        ("[::1]", "a loopback address"),
        ("93.184.215.14", None),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_what_is_public(address: str, kind: str | None) -> None:
    assert non_public(address) == kind


def test_hosts_checked_at_creation() -> None:
    for host, reason in [
        ("10.0.0.5", "10.0.0.5 is a private address"),
        ("localhost", "localhost resolves to 127.0.0.1, a loopback address"),
        ("2130706433", "2130706433 resolves to 127.0.0.1, a loopback address"),  # inet_aton
    ]:
        with pytest.raises(AddressNotAllowed, match=re.escape(reason)):
            check_public_host(host)
    check_public_host("93.184.215.14")
    check_public_host("hooks.example.invalid")  # resolves nowhere: the sender checks later


# --- creating and changing endpoints --------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with connect(f"sqlite:///{tmp_path / 'live.db'}") as database:
        prepare(database)
        yield database


def live(db: Database) -> Endpoints:
    endpoints = Endpoints(db)
    endpoints.ctx = dataclasses.replace(
        endpoints.ctx, config=BackendConfig(secret_key=SECRET_KEY, livemode=True)
    )
    return endpoints


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "https://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://[::ffff:192.168.0.1]/",
        "http://0.0.0.0:80/",
        "http://localhost:9/hooks",
        "http://LOCALHOST:9/hooks",
    ],
)
def test_live_mode_refuses_internal_urls_at_creation(db: Database, url: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        live(db).create(MERCHANT, url=url, enabled_events=["*"])
    assert (info.value.code, info.value.param) == ("url_not_allowed", "url")
    assert "public addresses only" in info.value.message


def test_live_mode_accepts_public_and_unresolved_hosts_and_checks_updates(db: Database) -> None:
    endpoints = live(db)
    public = endpoints.create(MERCHANT, url="https://93.184.215.14/hooks", enabled_events=["*"])
    later = endpoints.create(
        MERCHANT, url="https://hooks.example.invalid/x", enabled_events=["*"]
    )  # DNS not there yet: accepted, the sender will check what it resolves to
    with pytest.raises(InvalidRequest) as info:
        endpoints.update(MERCHANT, public["id"], url="http://192.168.0.10/admin")
    assert (info.value.code, info.value.param) == ("url_not_allowed", "url")
    assert endpoints.retrieve(MERCHANT, public["id"])["url"] == "https://93.184.215.14/hooks"
    endpoints.update(MERCHANT, later["id"], description="no url change: no check")


def test_the_sandbox_allows_loopback(db: Database) -> None:
    endpoints = Endpoints(db)  # livemode False, the default
    ep = endpoints.create(MERCHANT, url="http://127.0.0.1:9/hooks", enabled_events=["*"])
    assert endpoints.update(MERCHANT, ep["id"], url="http://localhost:9/x")["url"].endswith("/x")


# --- sending ------------------------------------------------------------------------------


def test_a_live_worker_refuses_a_loopback_endpoint_and_retries_it_on_the_schedule(
    db: Database,
) -> None:
    receiver = Receiver()
    with receiver.serve() as server:
        sandbox = Endpoints(db)  # created in sandbox mode, then sent by a live worker
        url = f"http://localhost:{server.port}/hooks"
        ep = sandbox.create(MERCHANT, url=url, enabled_events=["*"])
        emit(db, 1)
        with DeliveryWorker(db, secret_key=SECRET_KEY, livemode=True) as worker:
            assert worker.run_once() == 1
        (attempt,) = sandbox.deliveries(MERCHANT, ep["id"])
        assert attempt["status_code"] is None and attempt["next_attempt_at"] is not None
        assert attempt["error"] == (
            "address_not_allowed: localhost resolves to 127.0.0.1, a loopback address;"
            " live mode delivers webhooks to public addresses only"
        )
        # The same endpoint from a sandbox worker: delivered.
        sandbox.update(MERCHANT, ep["id"], url=f"http://127.0.0.1:{server.port}/hooks")
        config = BackendConfig(secret_key=SECRET_KEY, livemode=True)
        live_worker = worker_for(db, config)
        assert live_worker is not None
        emit(db, 1)
        with live_worker:
            assert live_worker.run_once() == 1
        assert receiver.connections == 0  # nothing of the live workers reached it
        refused = sandbox.deliveries(MERCHANT, ep["id"])[0]["error"]
        assert refused.startswith("address_not_allowed: 127.0.0.1 is a loopback address")
        emit(db, 1)
        with DeliveryWorker(db, secret_key=SECRET_KEY) as worker:
            assert worker.run_once() == 1
        assert receiver.connections == 1 and len(receiver.requests) == 1


async def test_the_sender_connects_to_the_address_it_checked_with_the_name_for_tls(
    tmp_path: Path,
) -> None:
    # "localhost" stands for a public name here: a policy that refuses everything but
    # 127.0.0.1 is handed in, so the resolve-filter-connect path runs over loopback.
    tls = tls_pair(str(tmp_path), "localhost")
    receiver = Receiver()
    with receiver.serve(tls.server) as server:
        url = f"https://localhost:{server.port}/hooks"
        only_v4 = PooledSender(
            ssl_context=tls.client, refuse=lambda ip: None if ip == "127.0.0.1" else "other"
        )
        assert await only_v4.post(url, b"{}", HEADERS) == 200
        await only_v4.aclose()
        nothing = PooledSender(ssl_context=tls.client, refuse=lambda ip: "refused here")
        with pytest.raises(
            AddressRefused, match=re.escape("localhost resolves to 127.0.0.1, refused here")
        ):
            await nothing.post(url, b"{}", HEADERS)
        await nothing.aclose()
    # TLS was with the name (SNI, certificate for "localhost"), the Host header too.
    assert receiver.server_names == ["localhost"] and receiver.connections == 1
    assert b"\r\nHost: localhost:%d" % server.port in receiver.requests[0][0]


async def test_through_a_proxy_only_ip_literals_are_refused_here() -> None:
    proxy, receiver = HttpProxy(), Receiver()
    with proxy.serve() as proxy_server, receiver.serve() as server:
        sender = PooledSender(proxy=proxy.url(proxy_server), refuse=non_public)
        with pytest.raises(AddressRefused, match=re.escape("127.0.0.1 is a loopback address")):
            await sender.post(f"http://127.0.0.1:{server.port}/hooks", b"{}", HEADERS)
        # A name is the proxy's to resolve and filter: it is passed on.
        assert await sender.post(f"http://localhost:{server.port}/hooks", b"{}", HEADERS) == 200
        await sender.aclose()
    assert proxy.seen == [f"POST http://localhost:{server.port}/hooks"]
