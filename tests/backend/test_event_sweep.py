"""The event sweep (``services/events.sweep_chain_events``, every tick) catches up with
contract events no API call applied inline, and passes over the runs of events the API's
own calls already applied without reading them back."""

from __future__ import annotations

from typing import Any

import pytest
from backend_helpers import Api, new_bill_body
from stellar_sdk import Keypair

from lumenlater_sdk.backend.services import events
from lumenlater_sdk.backend.testing import SandboxHandle


def _all_cursors(sb: SandboxHandle) -> list[int]:
    ctx = sb.backend.ctx
    with ctx.db.transaction(write=False) as tx:
        return [e.cursor for e in type(ctx.chain).events_after(ctx.chain, 0, limit=10**6, tx=tx)]


def _marked(sb: SandboxHandle) -> set[int]:
    with sb.backend.ctx.db.transaction(write=False) as tx:
        return {int(r["cursor"]) for r in tx.fetchall("SELECT cursor FROM chain_events_seen")}


def test_the_sweep_applies_what_no_call_applied_and_skips_what_one_did(
    sb: SandboxHandle, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = sb.backend.ctx
    sb.run_time_triggers()  # up to date: whatever the sandbox's start made
    body = new_bill_body(api)
    for _ in range(4):
        api.ok("POST", "/v1/bills", json=body)
    inline_end = max(_all_cursors(sb))
    # A call outside the API: its contract events are nobody's yet.
    outside = ctx.require_sandbox("test").fund_wallet(Keypair.random(), usdc=5_000_000)
    assert outside
    unseen = set(_all_cursors(sb)) - _marked(sb)
    assert unseen and min(unseen) > inline_end
    for _ in range(3):
        api.ok("POST", "/v1/bills", json=body)
    read: list[int] = []
    events_after = ctx.chain.events_after

    def recording(cursor: int, **kw: Any) -> Any:
        found = events_after(cursor, **kw)
        read.extend(e.cursor for e in found)
        return found

    monkeypatch.setattr(ctx.chain, "events_after", recording)
    events.sweep_chain_events(ctx)
    everything = _all_cursors(sb)
    assert _marked(sb) >= set(everything)  # the outside call's events are applied now
    with ctx.db.transaction(write=False) as tx:
        assert events.swept_cursor(tx) == max(everything)
    # The run the bills' own calls applied was passed over, not read back.
    assert read and min(read) == min(unseen), (read, unseen)
    read.clear()
    api.ok("POST", "/v1/bills", json=body)
    events.sweep_chain_events(ctx)
    assert read == []  # only events applied inline since: nothing to read
    last = max(_all_cursors(sb))
    with ctx.db.transaction(write=False) as tx:
        assert events.swept_cursor(tx) == last
