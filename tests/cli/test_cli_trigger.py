"""``lumenlater trigger TYPE --override OBJECT:FIELD=VALUE`` and the test helper's
``overrides`` behind it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from cli_support import run_cli

from lumenlater_sdk import LumenLater, usdc
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.errors import BadRequestError


def _client(sb: SandboxHandle) -> LumenLater:
    return LumenLater(api_key=sb.secret_key, base_url=sb.base_url)


def test_overrides_shape_the_bill_and_the_session(any_sandbox: SandboxHandle) -> None:
    sb = any_sandbox
    r = run_cli(sb, "trigger", "bill.paid", "--override", "bill:amount=5000000",
                "--override", "bill:metadata[k]=v", "--override", "bill:order_id=o-9")  # fmt: skip
    assert r.returncode == 0, r.stderr
    # stdout is the event the API answered, as JSON; what was triggered goes to stderr.
    printed = json.loads(r.stdout)
    event_id = printed["id"]
    assert printed["type"] == "bill.paid" and f"Triggered bill.paid: {event_id}" in r.stderr
    assert printed["data"]["object"]["amount"] == 5_000_000
    with _client(sb) as ll:
        bill = ll.events.retrieve(event_id).to_dict()["data"]["object"]
        assert (bill["amount"], bill["metadata"], bill["order_id"]) == (
            5_000_000,
            {"k": "v"},
            "o-9",
        )
        assert bill["status"] == "paid"
    r = run_cli(sb, "trigger", "checkout.session.completed",
                "--override", "checkout_session:amount=2.50")  # fmt: skip
    assert r.returncode == 0, r.stderr
    with _client(sb) as ll:
        session = ll.events.retrieve(json.loads(r.stdout)["id"]).to_dict()["data"]["object"]
        assert session["amount"] == usdc("2.50") and session["status"] == "complete"
        # Through the SDK, the same body.
        event = ll.test_helpers.events.trigger(
            type="bill.created", overrides={"bill": {"amount": 7, "description": "seven"}}
        ).to_dict()
        assert (event["data"]["object"]["amount"], event["data"]["object"]["description"]) == (
            7,
            "seven",
        )


def test_bad_overrides_are_refused_before_anything_is_made(any_sandbox: SandboxHandle) -> None:
    sb = any_sandbox
    with _client(sb) as ll:
        bills_before = len(list(ll.bills.list()))
        sessions_before = len(list(ll.checkout.sessions.list()))
        for type_, overrides, param in (
            ("checkout.session.completed", {"bill": {"amount": 5}}, "overrides[bill]"),
            ("webhook_endpoint.ping", {"bill": {"amount": 5}}, "overrides[bill]"),
            ("bill.paid", {"bill": {"colour": "red"}}, "overrides[bill][colour]"),
            ("bill.paid", {"bill": {"amount": 0}}, "overrides[bill][amount]"),
            # More than the approve wallet can borrow: refused up front, no stray bill.
            ("bill.paid", {"bill": {"amount": usdc("900000000")}}, None),
            ("checkout.session.completed", {"checkout_session": {"amount": usdc("900000000")}},
             None),
        ):  # fmt: skip
            with pytest.raises(BadRequestError) as err:
                ll.test_helpers.events.trigger(type=type_, overrides=overrides)
            if param is not None:
                assert err.value.param == param, (type_, overrides, err.value)
        with pytest.raises(TypeError):  # a float is never money, here either
            ll.test_helpers.events.trigger(type="bill.paid", overrides={"bill": {"amount": 1.5}})
        assert len(list(ll.bills.list())) == bills_before
        assert len(list(ll.checkout.sessions.list())) == sessions_before
    cli = run_cli(sb, "trigger", "bill.paid", "--override", "checkout_session:amount=1")
    assert cli.returncode == 1
    assert "param:" in cli.stderr and "overrides[checkout_session]" in cli.stderr
    assert "Traceback" not in cli.stderr
    assert cli.stdout == ""  # nothing on stdout for a pipe to misread
    malformed = run_cli(sb, "trigger", "bill.paid", "--override", "amount=5")
    assert malformed.returncode == 2 and "OBJECT:FIELD=VALUE" in malformed.stderr
