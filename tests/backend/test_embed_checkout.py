"""The embedded checkout's wire, without a browser: ``embed_origins`` on the account and
the session (validated as origins), the hosted page's framing and security headers, the
CORS answers of the widget's session read (allowed origins only, never ``*``), and the
versioned embed script."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from backend_helpers import Api

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk._embed_script import script_bytes, script_url, script_version
from lumenlater_sdk.backend.services.validation import check_origin, check_origins
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.checkout import embed_html, widget_html

SHOP = "https://shop.example"
OTHER = "https://evil.example"


def _session(api: Api, **extra: Any) -> dict[str, Any]:
    return api.ok(
        "POST",
        "/v1/checkout/sessions",
        json={
            "amount": usdc(5),
            "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/cart",
            **extra,
        },
    )


@pytest.fixture
def anon(sb: SandboxHandle) -> Iterator[httpx.Client]:
    """A client with no key, as a browser's preflight comes."""
    with httpx.Client(base_url=sb.base_url) as c:
        yield c


def _preflight(anon: httpx.Client, sid: str, origin: str, **headers: str) -> httpx.Response:
    return anon.options(
        f"/v1/checkout/sessions/{sid}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,lumenlater-version",
            **headers,
        },
    )


# --- origins -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("https://shop.example", "https://shop.example"),
        ("HTTPS://Shop.Example", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:80", "http://localhost"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_an_origin_is_normalized_as_browsers_send_it(given: str, normal: str) -> None:
    assert check_origin(given) == normal


@pytest.mark.parametrize(
    "bad",
    [
        "https://shop.example/",
        "https://shop.example/checkout",
        "https://shop.example?x=1",
        "https://shop.example#x",
        "*",
        "https://*.shop.example",
        "null",
        "shop.example",
        "ftp://shop.example",
        "https://user@shop.example",
        "https://shop.example:0",
        "https://shop.example:70000",
        "https://shop.example\n",
        "https://sh op.example",
        "",
    ],
)
def test_anything_but_an_origin_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        check_origin(bad)


def test_origin_lists_drop_duplicates_and_are_bounded() -> None:
    assert check_origins([SHOP, SHOP.upper(), SHOP + ":443"]) == [SHOP]
    with pytest.raises(ValueError):
        check_origins([f"https://s{i}.example" for i in range(21)])
    with pytest.raises(ValueError):
        check_origins(SHOP)


def test_account_embed_origins_are_set_validated_and_shown(api: Api) -> None:
    assert api.ok("GET", "/v1/account")["embed_origins"] == []
    got = api.ok("POST", "/v1/account", json={"embed_origins": [SHOP, "HTTP://LOCALHOST:8000"]})
    assert got["embed_origins"] == [SHOP, "http://localhost:8000"]
    assert api.ok("GET", "/v1/account")["embed_origins"] == [SHOP, "http://localhost:8000"]
    bad = api.post("/v1/account", json={"embed_origins": ["https://shop.example/pay"]})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "parameter_invalid"
    assert bad.json()["error"]["param"] == "embed_origins[0]"
    assert api.post("/v1/account", json={"embed_origins": "https://x.y"}).status_code == 400
    assert api.post("/v1/account", json={"business_name": "x"}).status_code == 400
    assert api.ok("POST", "/v1/account", json={})["embed_origins"] == [  # no change
        SHOP,
        "http://localhost:8000",
    ]
    assert api.ok("POST", "/v1/account", json={"embed_origins": []})["embed_origins"] == []


def test_a_session_takes_its_own_embed_origins(api: Api) -> None:
    assert _session(api)["embed_origins"] is None  # the account's
    own = _session(api, embed_origins=[SHOP + ":443"])
    assert own["embed_origins"] == [SHOP]
    bad = api.post(
        "/v1/checkout/sessions",
        json={
            "amount": 1,
            "success_url": "https://a.b",
            "cancel_url": "https://a.b",
            "embed_origins": ["*"],
        },
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "embed_origins[0]"


def test_the_sdk_sends_embed_origins(sb: SandboxHandle) -> None:
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as c:
        assert c.account.update(embed_origins=[SHOP]).embed_origins == [SHOP]
        assert c.account.retrieve().embed_origins == [SHOP]
        s = c.checkout.sessions.create(
            amount=usdc(1), success_url=SHOP, cancel_url=SHOP, embed_origins=[OTHER]
        )
        assert s.embed_origins == [OTHER]
        assert c.checkout.sessions.retrieve(s.id).embed_origins == [OTHER]
        with pytest.raises(TypeError):
            c.account.update(embed_origins=SHOP)
        with pytest.raises(TypeError):
            c.checkout.sessions.create(
                amount=1,
                success_url=SHOP,
                cancel_url=SHOP,
                embed_origins=SHOP,
            )


# --- the hosted page's headers -------------------------------------------------------


def test_the_full_page_may_be_framed_by_nobody(api: Api, anon: httpx.Client) -> None:
    api.ok("POST", "/v1/account", json={"embed_origins": [SHOP]})
    s = _session(api)
    for r in (anon.get(f"/pay/{s['id']}"), anon.get("/pay/cs_missing")):
        assert r.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


def test_embedded_mode_may_be_framed_by_the_allowed_origin_only(
    api: Api, anon: httpx.Client
) -> None:
    api.ok("POST", "/v1/account", json={"embed_origins": [SHOP, OTHER]})
    s = _session(api)
    r = anon.get(f"/pay/{s['id']}", params={"embed": "1", "origin": SHOP})
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == f"frame-ancestors {SHOP}"
    assert "x-frame-options" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "lumenlater-checkout" in r.text and '<body class="embedded">' in r.text
    # The session's own list replaces the account's.
    narrow = _session(api, embed_origins=[SHOP])
    for origin in (OTHER, "https://unknown.example"):
        refused = anon.get(f"/pay/{narrow['id']}", params={"embed": "1", "origin": origin})
        assert refused.status_code == 403
        assert refused.headers["content-security-policy"] == "frame-ancestors 'none'"
    no_origin = anon.get(f"/pay/{narrow['id']}", params={"embed": "1"})
    assert no_origin.status_code == 403
    # Embedded forms keep the mode; the parent origin is in the page as a JS string only.
    ok = anon.get(f"/pay/{narrow['id']}", params={"embed": "1", "origin": SHOP})
    assert f'action="/pay/{narrow["id"]}?embed=1&amp;origin=https%3A%2F%2Fshop.example"' in ok.text


def test_embedded_refusal_keeps_the_mode_and_reports_the_code(api: Api, anon: httpx.Client) -> None:
    s = _session(api, embed_origins=[SHOP])
    page = anon.get(f"/pay/{s['id']}", params={"embed": "1", "origin": SHOP}).text
    token = page.split('name="token" value="')[1].split('"')[0]
    r = anon.post(
        f"/pay/{s['id']}",
        params={"embed": "1", "origin": SHOP},
        data={"token": token, "wallet": "decline"},
    )
    assert r.status_code == 402
    assert r.headers["content-security-policy"] == f"frame-ancestors {SHOP}"
    assert '"code": "insufficient_collateral"' in r.text
    r = anon.post(
        f"/pay/{s['id']}",
        params={"embed": "1", "origin": SHOP},
        data={"token": token, "wallet": "approve"},
    )
    assert r.status_code == 200  # no redirect to success_url inside the frame
    assert '"type": "success"' in r.text and '"billId": "bill_' in r.text


def test_unknown_page_parameters_are_refused(api: Api, anon: httpx.Client) -> None:
    s = _session(api)
    assert anon.get(f"/pay/{s['id']}", params={"embedded": "yes"}).status_code == 400


# --- CORS of the widget's session read -----------------------------------------------


def test_preflight_is_answered_for_allowed_origins_only(api: Api, anon: httpx.Client) -> None:
    api.ok("POST", "/v1/account", json={"embed_origins": [SHOP]})
    s = _session(api)
    ok = _preflight(anon, s["id"], SHOP)
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SHOP
    assert ok.headers["access-control-allow-methods"] == "GET"
    assert set(ok.headers["access-control-allow-headers"].split(", ")) == {
        "authorization",
        "lumenlater-version",
    }
    assert "Origin" in ok.headers["vary"]
    assert "access-control-allow-credentials" not in ok.headers
    refused = [
        _preflight(anon, s["id"], OTHER),
        _preflight(anon, s["id"], "null"),
        _preflight(anon, "cs_unknown", SHOP),
        _preflight(anon, s["id"], SHOP, **{"Access-Control-Request-Method": "POST"}),
        _preflight(anon, s["id"], SHOP, **{"Access-Control-Request-Headers": "x-evil"}),
    ]
    for r in refused:
        assert r.status_code == 403
        assert not any(h.startswith("access-control-") for h in r.headers), r.headers
        assert r.json()["error"]["code"] == "origin_not_allowed"
    # The session's own list wins over the account's.
    own = _session(api, embed_origins=[OTHER])
    assert _preflight(anon, own["id"], OTHER).status_code == 204
    assert _preflight(anon, own["id"], SHOP).status_code == 403


def test_no_other_route_answers_cors(api: Api, anon: httpx.Client) -> None:
    api.ok("POST", "/v1/account", json={"embed_origins": [SHOP]})
    s = _session(api)
    for path in ("/v1/checkout/sessions", f"/v1/checkout/sessions/{s['id']}/expire", "/v1/bills"):
        r = anon.options(
            path,
            headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in r.headers, path
    listed = api.get("/v1/checkout/sessions", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in listed.headers


def test_the_session_read_names_the_allowed_origin(
    sb: SandboxHandle, api: Api, anon: httpx.Client
) -> None:
    api.ok("POST", "/v1/account", json={"embed_origins": [SHOP]})
    s = _session(api)
    auth = {"Authorization": f"Bearer {sb.publishable_key}"}
    path = f"/v1/checkout/sessions/{s['id']}"
    read = anon.get(
        path, params={"client_secret": s["client_secret"]}, headers=auth | {"Origin": SHOP}
    )
    assert read.status_code == 200
    assert read.headers["access-control-allow-origin"] == SHOP
    assert "Request-Id" in read.headers["access-control-expose-headers"]
    assert "Origin" in read.headers["vary"]
    # A refusal is readable by the widget too (it reports it), from that origin only.
    bad = anon.get(path, params={"client_secret": "nope"}, headers=auth | {"Origin": SHOP})
    assert bad.status_code == 404 and bad.headers["access-control-allow-origin"] == SHOP
    other = anon.get(
        path, params={"client_secret": s["client_secret"]}, headers=auth | {"Origin": OTHER}
    )
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


# --- the script ------------------------------------------------------------------------


def test_the_versioned_script_is_cached_for_a_year(anon: httpx.Client) -> None:
    versioned = anon.get("/v1/js/lumenlater.js", params={"v": script_version()})
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["content-type"].startswith("application/javascript")
    assert versioned.headers["x-content-type-options"] == "nosniff"
    assert versioned.content == script_bytes()
    for params in ({}, {"v": "0.0.1-deadbeef00"}):
        r = anon.get("/v1/js/lumenlater.js", params=params)
        assert r.headers["cache-control"] == "public, max-age=300", params
        assert r.content == script_bytes()
    assert b"http" not in script_bytes().replace(b"https://api.example", b"")  # no 3rd party


def test_embed_html_writes_the_versioned_script_and_the_container(
    api: Api, sb: SandboxHandle
) -> None:
    from lumenlater_sdk.types import CheckoutSession

    s = CheckoutSession.model_validate(_session(api))
    html = embed_html(
        s, sb.publishable_key, appearance={"accentColor": "#0b6e4f"}, container_id="pay-here"
    )
    assert f'src="{script_url(sb.base_url)}"'.replace("&", "&amp;") in html
    assert 'id="pay-here"' in html and "data-lumenlater-checkout" in html
    assert 'data-appearance="{&quot;accentColor&quot;: &quot;#0b6e4f&quot;}"' in html
    assert widget_html(s, sb.publishable_key).startswith('<div id="lumenlater-checkout"')
    with pytest.raises(ValueError):
        embed_html(s, sb.secret_key)


def test_live_mode_takes_https_origins_and_loopback_only() -> None:
    live = ["https://shop.example", "http://localhost:3000", "http://127.0.0.1", "http://[::1]:8"]
    assert check_origins(live, livemode=True) == live
    for bad in ("http://shop.example", "http://[2001:db8::1]", "http://10.0.0.1"):
        with pytest.raises(ValueError, match="not https"):
            check_origins([bad], livemode=True)
        assert check_origins([bad]) == [bad]  # test mode: any scheme of the two
