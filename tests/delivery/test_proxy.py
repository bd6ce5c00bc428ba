"""The sender through a real HTTP proxy on loopback: absolute form, CONNECT + TLS, NO_PROXY.

The proxy and the receivers are real servers (``wire_support``); each test checks
both what the proxy was asked and what the receiver got.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_support import MERCHANT, SECRET_KEY, emit, prepare
from endpoint_support import Endpoints
from wire_support import HttpProxy, Receiver, header, tls_pair

from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.delivery import DeliveryWorker, worker_for
from lumenlater_sdk.backend.delivery._http import ConnectError, PooledSender
from lumenlater_sdk.backend.delivery._proxy import NoProxy, Proxies, parse_proxy

HEADERS = [("Content-Type", "application/json"), ("X-LumenLater-Event-Id", "evt_1")]
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the proxy variables they mean; none leak in from the machine."""
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_plain_http_goes_to_the_proxy_in_absolute_form_with_credentials() -> None:
    proxy, receiver = HttpProxy(credentials="hook user:p@ss"), Receiver()
    with proxy.serve() as proxy_server, receiver.serve() as server:
        url = f"http://127.0.0.1:{server.port}/hooks?x=1"
        sender = PooledSender(proxy=proxy.url(proxy_server))
        assert [await sender.post(url, b'{"a":1}', HEADERS) for _ in range(3)] == [200] * 3
        await sender.aclose()
    assert proxy.seen == [f"POST http://127.0.0.1:{server.port}/hooks?x=1"] * 3
    expected = "Basic " + base64.b64encode(b"hook user:p@ss").decode()
    assert proxy.authorizations == [expected] * 3
    assert proxy.connections == 1  # kept alive to the proxy
    head, body = receiver.requests[0]
    assert head.split(b"\r\n")[0] == b"POST /hooks?x=1 HTTP/1.1"  # the proxy's rewrite
    assert header(head, "Host") == f"127.0.0.1:{server.port}"
    assert header(head, "Proxy-Authorization") is None and body == b'{"a":1}'
    assert len(receiver.requests) == 3


async def test_https_goes_through_a_connect_tunnel_with_tls_to_the_receiver(
    tmp_path: Path,
) -> None:
    tls = tls_pair(str(tmp_path), "localhost")
    proxy, receiver = HttpProxy(credentials="u:pw"), Receiver()
    with proxy.serve() as proxy_server, receiver.serve(tls.server) as server:
        sender = PooledSender(proxy=proxy.url(proxy_server), ssl_context=tls.client)
        url = f"https://localhost:{server.port}/hooks"
        assert [await sender.post(url, b"{}", HEADERS) for _ in range(3)] == [200] * 3
        await sender.aclose()
    # One tunnel, reused: the proxy saw one CONNECT and nothing of what went through it.
    assert proxy.seen == [f"CONNECT localhost:{server.port}"]
    assert proxy.authorizations == ["Basic " + base64.b64encode(b"u:pw").decode()]
    assert receiver.connections == 1 and receiver.server_names == ["localhost"]
    assert [r[0].split(b"\r\n")[0] for r in receiver.requests] == [b"POST /hooks HTTP/1.1"] * 3


async def test_a_certificate_the_context_does_not_trust_fails_through_the_tunnel(
    tmp_path: Path,
) -> None:
    tls, other = tls_pair(str(tmp_path), "localhost"), tls_pair(str(tmp_path), "localhost")
    proxy, receiver = HttpProxy(), Receiver()
    with proxy.serve() as proxy_server, receiver.serve(tls.server) as server:
        sender = PooledSender(proxy=proxy.url(proxy_server), ssl_context=other.client)
        with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await sender.post(f"https://localhost:{server.port}/hooks", b"{}", HEADERS)
        await sender.aclose()
    assert receiver.requests == []


async def test_a_refused_connect_is_a_connect_error() -> None:
    proxy = HttpProxy(credentials="u:right")
    with proxy.serve() as proxy_server:
        wrong = proxy.url(proxy_server).replace("right", "wrong")
        sender = PooledSender(proxy=wrong)
        with pytest.raises(ConnectError, match="refused CONNECT localhost:9 with HTTP 407"):
            await sender.post("https://localhost:9/hooks", b"{}", HEADERS)
        await sender.aclose()
    assert proxy.seen == ["CONNECT localhost:9"]


async def test_no_proxy_hosts_are_reached_directly() -> None:
    proxy, receiver = HttpProxy(), Receiver()
    with proxy.serve() as proxy_server, receiver.serve() as server:
        url = f"http://127.0.0.1:{server.port}/hooks"
        for no_proxy in ("127.0.0.1", "127.0.0.0/8", f"127.0.0.1:{server.port}", "*"):
            sender = PooledSender(proxy=proxy.url(proxy_server), no_proxy=no_proxy)
            assert await sender.post(url, b"{}", HEADERS) == 200
            await sender.aclose()
        sender = PooledSender(proxy=proxy.url(proxy_server), no_proxy="127.0.0.1:1,example.com")
        assert await sender.post(url, b"{}", HEADERS) == 200
        await sender.aclose()
    assert proxy.seen == [f"POST {url}"]  # only the last one, whose list did not match
    assert len(receiver.requests) == 5


def test_no_proxy_matching() -> None:
    rules = NoProxy(" .Example.com, internal:8080, 10.0.0.0/8, [::1], fd00::/8 ,")
    assert rules.matches("example.com", 443) and rules.matches("hooks.example.com", 80)
    assert not rules.matches("badexample.com", 443)
    assert rules.matches("internal", 8080) and not rules.matches("internal", 80)
    assert rules.matches("10.2.3.4", 80) and not rules.matches("11.0.0.1", 80)
    assert rules.matches("::1", 80) and rules.matches("fd00::5", 80)
    assert not NoProxy("").matches("example.com", 80) and NoProxy("*").matches("x", 1)


def test_proxy_urls() -> None:
    assert parse_proxy("proxy.internal:3128") == parse_proxy("http://proxy.internal:3128")
    proxy = parse_proxy("http://a%40b:c%3Ad@[::1]:8080")
    assert (proxy.host, proxy.port, str(proxy)) == ("::1", 8080, "proxy [::1]:8080")
    assert proxy.authorization == "Basic " + base64.b64encode(b"a@b:c:d").decode()
    for bad in ("socks5://u:secret@proxy:1080", "https://proxy:443", "http://"):
        with pytest.raises(ValueError, match="only http://host:port") as info:
            parse_proxy(bad)
        assert "secret" not in str(info.value)


def test_environment_proxies_are_read_with_getproxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://secure-proxy:3128")
    monkeypatch.setenv("ALL_PROXY", "http://any-proxy:8080")
    monkeypatch.setenv("NO_PROXY", "localhost")
    proxies = Proxies()
    assert proxies.route("https", "example.com", 443) == parse_proxy("secure-proxy:3128")
    assert proxies.route("http", "example.com", 80) == parse_proxy("any-proxy:8080")
    assert proxies.route("https", "localhost", 443) is None
    assert not Proxies(trust_env=False)
    configured = Proxies("http://configured:1")  # the configured one wins; NO_PROXY still holds
    assert configured.route("https", "example.com", 443) == parse_proxy("configured:1")
    assert configured.route("http", "localhost", 80) is None
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy:1080")
    with pytest.raises(ValueError, match="HTTPS_PROXY"):
        Proxies()


# --- the worker: one send path, the proxy from the configuration or the environment -----


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with connect(f"sqlite:///{tmp_path / 'proxy.db'}") as database:
        prepare(database)
        yield database


def _deliver(worker: DeliveryWorker, db: Database, url: str) -> list[str | None]:
    """Emit one event to a new endpoint at *url*; the errors of its attempts."""
    endpoints = Endpoints(db)
    ep = endpoints.create(MERCHANT, url=url, enabled_events=["*"])
    emit(db, 1)
    with worker:
        assert worker.run_once() == 1
    errors = [d["error"] for d in endpoints.deliveries(MERCHANT, ep["id"])]
    endpoints.delete(MERCHANT, ep["id"])  # the next event is for the next endpoint only
    return errors


def test_the_worker_uses_the_environment_proxy(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, receiver = HttpProxy(), Receiver()
    with proxy.serve() as proxy_server, receiver.serve() as server:
        monkeypatch.setenv("HTTP_PROXY", proxy.url(proxy_server))
        url = f"http://127.0.0.1:{server.port}/hooks"
        assert _deliver(DeliveryWorker(db, secret_key=SECRET_KEY), db, url) == [None]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert _deliver(DeliveryWorker(db, secret_key=SECRET_KEY), db, url) == [None]
    assert proxy.seen == [f"POST {url}"]  # the first; the second went direct
    assert len(receiver.requests) == 2


def test_the_backend_config_proxy_reaches_the_worker(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, receiver = HttpProxy(), Receiver()
    with proxy.serve() as proxy_server, receiver.serve() as server:
        monkeypatch.setenv("LUMENLATER_WEBHOOK_PROXY", proxy.url(proxy_server))
        config = BackendConfig.from_env(secret_key=SECRET_KEY)
        assert config.webhook_proxy == proxy.url(proxy_server)
        worker = worker_for(db, config)
        assert worker is not None
        url = f"http://127.0.0.1:{server.port}/hooks"
        assert _deliver(worker, db, url) == [None]
    assert proxy.seen == [f"POST {url}"] and len(receiver.requests) == 1


def test_an_unreachable_proxy_is_a_connection_error(db: Database) -> None:
    from lumenlater_sdk._ports import free_port

    worker = DeliveryWorker(db, secret_key=SECRET_KEY, proxy=f"http://127.0.0.1:{free_port()}")
    (error,) = _deliver(worker, db, "http://127.0.0.1:9/hooks")
    assert error is not None
    assert error.startswith("connection_error: could not connect (proxy 127.0.0.1:")
