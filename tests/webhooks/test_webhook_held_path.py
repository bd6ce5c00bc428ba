"""WebhookApp's held path (the in-memory store as it ships, every handler of the type
``async def``) against its general path: the same deliveries, answered alike.

The general path is taken here through a subclass of :class:`InMemoryEventStore`
(the held path is only for the store's own type), so both sides keep the same
records; every script below is run through both and the answers, response headers,
handler runs, log lines and what the store remembers must agree. The held path's
own promise, that its claim needs no renewal, is tested with a store whose clock is
moved past the lease while a handler runs.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from test_webhook_routing import HOSTILE, broken_paid, dumps, paid_event
from webhook_support import SECRET, serve

from lumenlater_sdk.webhooks import (
    BaseEvent,
    Claim,
    ClaimStatus,
    InMemoryEventStore,
    WebhookApp,
    sign,
)
from lumenlater_sdk.webhooks.testing import make_event

LOGGER = "lumenlater.webhooks"


class GeneralPath(InMemoryEventStore):
    """The in-memory store under another type: WebhookApp takes its general path."""


Answer = tuple[int, list[tuple[bytes, bytes]], Any]


async def post(app: WebhookApp, body: bytes, signature: str | None = None) -> Answer:
    """One POST straight into the ASGI callable; (status, headers, JSON body)."""
    sig = sign(body, SECRET) if signature is None else signature
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/hooks",
        "headers": [
            (b"content-type", b"application/json"),
            (b"x-lumenlater-signature", sig.encode()),
        ],
        "query_string": b"",
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, reply = sent
    return start["status"], start["headers"], json.loads(reply["body"])


Script = Callable[[WebhookApp, list[str]], Awaitable[list[Answer]]]


def both_paths(
    script: Script, caplog: pytest.LogCaptureFixture, **store: Any
) -> tuple[list[Answer], list[str]]:
    """Run *script* on a held-path app and on a general-path one; assert they agree
    on answers, handler runs, log lines and the store's records; return one side's."""
    results = []
    for kind in (InMemoryEventStore, GeneralPath):
        events = kind(**store)
        hooks = WebhookApp(secret=SECRET, store=events)
        assert (hooks._holding is events) == (kind is InMemoryEventStore)
        runs: list[str] = []
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=LOGGER):
            answers = asyncio.run(script(hooks, runs))
        logs = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == LOGGER]
        done = [k for k, v in events._events.items() if v == "done"]
        claimed = sorted(k for k, v in events._events.items() if v != "done")
        remembered = (list(events._done_order), done, dict(events._progress), claimed)
        results.append((answers, runs, logs, remembered))
    assert results[0] == results[1]
    return results[0][0], results[0][1]


def on_paid(
    hooks: WebhookApp, runs: list[str], *names: str, failing: set[str] | None = None
) -> None:
    """One async bill.paid handler per name, recording ``name:event id``; those in
    *failing* raise (once each: the name is taken out of the set)."""
    for name in names:

        async def handler(event: BaseEvent, name: str = name) -> None:
            runs.append(f"{name}:{event.id}")
            if failing and name in failing:
                failing.discard(name)
                raise RuntimeError(f"{name} failed")

        handler.__qualname__ = f"shop.{name}"
        hooks.on("bill.paid")(handler)


def on_created(hooks: WebhookApp, runs: list[str]) -> None:
    """A bill.created handler recording ``created:event id``."""

    @hooks.on("bill.created")
    async def created(event: BaseEvent) -> None:
        runs.append(f"created:{event.id}")


async def inside_a_handler(
    hooks: WebhookApp, runs: list[str], event_id: str
) -> tuple[bytes, asyncio.Task[Answer], asyncio.Event]:
    """A bill.paid handler that records the event id and waits, and a delivery of
    *event_id* started and now inside it: (its body, the delivery's task, the event
    that lets the handler finish)."""
    started, finish = asyncio.Event(), asyncio.Event()

    @hooks.on("bill.paid")
    async def slow(event: BaseEvent) -> None:
        runs.append(event.id)
        started.set()
        await finish.wait()

    body = dumps(paid_event(event_id)).encode()
    first = asyncio.create_task(post(hooks, body))
    await started.wait()
    return body, first, finish


def test_new_duplicate_unhandled_and_refused_deliveries_answer_alike(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        on_paid(hooks, runs, "A")
        body = dumps(paid_event("evt_new")).encode()
        unhandled = dumps(make_event("bill.created", id="evt_other")).encode()
        return [
            await post(hooks, body),
            await post(hooks, body),  # a duplicate
            await post(hooks, broken_paid("evt_new")),  # a duplicate the parse would refuse
            await post(hooks, broken_paid("evt_broken")),  # 400, claim released
            await post(hooks, dumps(paid_event("evt_broken")).encode()),
            await post(hooks, unhandled),
            await post(hooks, body, signature=sign(body, "whsec_someone_else")),
            await post(hooks, body, signature=""),
            await post(hooks, b"{nope"),
        ]

    answers, runs = both_paths(script, caplog)
    statuses = [a[0] for a in answers]
    assert statuses == [200, 200, 200, 400, 200, 200, 400, 400, 400]
    assert answers[1][2] == {"received": True, "duplicate": True}
    assert runs == ["A:evt_new", "A:evt_broken"]


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_hostile_bodies_answer_alike(shape: str, caplog: pytest.LogCaptureFixture) -> None:
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        on_paid(hooks, runs, "A")
        on_created(hooks, runs)

        body = HOSTILE[shape]("evt_real")
        return [
            await post(hooks, body),
            await post(hooks, body),
            await post(hooks, dumps(paid_event("evt_decoy")).encode()),
            await post(hooks, HOSTILE[shape]("evt_decoy")),
        ]

    answers, runs = both_paths(script, caplog)
    assert [a[2] for a in answers] == [
        {"received": True},
        {"received": True, "duplicate": True},
        {"received": True},
        {"received": True, "duplicate": True},
    ]
    assert runs == ["A:evt_real", "A:evt_decoy"]


def test_a_hostile_body_whose_guess_names_a_handled_decoy_runs_the_real_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The guess (evt_decoy, bill.created) is claimed first, then proves wrong: the
    # decoy's claim must be released and the real event run, on both paths.
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        on_paid(hooks, runs, "A")
        on_created(hooks, runs)

        decoy = dumps(make_event("bill.created", id="evt_decoy")).encode()
        return [
            await post(hooks, HOSTILE["canonical_then_repeated"]("evt_real")),
            await post(hooks, decoy),
        ]

    answers, runs = both_paths(script, caplog)
    assert [a[2] for a in answers] == [{"received": True}, {"received": True}]
    assert runs == ["A:evt_real", "created:evt_decoy"]


def test_failing_handlers_and_the_retries_that_finish_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        on_paid(hooks, runs, "A", "B", "C", failing={"B", "C"})
        body = dumps(paid_event("evt_retry")).encode()
        return [await post(hooks, body) for _ in range(4)]

    answers, runs = both_paths(script, caplog)
    assert [a[0] for a in answers] == [500, 500, 200, 200]
    assert answers[0][2]["error"]["code"] == "handler_failed"
    assert runs == [
        "A:evt_retry",
        "B:evt_retry",  # fails
        "B:evt_retry",  # A is not run again
        "C:evt_retry",  # fails
        "C:evt_retry",
    ]
    failures = [m for m in caplog.messages if "handler shop" in m]
    assert len(failures) == 2  # one side's run: B and C each failed once


def test_a_redelivery_while_handlers_run_is_answered_409(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        body, first, finish = await inside_a_handler(hooks, runs, "evt_slow")
        meanwhile = await post(hooks, body)
        finish.set()
        return [meanwhile, await first, await post(hooks, body)]

    answers, runs = both_paths(script, caplog)
    status, headers, reply = answers[0]
    assert status == 409 and (b"retry-after", b"5") in headers
    assert reply["error"]["code"] == "event_in_progress"
    assert [a[0] for a in answers[1:]] == [200, 200]
    assert runs == ["evt_slow"]


def test_a_cancelled_delivery_frees_the_event_for_the_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        started = asyncio.Event()

        @hooks.on("bill.paid")
        async def handler(event: BaseEvent) -> None:
            runs.append(event.id)
            if len(runs) == 1:
                started.set()
                await asyncio.Event().wait()  # until cancelled

        body = dumps(paid_event("evt_cancel")).encode()
        first = asyncio.create_task(post(hooks, body))
        await started.wait()
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        return [await post(hooks, body)]

    answers, runs = both_paths(script, caplog)
    assert answers[0][0] == 200
    assert runs == ["evt_cancel", "evt_cancel"]


def test_mixed_sync_and_async_handlers_take_the_general_path() -> None:
    store = InMemoryEventStore()
    hooks = WebhookApp(secret=SECRET, store=store)
    runs: list[str] = []
    on_paid(hooks, runs, "A")
    assert hooks.async_handlers_for("bill.paid") is not None

    @hooks.on("bill.paid")
    def sync(event: BaseEvent) -> None:
        runs.append(f"sync:{event.id}")

    assert hooks.async_handlers_for("bill.paid") is None  # registering resets the cache
    body = dumps(paid_event("evt_mixed")).encode()
    assert asyncio.run(post(hooks, body))[0] == 200
    assert runs == ["A:evt_mixed", "sync:evt_mixed"]


def test_the_held_claim_outlives_the_lease_without_renewal() -> None:
    """A handler slower than the lease: with the clock moved past it (and no renewal
    thread involved), a redelivery still finds the event taken."""
    now = [1000.0]
    store = InMemoryEventStore(lease=1.0, clock=lambda: now[0])
    hooks = WebhookApp(secret=SECRET, store=store)
    runs: list[str] = []

    async def script() -> list[int]:
        body, first, finish = await inside_a_handler(hooks, runs, "evt_long")
        now[0] += 3600  # an hour: sixty leases
        statuses = [(await post(hooks, body))[0]]
        assert store.claim("evt_long").status is ClaimStatus.BUSY
        finish.set()
        statuses.append((await first)[0])
        return statuses

    assert asyncio.run(script()) == [409, 200]
    assert runs == ["evt_long"]
    assert hooks._heartbeat is not None and not hooks._heartbeat._due  # never held


def test_the_held_claims_of_a_parent_are_free_in_a_forked_child() -> None:
    store = InMemoryEventStore()
    token = store.hold("evt_in_flight")
    assert isinstance(token, str)
    assert store.claim("evt_in_flight").status is ClaimStatus.BUSY
    pid = os.fork()
    if pid == 0:  # the child: the delivery holding the claim is not here
        ok = store.claim("evt_in_flight").status is ClaimStatus.CLAIMED
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.claim("evt_in_flight").status is ClaimStatus.BUSY  # still held here
    store.complete("evt_in_flight", token)
    assert store.claim("evt_in_flight").status is ClaimStatus.DONE


def test_a_held_claim_is_freed_only_by_its_holder() -> None:
    # The token of a claim taken with a lease, whose lease ran out and was taken over
    # by a held claim, frees nothing; the held claim's own token frees it.
    now = [0.0]
    store = InMemoryEventStore(lease=30, clock=lambda: now[0])
    stale = store.claim("evt_a")
    now[0] += 31
    held = store.hold("evt_a")
    assert isinstance(held, str) and held != stale.token
    store.release("evt_a", stale.token)
    assert not store.extend("evt_a", stale.token)
    now[0] += 3600
    assert store.hold("evt_a") == Claim(ClaimStatus.BUSY) == store.claim("evt_a")
    store.release("evt_a", held)
    again = store.hold("evt_a")
    assert isinstance(again, str)
    store.complete("evt_a", again)
    assert store.hold("evt_a") == Claim(ClaimStatus.DONE) == store.claim("evt_a")


def test_the_store_forgets_the_oldest_handled_ids_held_or_claimed() -> None:
    store = InMemoryEventStore(max_done=3)
    for i in range(5):
        event_id = f"evt_{i}"
        token = store.hold(event_id) if i % 2 else store.claim(event_id).token
        assert isinstance(token, str)
        store.complete(event_id, token)
        store.complete(event_id, token)  # twice: still one place in the order
    assert [store.claim(f"evt_{i}").status for i in range(5)] == [
        ClaimStatus.CLAIMED,
        ClaimStatus.CLAIMED,
        ClaimStatus.DONE,
        ClaimStatus.DONE,
        ClaimStatus.DONE,
    ]


def test_hold_reports_progress_like_claim() -> None:
    store = InMemoryEventStore()
    first = store.claim("evt_a")
    store.handler_done("evt_a", first.token, "shop.A")
    store.release("evt_a", first.token)
    held = store.hold("evt_a")
    assert not isinstance(held, str)
    assert held.status is ClaimStatus.CLAIMED and held.done_handlers == {"shop.A"}
    assert store.extend("evt_a", held.token)  # its own token: kept, still without a lease
    assert store.hold("evt_a") == Claim(ClaimStatus.BUSY) == store.claim("evt_a")
    store.complete("evt_a", held.token)
    assert store.hold("evt_a") == store.claim("evt_a")  # both: done


def test_over_http_the_held_path_answers_as_documented() -> None:
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    runs: list[str] = []
    on_paid(hooks, runs, "A", "B", failing={"B"})
    body = dumps(paid_event("evt_http")).encode()
    with serve(hooks) as url, httpx.Client(timeout=30) as client:

        def deliver() -> httpx.Response:
            return client.post(
                url, content=body, headers={"X-LumenLater-Signature": sign(body, SECRET)}
            )

        assert deliver().status_code == 500
        assert deliver().json() == {"received": True}
        assert deliver().json() == {"received": True, "duplicate": True}
    assert runs == ["A:evt_http", "B:evt_http", "B:evt_http"]


def test_a_later_type_key_of_the_same_id_decides_the_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Same id, the canonical start names bill.created, a later "type" (the one JSON
    # keeps) bill.paid: the guessed type's class must refuse the body (its Literal
    # sees bill.paid), so bill.paid's handler runs, never bill.created's.
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        on_paid(hooks, runs, "A")
        on_created(hooks, runs)

        body = dumps(make_event("bill.created", id="evt_same")).encode()
        body = body[:-1] + b',"type":"bill.paid"}'
        return [await post(hooks, body), await post(hooks, body)]

    answers, runs = both_paths(script, caplog)
    assert [a[2] for a in answers] == [{"received": True}, {"received": True, "duplicate": True}]
    assert runs == ["A:evt_same"]


def test_a_type_this_sdk_does_not_know_answers_alike(caplog: pytest.LogCaptureFixture) -> None:
    # A type without a class here has no validator of its own: the held path must
    # fall back to the generic Event, as the general path does.
    async def script(hooks: WebhookApp, runs: list[str]) -> list[Answer]:
        @hooks.on("bill.teleported")
        async def teleported(event: BaseEvent) -> None:
            runs.append(f"{type(event).__name__}:{event.type}:{event.id}")

        body = dumps(make_event("bill.teleported", id="evt_future")).encode()
        return [await post(hooks, body), await post(hooks, body)]

    answers, runs = both_paths(script, caplog)
    assert [a[2] for a in answers] == [{"received": True}, {"received": True, "duplicate": True}]
    assert runs == ["Event:bill.teleported:evt_future"]


def test_a_handler_registered_after_deliveries_counts_for_the_next() -> None:
    # The held path keeps each type's route; registering a handler must drop it (a
    # sync handler now makes bill.paid take the general path, which calls it in a
    # worker thread: the held path would await its None and answer 500).
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    runs: list[str] = []
    on_paid(hooks, runs, "A")
    assert asyncio.run(post(hooks, dumps(paid_event("evt_1")).encode()))[0] == 200

    @hooks.on("bill.paid")
    def sync(event: BaseEvent) -> None:
        runs.append(f"sync:{event.id}")

    assert asyncio.run(post(hooks, dumps(paid_event("evt_2")).encode()))[0] == 200
    assert runs == ["A:evt_1", "A:evt_2", "sync:evt_2"]


def test_a_lapsed_claimant_completing_under_a_held_claim_records_the_event_once() -> None:
    # claim() with a lease that runs out; a delivery here holds the event; the first
    # claimant then finishes: the event is done (whoever holds it), the holder's
    # release frees nothing, and the id takes one place in the order.
    now = [0.0]
    store = InMemoryEventStore(lease=30, max_done=2, clock=lambda: now[0])
    lapsed = store.claim("evt_a")
    now[0] += 31
    held = store.hold("evt_a")
    assert isinstance(held, str)
    store.complete("evt_a", lapsed.token)
    store.release("evt_a", held)
    store.complete("evt_a", held)
    assert store.hold("evt_a") == Claim(ClaimStatus.DONE)
    token = store.hold("evt_b")
    assert isinstance(token, str)
    store.complete("evt_b", token)  # two done ids: both kept
    assert [store.claim(e).status for e in ("evt_a", "evt_b")] == [ClaimStatus.DONE] * 2
    token = store.hold("evt_c")
    assert isinstance(token, str)
    store.complete("evt_c", token)  # evt_a is the oldest of three
    assert [store.claim(e).status for e in ("evt_a", "evt_b", "evt_c")] == [
        ClaimStatus.CLAIMED,
        ClaimStatus.DONE,
        ClaimStatus.DONE,
    ]


def test_a_forgotten_id_claimed_again_is_not_dropped_by_its_old_place_in_the_order() -> None:
    # Forgetting goes oldest first by the order, but only drops an id that is done:
    # never a claim taken since on an id forgotten once.
    store = InMemoryEventStore(max_done=2)

    def handled(event_id: str) -> None:
        token = store.hold(event_id)
        assert isinstance(token, str)
        store.complete(event_id, token)

    handled("evt_a")
    store._done_order.append("evt_a")  # listed twice, as two racing completions leave it
    handled("evt_b")  # forgets evt_a by its first place
    again = store.hold("evt_a")
    assert isinstance(again, str)
    handled("evt_c")  # evt_a's second place comes up: its claim stays
    assert store.hold("evt_a") == Claim(ClaimStatus.BUSY) == store.claim("evt_a")
    assert [store.claim(e).status for e in ("evt_b", "evt_c")] == [ClaimStatus.DONE] * 2


def test_the_store_is_not_kept_alive_for_the_fork_hook() -> None:
    store = InMemoryEventStore()
    ref = weakref.ref(store)
    del store
    gc.collect()
    assert ref() is None
