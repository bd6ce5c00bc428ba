"""Contract state kept in memory between calls (``_state_cache``): it answers only for the
state version the database holds, so two processes on one database, and calls that roll
back with their caller, never read stale state."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
from engine_support import SEALER, USDC, FakeClock, World
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.chain.local._state_cache import MISSING, StateCache
from lumenlater_sdk.backend.db import Database, Tx


def test_the_cache_answers_only_for_its_version() -> None:
    cache = StateCache()
    key = ("usdc", "balance:G")
    assert cache.get("v1", key) is MISSING
    cache.publish("", "v1", {key: "5"})
    assert cache.get("v1", key) == "5"
    assert cache.get("v0", key) is MISSING
    assert cache.get("v1", ("usdc", "other")) is MISSING
    # The next call at v1 read and wrote other keys: what v1 knew still holds at v2.
    cache.publish("v1", "v2", {("usdc", "other"): None})
    assert cache.get("v2", key) == "5"
    assert cache.get("v2", ("usdc", "other")) is None  # known to be unset
    # A call at a version this cache never saw: everything it knew is gone.
    cache.publish("elsewhere", "v3", {("usdc", "third"): "1"})
    assert cache.get("v3", key) is MISSING
    assert cache.get("v3", ("usdc", "third")) == "1"


def test_the_cache_keeps_the_most_recently_used_keys() -> None:
    cache = StateCache(max_keys=3)
    cache.publish("", "v", {("c", str(i)): str(i) for i in range(3)})
    assert cache.get("v", ("c", "0")) == "0"  # used: now the newest
    cache.publish("v", "w", {("c", "3"): "3"})
    assert [cache.get("w", ("c", str(i))) for i in range(4)] == ["0", MISSING, "2", "3"]


def test_two_processes_on_one_database_see_each_others_calls(
    world: World, db: Database, clock: FakeClock
) -> None:
    other = dataclasses.replace(world, gw=LocalGateway(db, clock=clock, sealer=SEALER))
    user = world.approve
    bill = world.bill(user, 5 * USDC)
    assert other.bill_status(bill) == "Created"
    other.pay(bill, user)  # the first process cached the bill as Created
    assert world.bill_status(bill) == "Paid"
    balance = world.usdc(user.public_key)
    world.repay(bill, user)
    assert other.bill_status(bill) == "Repaid"
    assert other.usdc(user.public_key) < balance
    assert world.usdc(user.public_key) == other.usdc(user.public_key)
    # Both keep going, each after the other's write.
    again = other.bill(user, 3 * USDC, "o-2")
    world.pay(again, user)
    assert other.bill_status(again) == "Paid"


def test_a_call_rolled_back_with_its_caller_leaves_nothing_in_memory(
    world: World, db: Database
) -> None:
    user = world.approve
    bill = world.bill(user, 5 * USDC)
    before = world.usdc(user.public_key)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        world.gw.invoke("bnpl_core", "pay_bill_bnpl", [bill], signer=user, tx=tx)
        raise RuntimeError("the request failed after the call")
    assert world.bill_status(bill) == "Created"
    assert world.usdc(user.public_key) == before
    world.pay(bill, user)  # the call runs again on the state the database kept
    assert world.bill_status(bill) == "Paid"


def test_a_read_only_call_remembers_what_it_read_for_its_version_only() -> None:
    cache = StateCache()
    key = ("bnpl_core", "user_bills:G")
    cache.remember("v1", {key: None})  # the cache holds no version yet: nothing kept
    assert cache.get("v1", key) is MISSING
    cache.publish("", "v1", {})
    cache.remember("v1", {key: None})
    assert cache.get("v1", key) is None  # known to be unset
    cache.publish("v1", "v2", {})  # a writer moved on before a slower read finished
    cache.remember("v1", {("usdc", "balance:G"): "5"})
    assert cache.get("v2", ("usdc", "balance:G")) is MISSING
    assert cache.get("v2", key) is None


def test_a_view_of_an_unset_key_reads_the_database_once_per_version(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = world.approve
    world.bill(user, 5 * USDC)  # a call: the cache holds the current version
    reads: list[str] = []
    scalar = Tx.scalar

    def counted(self: Tx, sql: str, params: Sequence[Any] = ()) -> Any:
        if "FROM chain_state" in sql:
            reads.append(str(params[1]))
        return scalar(self, sql, params)

    monkeypatch.setattr(Tx, "scalar", counted)
    nobody = Keypair.random().public_key  # no bills: its list is unset
    for _ in range(3):
        assert world.gw.read("bnpl_core", "get_user_bills", [nobody]) == []
    assert reads == [f"user_bills:{nobody}"]
