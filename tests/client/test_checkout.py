"""lumenlater_sdk.checkout: redirect, return confirmation and the embeddable widget."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from client_support import Api, Server

from lumenlater_sdk import NotFoundError
from lumenlater_sdk._embed_script import script_version
from lumenlater_sdk._version import __version__
from lumenlater_sdk.checkout import (
    CheckoutNotPaidError,
    confirm_return,
    redirect_url,
    widget_html,
)
from lumenlater_sdk.types import CheckoutSession


def session(**over: Any) -> CheckoutSession:
    data: dict[str, Any] = {
        "id": "cs_1", "object": "checkout.session", "created": 1,
        "url": "http://127.0.0.1:8787/pay/cs_1", "client_secret": "cs_1_secret_abc",
        "status": "open", "payment_status": "unpaid", "amount": 100,
        "success_url": "https://shop/ok", "cancel_url": "https://shop/no", "expires_at": 2,
    }  # fmt: skip
    data.update(over)
    return CheckoutSession.model_validate(data)


def test_redirect_url_is_the_hosted_page() -> None:
    assert redirect_url(session()) == "http://127.0.0.1:8787/pay/cs_1"


@pytest.mark.parametrize("status", ["complete", "expired"])
def test_redirect_url_refuses_a_closed_session(status: str) -> None:
    with pytest.raises(ValueError, match=status):
        redirect_url(session(status=status))


async def test_confirm_return_gives_a_paid_session(api: Api, server: Server) -> None:
    paid = session(status="complete", payment_status="paid", bill="bill_1").to_dict()
    server.queue(httpx.Response(200, json=paid))
    got = await api(lambda c: confirm_return(c, "cs_1"))
    assert isinstance(got, CheckoutSession) and got.bill == "bill_1"
    assert server.last.url.path == "/v1/checkout/sessions/cs_1"


@pytest.mark.parametrize("status", ["open", "expired"])
async def test_confirm_return_raises_when_unpaid(api: Api, server: Server, status: str) -> None:
    server.queue(httpx.Response(200, json=session(status=status).to_dict()))
    with pytest.raises(CheckoutNotPaidError) as ei:
        await api(lambda c: confirm_return(c, "cs_1"))
    assert ei.value.session.id == "cs_1"
    assert (ei.value.status, ei.value.payment_status) == (status, "unpaid")


async def test_confirm_return_refuses_a_foreign_id(api: Api, server: Server) -> None:
    with pytest.raises(ValueError):
        await api(lambda c: confirm_return(c, "bill_1"))
    assert server.requests == []


async def test_confirm_return_passes_api_errors_through(api: Api, server: Server) -> None:
    server.queue(httpx.Response(404, json={"error": {"type": "invalid_request_error"}}))
    with pytest.raises(NotFoundError):
        await api(lambda c: confirm_return(c, "cs_missing"))


def test_widget_html_has_script_and_container() -> None:
    html = widget_html(session(), "pk_test_123")
    # The script's URL carries its version, so it can be cached for a year.
    version = script_version()
    src = f"http://127.0.0.1:8787/v1/js/lumenlater.js?v={version}"
    assert f'<script src="{src}" defer></script>' in html
    assert version.startswith(__version__ + "-")
    assert 'id="lumenlater-checkout"' in html
    assert 'data-session="cs_1"' in html
    assert 'data-client-secret="cs_1_secret_abc"' in html
    assert 'data-publishable-key="pk_test_123"' in html


def test_widget_html_escapes_every_value() -> None:
    evil = session(id='cs_"><script>x</script>', client_secret="a&b<c>")
    html = widget_html(evil, 'pk_test_"onload="x', base_url='https://h/"><img')
    assert "<script>x" not in html and "<img" not in html
    assert 'onload="x' not in html
    assert "&quot;&gt;&lt;script&gt;" in html and "a&amp;b&lt;c&gt;" in html
    assert html.count("<script") == 1


def test_widget_html_honours_base_url() -> None:
    html = widget_html(session(), "pk_test_1", base_url="https://api.lumenlater.com/")
    assert f'src="https://api.lumenlater.com/v1/js/lumenlater.js?v={script_version()}"' in html


@pytest.mark.parametrize("key", ["sk_test_secret", "", "whatever"])
def test_widget_html_refuses_non_publishable_keys(key: str) -> None:
    with pytest.raises(ValueError, match="publishable"):
        widget_html(session(), key)


def test_widget_html_needs_a_client_secret() -> None:
    with pytest.raises(ValueError, match="client_secret"):
        widget_html(session(client_secret=None), "pk_test_1")
