"""The sandbox dashboard over loopback, on SQLite and PostgreSQL (issue 15 part 6):
sign-in with a test secret key or a one-time link (single use, expiry), the session
cookie's flags, form tokens (a form without one is refused and changes nothing), a
merchant seeing only its own objects, the clock's advance and an event's resend."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk.backend.services.dashboard_auth import LINK_SECONDS, SESSION_SECONDS
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


class Clock:
    """The backend's wall clock, which a test may move on (links expire by it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def sb(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[SandboxHandle]:
    url = (
        f"sqlite:///{tmp_path / 'sb.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    with run_sandbox(url, webhook_url=None, tick_interval=3600, clock=clock) as handle:
        yield handle


def _browser(sb: SandboxHandle) -> httpx.Client:
    return httpx.Client(base_url=sb.base_url, timeout=30)


def sign_in(sb: SandboxHandle, key: str | None = None) -> httpx.Client:
    """A cookie jar signed in to the dashboard with *key* (the sandbox merchant's)."""
    b = _browser(sb)
    form = b.get("/dashboard/login")
    token = _TOKEN.search(form.text)
    assert form.status_code == 200 and token is not None
    r = b.post(
        "/dashboard/login", data={"form_token": token.group(1), "api_key": key or sb.secret_key}
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard", r.text
    return b


def _form_token(b: httpx.Client, path: str) -> str:
    page = b.get(path)
    assert page.status_code == 200, page.text
    m = _TOKEN.search(page.text)
    assert m is not None
    return m.group(1)


def _client(sb: SandboxHandle, key: str | None = None) -> LumenLater:
    return LumenLater(api_key=key or sb.secret_key, base_url=sb.base_url, max_retries=0)


def test_sign_in_with_the_secret_key_sets_a_strict_httponly_cookie(sb: SandboxHandle) -> None:
    anonymous = _browser(sb)
    r = anonymous.get("/dashboard/bills")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
    b = _browser(sb)
    token = _form_token(b, "/dashboard/login")
    r = b.post("/dashboard/login", data={"form_token": token, "api_key": sb.secret_key})
    assert r.status_code == 303
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("ll_dashboard="))
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/dashboard"} <= flags
    assert sb.secret_key not in cookie
    page = b.get("/dashboard")
    assert page.status_code == 200 and "Sandbox Shop" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src" not in page.headers["content-security-policy"]  # no script at all
    assert "<script" not in page.text
    # Signing out ends the session on the server: a copy of the cookie is worth nothing.
    copy = _browser(sb)
    copy.cookies.set("ll_dashboard", b.cookies["ll_dashboard"], path="/dashboard")
    assert copy.get("/dashboard").status_code == 200
    out = b.post("/dashboard/logout", data={"form_token": _form_token(b, "/dashboard")})
    assert out.status_code == 303
    assert b.get("/dashboard").status_code == 303
    r = copy.get("/dashboard/bills")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"


def test_a_session_ends_when_it_expires(sb: SandboxHandle, clock: Clock) -> None:
    b = sign_in(sb)
    clock.offset = SESSION_SECONDS - 60
    assert b.get("/dashboard").status_code == 200
    clock.offset = SESSION_SECONDS + 1
    r = b.get("/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"


def test_sessions_are_stored_by_hash_only(sb: SandboxHandle) -> None:
    b = sign_in(sb)
    token = b.cookies["ll_dashboard"].rpartition(".")[0]
    with sb.backend.db.transaction() as tx:
        rows = tx.fetchall("SELECT token_hash, merchant_id, revoked_at FROM dashboard_sessions")
    assert [(r["merchant_id"], r["revoked_at"]) for r in rows] == [(sb.merchant_id, None)]
    assert token not in rows[0]["token_hash"]


def test_failed_sign_ins_are_throttled_per_address(sb: SandboxHandle) -> None:
    b = _browser(sb)
    codes = []
    for _ in range(11):
        token = _form_token(b, "/dashboard/login")
        r = b.post("/dashboard/login", data={"form_token": token, "api_key": "sk_test_" + "x" * 32})
        codes.append(r.status_code)
    assert codes == [400] * 10 + [429]
    assert "Too many failed sign-ins" in r.text
    # The right key waits too, until the bucket refills; a guessed link counts the same.
    token = _form_token(b, "/dashboard/login")
    r = b.post("/dashboard/login", data={"form_token": token, "api_key": sb.secret_key})
    assert r.status_code == 429
    assert b.get("/dashboard/link/dl_" + "x" * 32).status_code == 429
    assert b.get("/dashboard").status_code == 303


@pytest.mark.parametrize("which", ["publishable", "unknown", "live"])
def test_only_a_test_secret_key_signs_in(sb: SandboxHandle, which: str) -> None:
    key = {
        "publishable": sb.publishable_key,
        "unknown": "sk_test_" + "x" * 32,
        "live": sb.backend.create_merchant("Live Shop", livemode=True).secret_key,
    }[which]
    b = _browser(sb)
    token = _form_token(b, "/dashboard/login")
    r = b.post("/dashboard/login", data={"form_token": token, "api_key": key})
    assert r.status_code == 400
    assert "ll_dashboard=" not in " ".join(r.headers.get_list("set-cookie"))
    assert b.get("/dashboard").status_code == 303


def test_the_sign_in_form_needs_its_token(sb: SandboxHandle) -> None:
    b = _browser(sb)
    b.get("/dashboard/login")  # the sign-in cookie, but no token in the post
    r = b.post("/dashboard/login", data={"api_key": sb.secret_key})
    assert r.status_code == 403
    assert b.get("/dashboard").status_code == 303


def test_a_one_time_link_signs_in_once(sb: SandboxHandle) -> None:
    with _client(sb) as client:
        link = client.test_helpers.dashboard_links.create()
    assert link.url.startswith(f"{sb.base_url}/dashboard/link/dl_")
    path = link.url[len(sb.base_url) :]
    b = _browser(sb)
    r = b.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    assert b.get("/dashboard").status_code == 200
    again = _browser(sb).get(path)
    assert again.status_code == 400 and "used already or has expired" in again.text
    assert "ll_dashboard=" not in " ".join(again.headers.get_list("set-cookie"))


def test_a_one_time_link_expires(sb: SandboxHandle, clock: Clock) -> None:
    with _client(sb) as client:
        late = client.test_helpers.dashboard_links.create()
        in_time = client.test_helpers.dashboard_links.create()
    clock.offset = LINK_SECONDS - 5
    assert _browser(sb).get(in_time.url[len(sb.base_url) :]).status_code == 303
    clock.offset = LINK_SECONDS + 1
    assert _browser(sb).get(late.url[len(sb.base_url) :]).status_code == 400


def test_a_forged_session_cookie_is_not_a_session(sb: SandboxHandle) -> None:
    b = sign_in(sb)
    real = b.cookies.get("ll_dashboard")
    assert real is not None
    token, mac = real.split(".")
    for forged in (
        f"{token[:-1]}{'A' if token[-1] != 'A' else 'B'}.{mac}",
        f"{token}.{'0' * len(mac)}",
        token,
        f"{sb.merchant_id}.{token}.{mac}",
    ):
        f = _browser(sb)
        f.cookies.set("ll_dashboard", forged, path="/dashboard")
        assert f.get("/dashboard").status_code == 303


def test_forms_without_their_token_are_refused_and_change_nothing(sb: SandboxHandle) -> None:
    b = sign_in(sb)
    with _client(sb) as client:
        before = client.test_helpers.clock.retrieve().now
        for data in ({"duration": "1d"}, {"duration": "1d", "form_token": "0" * 32}):
            r = b.post("/dashboard/clock/advance", data=data)
            assert r.status_code == 403
        # Another session's token does not fit this session either.
        theirs = _form_token(sign_in(sb), "/dashboard/clock")
        mine = _form_token(b, "/dashboard/clock")
        assert theirs != mine
        r = b.post("/dashboard/clock/advance", data={"duration": "1d", "form_token": theirs})
        assert r.status_code == 403
        # A cross-site post carries no cookie (SameSite=Strict): it is not signed in.
        bare = _browser(sb).post(
            "/dashboard/clock/advance", data={"duration": "1d", "form_token": mine}
        )
        assert bare.status_code == 303 and bare.headers["location"] == "/dashboard/login"
        # Ledger time follows the wall clock: a day's advance would show, seconds do not.
        assert client.test_helpers.clock.retrieve().now < before + 3600


def test_the_clock_advances_from_the_dashboard(sb: SandboxHandle) -> None:
    b = sign_in(sb)
    with _client(sb) as client:
        before = client.test_helpers.clock.retrieve().now
        token = _form_token(b, "/dashboard/clock")
        r = b.post("/dashboard/clock/advance", data={"duration": "2d", "form_token": token})
        assert r.status_code == 303 and r.headers["location"] == "/dashboard/clock?done=advanced"
        after = client.test_helpers.clock.retrieve().now
        # Ledger time also follows the wall clock, seconds apart.
        assert before + 2 * 86_400 <= after < before + 2 * 86_400 + 3600
        bad = b.post("/dashboard/clock/advance", data={"duration": "soon", "form_token": token})
        assert bad.status_code == 400 and "20d, 3h, 90m" in bad.text
        assert client.test_helpers.clock.retrieve().now < after + 3600
    assert "moved on" in b.get("/dashboard/clock?done=advanced").text


class Receiver:
    """A loopback webhook endpoint that records each delivery's event id and answers 200."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append(self.rfile.read(int(self.headers["content-length"])))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, event_id: str) -> int:
        return sum(event_id.encode() in b for b in self.bodies)

    def wait(self, event_id: str, n: int) -> None:
        deadline = time.monotonic() + 30
        while self.count(event_id) < n:
            assert time.monotonic() < deadline, f"{n} deliveries of {event_id} did not arrive"
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_event_is_resent_from_its_page(sb: SandboxHandle) -> None:
    receiver = Receiver()
    try:
        endpoint = sb.create_webhook_endpoint(receiver.url)
        with _client(sb) as client:
            event = client.test_helpers.events.trigger(type="webhook_endpoint.ping")
        receiver.wait(event.id, 1)
        b = sign_in(sb)
        page = b.get(f"/dashboard/events/{event.id}")
        assert page.status_code == 200 and "HTTP 200" in page.text
        token = _TOKEN.search(page.text)
        assert token is not None
        r = b.post(
            f"/dashboard/events/{event.id}/resend",
            data={"form_token": token.group(1), "endpoint": endpoint["id"]},
        )
        assert r.status_code == 303
        assert r.headers["location"] == f"/dashboard/events/{event.id}?done=resent"
        receiver.wait(event.id, 2)
        # Each attempt is on the endpoint's page, with the event it carried.
        deadline = time.monotonic() + 30
        while b.get(f"/dashboard/webhooks/{endpoint['id']}").text.count("HTTP 200") < 2:
            assert time.monotonic() < deadline, "the second attempt was not logged"
            time.sleep(0.05)
        # Without its token the resend is refused and nothing more is sent.
        refused = b.post(f"/dashboard/events/{event.id}/resend", data={})
        assert refused.status_code == 403
        assert receiver.count(event.id) == 2
    finally:
        receiver.close()


def test_a_merchant_sees_only_its_own_objects(sb: SandboxHandle) -> None:
    other = sb.create_merchant("Other Shop")
    with _client(sb, other.secret_key) as theirs:
        customer = theirs.test_helpers.wallets.retrieve("approve").address
        bill = theirs.bills.create(customer=customer, amount=usdc(12))
        theirs.test_helpers.bills.pay(bill.id, wallet="approve")
        their_event = theirs.events.list(limit=1).data[0]
        their_endpoint = theirs.webhook_endpoints.create(
            url="https://other.test/hooks", enabled_events=["*"]
        )
        session = theirs.checkout.sessions.create(
            line_items=[{"name": "Tea", "quantity": 1, "unit_amount": usdc(3)}],
            success_url="https://other.test/ok",
            cancel_url="https://other.test/cancel",
        )
    b = sign_in(sb)
    for path in (
        f"/dashboard/bills/{bill.id}",
        f"/dashboard/events/{their_event.id}",
        f"/dashboard/webhooks/{their_endpoint.id}",
        f"/dashboard/sessions/{session.id}",
    ):
        r = b.get(path)
        assert r.status_code == 404, path
        assert bill.id not in r.text
    for path in ("/dashboard", "/dashboard/bills", "/dashboard/events", "/dashboard/sessions"):
        text = b.get(path).text
        assert bill.id not in text and their_event.id not in text and session.id not in text
    assert their_endpoint.id not in b.get("/dashboard/webhooks").text
    token = _form_token(b, "/dashboard/events")
    r = b.post(f"/dashboard/events/{their_event.id}/resend", data={"form_token": token})
    assert r.status_code == 404
    # The other merchant, signed in, does see them.
    them = sign_in(sb, other.secret_key)
    assert bill.id in them.get("/dashboard/bills").text
    assert them.get(f"/dashboard/bills/{bill.id}").status_code == 200


def test_keys_are_shown_again_and_rolled_with_a_form(sb: SandboxHandle) -> None:
    b = sign_in(sb)
    listed = b.get("/dashboard/keys")
    assert sb.secret_key not in listed.text and f"…{sb.secret_key[-4:]}" in listed.text
    token = _form_token(b, "/dashboard/keys")
    assert b.post("/dashboard/keys/reveal", data={}).status_code == 403
    shown = b.post("/dashboard/keys/reveal", data={"form_token": token})
    assert shown.status_code == 200 and sb.secret_key in shown.text
    assert shown.headers["cache-control"] == "no-store"
    with _client(sb) as client:
        secret = next(k for k in client.api_keys.list().data if k.type == "secret")
        rolled = b.post(
            f"/dashboard/keys/{secret.id}/roll", data={"form_token": token, "expires_in": "0"}
        )
        assert rolled.status_code == 200
        new_key = re.search(r'<code id="new-key">(sk_test_[^<]+)</code>', rolled.text)
        assert new_key is not None
    # The old key stopped at once; the new one works, and signs in.
    with _client(sb, new_key.group(1)) as fresh:
        assert fresh.account.retrieve().id == sb.merchant_id
    r = httpx.get(f"{sb.base_url}/v1/account", headers={"Authorization": f"Bearer {sb.secret_key}"})
    assert r.status_code == 401
    sign_in(sb, new_key.group(1))
    # Another merchant's key id is not this account's.
    other = sb.create_merchant("Other Shop")
    with _client(sb, other.secret_key) as theirs:
        their_key = theirs.api_keys.list().data[0]
    r = b.post(f"/dashboard/keys/{their_key.id}/roll", data={"form_token": token})
    assert r.status_code == 404


class Refuser:
    """A loopback webhook endpoint that refuses every delivery with a JSON reason."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                answer = b'{"error": "order <unknown>"}'
                self.send_response(422)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_attempt_shows_the_request_sent_and_the_response(sb: SandboxHandle) -> None:
    refuser = Refuser()
    try:
        endpoint = sb.create_webhook_endpoint(refuser.url)
        with _client(sb) as client:
            event = client.test_helpers.events.trigger(type="webhook_endpoint.ping")
            deadline = time.monotonic() + 30
            while not (attempts := client.webhook_endpoints.deliveries(endpoint["id"]).data):
                assert time.monotonic() < deadline, "no attempt was logged"
                time.sleep(0.05)
        (attempt,) = attempts
        assert attempt.response_body == '{"error": "order <unknown>"}'
        assert attempt.response_headers == {"content-type": "application/json"}
        ((sent_headers, sent_body),) = refuser.requests
        assert attempt.request_signature == sent_headers["x-lumenlater-signature"]
        b = sign_in(sb)
        listing = b.get(f"/dashboard/webhooks/{endpoint['id']}")
        link = f"/dashboard/webhooks/{endpoint['id']}/attempts/{attempt.id}"
        assert link in listing.text
        assert "order &lt;unknown&gt;" in listing.text  # the response body, as text
        page = b.get(link)
        assert page.status_code == 200
        text = html.unescape(page.text)
        # The request as sent: every header the receiver got, and the body byte for byte.
        for name in (
            "Content-Type",
            "User-Agent",
            "X-LumenLater-Event-Id",
            "X-LumenLater-Event-Type",
            "X-LumenLater-Delivery-Attempt",
            "X-LumenLater-Signature",
            "Content-Length",
        ):
            assert f"{name}: {sent_headers[name.lower()]}\n" in text, name
        assert f'<pre id="request-body" class="wrap">{sent_body.decode()}</pre>' in text
        assert "HTTP 422\ncontent-type: application/json\n" in text
        assert '<pre id="response-body" class="wrap">{"error": "order <unknown>"}</pre>' in text
        assert "<unknown>" not in page.text  # escaped, never markup
        # The event's page lists the same attempt with its response.
        assert "order &lt;unknown&gt;" in b.get(f"/dashboard/events/{event.id}").text
        # Another merchant's session cannot open it.
        other = sb.create_merchant("Other Shop")
        assert sign_in(sb, other.secret_key).get(link).status_code == 404
        assert b.get(link[:-3] + "xyz").status_code == 404
    finally:
        refuser.close()
