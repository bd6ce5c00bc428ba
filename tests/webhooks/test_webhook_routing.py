"""Routing on the id and type read from the raw body: hostile bodies, and the answers
given without the typed parse (a duplicate, an event type without a handler)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from webhook_support import SECRET, serve

from lumenlater_sdk.webhooks import (
    BaseEvent,
    ClaimStatus,
    EventStore,
    InMemoryEventStore,
    WebhookApp,
    construct_event,
    sign,
)
from lumenlater_sdk.webhooks._core import Reply
from lumenlater_sdk.webhooks._events import guess_id_type, peek_id_type
from lumenlater_sdk.webhooks.testing import make_event, sample_bill

Seen = list[tuple[str, str, str]]


def receiver(store: EventStore) -> tuple[WebhookApp, Seen]:
    """A receiver with handlers for bill.paid and bill.created that record what they got."""
    hooks = WebhookApp(secret=SECRET, store=store)
    seen: Seen = []

    @hooks.on("bill.paid")
    def paid(event: BaseEvent) -> None:
        seen.append(("bill.paid", event.id, type(event).__name__))

    @hooks.on("bill.created")
    def created(event: BaseEvent) -> None:
        seen.append(("bill.created", event.id, type(event).__name__))

    return hooks, seen


def deliver(hooks: WebhookApp, body: bytes) -> Reply:
    return hooks.handle_sync("POST", str(len(body)), sign(body, SECRET), io.BytesIO(body).read)


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


def paid_event(event_id: str, **bill: Any) -> dict[str, Any]:
    return make_event("bill.paid", id=event_id, data_object=sample_bill("paid", **bill))


def decoy_first(event_id: str) -> bytes:
    # data (with an "id" and a "type" of its own) before the event's own keys.
    event = paid_event(event_id)
    event["data"]["object"]["type"] = "bill.created"
    event["data"]["object"]["id"] = "evt_decoy"
    ordered = {"data": event.pop("data"), **event}
    return dumps(ordered).encode()


def decoy_in_string(event_id: str) -> bytes:
    description = '{"id":"evt_decoy","type":"bill.created"} "type":"bill.created"'
    event = paid_event(event_id, description=description)
    ordered = {"data": event.pop("data"), **event}
    return dumps(ordered).encode()


def escaped_key(event_id: str) -> bytes:
    # JSON lets a key be written with escapes: "\u0074ype" is "type".
    text = dumps(paid_event(event_id))
    text = text.replace('"type":"bill.paid"', '"\\u0074ype":"bill\\u002epaid"')
    text = text.replace('"id":"' + event_id + '"', '"\\u0069d":"' + event_id + '"')
    return ('{"data":{"object":{"type":"bill.created","id":"evt_decoy"}},' + text[1:]).encode()


def repeated_keys(event_id: str) -> bytes:
    # A repeated key's last value counts, for the typed parse and for the routing alike.
    text = dumps(paid_event(event_id))
    return ('{"id":"evt_decoy","type":"bill.created",' + text[1:]).encode()


def canonical_then_repeated(event_id: str) -> bytes:
    # Starts as LumenLater writes events (the fast guess reads it), but later top-level
    # keys repeat id and type: the decoy id is a duplicate, the decoy type handled.
    event = paid_event(event_id)
    rest = {k: v for k, v in event.items() if k not in ("id", "object", "type")}
    text = dumps({"id": "evt_decoy", "object": "event", "type": "bill.created", **rest})
    return (text[:-1] + f',"id":"{event_id}","type":"bill.paid"}}').encode()


def canonical_unhandled_then_repeated(event_id: str) -> bytes:
    event = paid_event(event_id)
    rest = {k: v for k, v in event.items() if k not in ("id", "object", "type")}
    decoy = {"id": event_id, "object": "event", "type": "merchant.approved", **rest}
    return (dumps(decoy)[:-1] + ',"type":"bill.paid"}').encode()


def pretty(event_id: str) -> bytes:
    return json.dumps(paid_event(event_id), indent=2).encode()


HOSTILE: dict[str, Callable[[str], bytes]] = {
    "decoy_first": decoy_first,
    "decoy_in_string": decoy_in_string,
    "escaped_key": escaped_key,
    "repeated_keys": repeated_keys,
    "canonical_then_repeated": canonical_then_repeated,
    "canonical_unhandled_then_repeated": canonical_unhandled_then_repeated,
    "pretty": pretty,
}


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_hostile_bodies_route_on_the_events_own_id_and_type(shape: str, store: EventStore) -> None:
    hooks, seen = receiver(store)
    body = HOSTILE[shape]("evt_real_" + shape)
    # The peek agrees with the typed event whatever the body's layout.
    event = construct_event(body, sign(body, SECRET), SECRET)
    assert (event.id, event.type) == ("evt_real_" + shape, "bill.paid")
    assert peek_id_type(body) == (event.id, event.type)
    if shape.startswith("canonical"):  # the fast guess is wrong here, and must not count
        assert guess_id_type(body) not in (None, (event.id, event.type))

    # A decoy id already handled must not make the real event a duplicate.
    decoy = paid_event("evt_decoy")
    assert deliver(hooks, dumps(decoy).encode()).status == 200
    seen.clear()
    reply = deliver(hooks, body)
    assert (reply.status, json.loads(reply.body)) == (200, {"received": True})
    assert seen == [("bill.paid", "evt_real_" + shape, "BillPaidEvent")]
    # And the real id is now the duplicate.
    assert json.loads(deliver(hooks, body).body) == {"received": True, "duplicate": True}
    assert len(seen) == 1


def test_unhandled_type_with_a_handled_type_nested_inside(store: EventStore) -> None:
    hooks, seen = receiver(store)
    event = make_event("merchant.approved", id="evt_merchant")
    event["data"]["object"]["type"] = "bill.paid"
    body = ('{"type":"bill.paid","id":"evt_nested",' + dumps(event)[1:]).encode()
    # Repeated keys: the last ("merchant.approved", "evt_merchant") is the event's.
    assert peek_id_type(body) == ("evt_merchant", "merchant.approved")
    reply = deliver(hooks, body)
    assert (reply.status, json.loads(reply.body)) == (200, {"received": True})
    assert seen == []
    assert store.claim("evt_merchant").status is ClaimStatus.CLAIMED  # never recorded


def broken_paid(event_id: str) -> bytes:
    """A signed bill.paid whose typed parse fails (amount is not an integer)."""
    event = paid_event(event_id)
    event["data"]["object"]["amount"] = "a lot"
    return dumps(event).encode()


def test_duplicate_is_answered_without_the_typed_parse(store: EventStore) -> None:
    hooks, seen = receiver(store)
    assert deliver(hooks, dumps(paid_event("evt_once")).encode()).status == 200
    # Same id again, with a body the typed parse would refuse: only a receiver that
    # answers from the store before parsing says "duplicate" here.
    reply = deliver(hooks, broken_paid("evt_once"))
    assert (reply.status, json.loads(reply.body)) == (200, {"received": True, "duplicate": True})
    assert [s[1] for s in seen] == ["evt_once"]


def test_unhandled_type_is_answered_without_the_typed_parse(store: EventStore) -> None:
    hooks, seen = receiver(store)
    event = make_event("bill.repaid", id="evt_repaid")
    event["data"]["object"]["amount"] = "a lot"  # BillRepaidEvent would refuse it
    reply = deliver(hooks, dumps(event).encode())
    assert (reply.status, json.loads(reply.body)) == (200, {"received": True})
    assert seen == []


def test_handled_type_that_does_not_parse_is_refused_and_released(store: EventStore) -> None:
    hooks, seen = receiver(store)
    reply = deliver(hooks, broken_paid("evt_fixed_later"))
    assert reply.status == 400
    assert json.loads(reply.body)["error"]["code"] == "invalid_event"
    # The claim taken before the parse was released: a good delivery of that id runs.
    reply = deliver(hooks, dumps(paid_event("evt_fixed_later")).encode())
    assert (reply.status, json.loads(reply.body)) == (200, {"received": True})
    assert seen == [("bill.paid", "evt_fixed_later", "BillPaidEvent")]


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"x"', b"{}", b'{"id":1,"type":"bill.paid"}', b'{"id":"evt_1"}', b"{nope"],
)
def test_bodies_the_peek_cannot_read_get_the_full_parse_answer(body: bytes) -> None:
    hooks, seen = receiver(InMemoryEventStore())
    reply = deliver(hooks, body)
    assert reply.status == 400
    code = json.loads(reply.body)["error"]["code"]
    assert code == ("invalid_json" if body == b"{nope" else "invalid_event")
    assert seen == []


def test_over_http_duplicate_and_unhandled_answers() -> None:
    hooks, seen = receiver(InMemoryEventStore())
    with serve(hooks) as url, httpx.Client(timeout=30) as client:

        def post(body: bytes) -> httpx.Response:
            return client.post(
                url, content=body, headers={"X-LumenLater-Signature": sign(body, SECRET)}
            )

        first = post(decoy_first("evt_http"))
        assert (first.status_code, first.json()) == (200, {"received": True})
        again = post(broken_paid("evt_http"))
        assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
        other = make_event("merchant.suspended", id="evt_http_merchant")
        answer = post(dumps(other).encode())
        assert (answer.status_code, answer.json()) == (200, {"received": True})
    assert seen == [("bill.paid", "evt_http", "BillPaidEvent")]
