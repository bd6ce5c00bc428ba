"""construct_event: verified bytes in, the typed event class out."""

from __future__ import annotations

import json

import pytest
from webhook_support import SECRET

from lumenlater_sdk.types import Account, Bill, CheckoutSession, PaymentFailure, WebhookEndpoint
from lumenlater_sdk.webhooks import (
    EVENT_CLASSES,
    EVENT_TYPES,
    BillPaidEvent,
    Event,
    InvalidPayloadError,
    SignatureVerificationError,
    _events,
    construct_event,
    sign,
)
from lumenlater_sdk.webhooks.testing import make_event

NOW = 1_800_000_000
OBJECT_CLASSES = {
    "bill": Bill,
    "checkout": CheckoutSession,
    "webhook_endpoint": WebhookEndpoint,
    "merchant": Account,
    "payment": PaymentFailure,
}


def signed(data: object) -> tuple[bytes, str]:
    body = json.dumps(data, separators=(",", ":")).encode()
    return body, sign(body, SECRET, NOW)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_known_type_gives_its_class_and_object_model(event_type: str) -> None:
    data = make_event(event_type, now=NOW)
    event = construct_event(*signed(data), SECRET, now=NOW)
    assert type(event) is EVENT_CLASSES[event_type]
    assert event.id == data["id"] and event.type == event_type
    assert isinstance(event.data.object, OBJECT_CLASSES[event_type.split(".")[0]])  # type: ignore[attr-defined]
    assert event.data.object.id == data["data"]["object"]["id"]  # type: ignore[attr-defined]


def test_bill_paid_fields() -> None:
    data = make_event("bill.paid", now=NOW)
    event = construct_event(*signed(data), SECRET, now=NOW)
    assert isinstance(event, BillPaidEvent)
    assert event.data.object.amount == data["data"]["object"]["amount"]
    assert event.data.object.status == "paid"
    assert event.data.previous_attributes == {"status": "created"}


def test_unknown_type_gives_generic_event() -> None:
    data = make_event("bill.disputed", now=NOW, data_object={"id": "bill_1", "weird": [1, 2]})
    event = construct_event(*signed(data), SECRET, now=NOW)
    assert type(event) is Event
    assert event.type == "bill.disputed"
    assert event.data.object == {"id": "bill_1", "weird": [1, 2]}  # type: ignore[attr-defined]


def test_nested_type_key_does_not_fool_the_type_peek() -> None:
    # A "type" key that appears before the top-level one must not decide the class.
    paid = make_event("bill.paid", now=NOW)
    data = {"data": paid["data"], **{k: v for k, v in paid.items() if k != "data"}}
    data["data"]["object"]["metadata"] = {"type": "checkout.session.completed"}
    event = construct_event(*signed(data), SECRET, now=NOW)
    assert isinstance(event, BillPaidEvent)

    unknown = make_event("brand.new", now=NOW, data_object={"type": "bill.paid"})
    data = {"data": unknown["data"], **{k: v for k, v in unknown.items() if k != "data"}}
    assert type(construct_event(*signed(data), SECRET, now=NOW)) is Event

    # An unknown nested type first, the known top-level type after it.
    paid = make_event("bill.paid", now=NOW, previous_attributes={"type": "x.y"})
    paid["data"] = {"previous_attributes": paid["data"]["previous_attributes"], **paid["data"]}
    data = {"data": paid["data"], **{k: v for k, v in paid.items() if k != "data"}}
    assert json.dumps(data).index('"x.y"') < json.dumps(data).index('"bill.paid"')
    assert isinstance(construct_event(*signed(data), SECRET, now=NOW), BillPaidEvent)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_known_type_is_parsed_in_one_pass(
    event_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The generic path parses a body twice (as Event, then as its class). A known type
    # never needs it, however its top-level "type" is written: with an escaped
    # character, or after a decoy "type" nested earlier in the body.
    def generic(body: bytes) -> None:
        raise AssertionError(f"generic path taken for {body[:80]!r}")

    monkeypatch.setattr(_events, "_parse_generic", generic)
    plain = make_event(event_type, now=NOW)
    body = json.dumps(plain, separators=(",", ":")).encode()
    escaped = body.replace(
        f'"type":"{event_type}"'.encode(),
        ('"type":"' + event_type.replace(".", "\\u002e") + '"').encode(),
        1,
    )
    assert escaped != body
    decoy = make_event(event_type, now=NOW, previous_attributes={"type": "x.y"})
    decoy_first = {"data": decoy["data"], **{k: v for k, v in decoy.items() if k != "data"}}
    for data in (body, escaped, json.dumps(decoy_first).encode()):
        event = construct_event(data, sign(data, SECRET, NOW), SECRET, now=NOW)
        assert type(event) is EVENT_CLASSES[event_type]
        assert type(_events.parse_event_payload(data)) is EVENT_CLASSES[event_type]


def test_unknown_fields_are_kept() -> None:
    data = make_event("bill.paid", now=NOW, future_field="x")
    data["data"]["object"]["installments"] = 4
    event = construct_event(*signed(data), SECRET, now=NOW)
    assert event.model_extra == {"future_field": "x"}
    assert event.data.object.model_extra == {"installments": 4}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"id": "evt_1"}', b"", b'{"type": "bill.paid"}', b"\xff\xfe"],
)
def test_signed_non_event_is_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError) as info:
        construct_event(body, sign(body, SECRET, NOW), SECRET, now=NOW)
    assert isinstance(info.value, ValueError)


def test_known_type_with_a_broken_object_is_invalid_payload() -> None:
    data = make_event("bill.paid", now=NOW)
    del data["data"]["object"]["amount"]
    with pytest.raises(InvalidPayloadError, match=r"bill\.paid"):
        construct_event(*signed(data), SECRET, now=NOW)


def test_signature_is_checked_before_parsing() -> None:
    with pytest.raises(SignatureVerificationError):
        construct_event(b"not json", sign(b"other", SECRET, NOW), SECRET, now=NOW)


def test_str_payload_and_list_of_secrets() -> None:
    body, header = signed(make_event("bill.repaid", now=NOW))
    event = construct_event(body.decode(), header, ["whsec_old", SECRET], now=NOW)
    assert event.type == "bill.repaid"


def test_tolerance_applies() -> None:
    body, header = signed(make_event("bill.paid", now=NOW))
    with pytest.raises(SignatureVerificationError, match="too old"):
        construct_event(body, header, SECRET, now=NOW + 301)
    assert construct_event(body, header, SECRET, tolerance=600, now=NOW + 301).type == "bill.paid"
