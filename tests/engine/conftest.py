"""Fixtures for the local contract engine: a gateway on a real database, genesis, a merchant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_support import SEALER, FakeClock, World
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain.local import Genesis, LocalGateway
from lumenlater_sdk.backend.db import Database, connect


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with connect(db_url) as database:
        yield database


@pytest.fixture
def gw(db: Database, clock: FakeClock) -> LocalGateway:
    return LocalGateway(db, clock=clock, sealer=SEALER)


@pytest.fixture
def genesis(gw: LocalGateway) -> Genesis:
    return gw.genesis()


@pytest.fixture
def world(gw: LocalGateway, genesis: Genesis) -> World:
    merchant = Keypair.random()
    gw.enroll_and_approve_merchant(merchant, "mi_1")
    return World(gw, genesis, merchant)
