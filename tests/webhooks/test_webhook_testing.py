"""The test helpers users get: realistic objects and correctly signed requests."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from stellar_sdk import StrKey
from webhook_support import OTHER_SECRET, SECRET

from lumenlater_sdk.webhooks import EVENT_CLASSES, EVENT_TYPES, construct_event
from lumenlater_sdk.webhooks.testing import (
    make_event,
    random_address,
    random_contract_id,
    sample_bill,
    signed_request,
)


def test_addresses_are_valid_stellar_keys() -> None:
    assert StrKey.is_valid_ed25519_public_key(random_address())
    assert StrKey.is_valid_contract(random_contract_id())
    bill = sample_bill("paid")
    assert StrKey.is_valid_ed25519_public_key(bill["customer"])
    assert StrKey.is_valid_contract(bill["chain"]["contract_id"])
    # As the API reports it: the grace period counts from creation (contract repay_bill).
    assert bill["grace_period_ends_at"] == bill["created"] + 14 * 86400


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_signed_request_for_every_type(event_type: str) -> None:
    req = signed_request(event_type, SECRET, attempt=3)
    assert req.headers["X-LumenLater-Event-Id"] == req.event_id
    assert req.headers["X-LumenLater-Event-Type"] == event_type
    assert req.headers["X-LumenLater-Delivery-Attempt"] == "3"
    assert req.headers["Content-Type"] == "application/json"
    t, v1 = req.headers["X-LumenLater-Signature"].split(",")
    mac = hmac.new(SECRET.encode(), f"{t[2:]}.".encode() + req.body, hashlib.sha256)
    assert v1 == f"v1={mac.hexdigest()}"
    event = construct_event(req.body, req.headers["X-LumenLater-Signature"], SECRET)
    assert type(event) is EVENT_CLASSES[event_type]
    assert json.loads(req.body) == req.event


def test_signed_request_from_dict_model_and_secret_list() -> None:
    data = make_event("bill.paid", order_id_hint="x")
    req = signed_request(data, [SECRET, OTHER_SECRET], timestamp=1_800_000_000)
    header = req.headers["X-LumenLater-Signature"]
    assert header.count("v1=") == 2
    event = construct_event(req.body, header, OTHER_SECRET, now=1_800_000_000)
    again = signed_request(event, SECRET)
    assert json.loads(again.body)["id"] == data["id"]
