"""Fixtures for the webhook receiver tests: the three event stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings

from lumenlater_sdk.webhooks import (
    EventStore,
    InMemoryEventStore,
    RedisEventStore,
    SQLiteEventStore,
)

# Examples are checked for what they answer, not for how fast: on a shared machine one
# slow example (hypothesis's default 200 ms deadline) failed a run of the header rules.
settings.register_profile("answers-not-speed", deadline=None)
settings.load_profile("answers-not-speed")


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisEventStore]:
    """A Redis store on the session's real redis-server, emptied first."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    store = RedisEventStore(client)
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """Each event store in turn."""
    if request.param == "memory":
        yield InMemoryEventStore()
    elif request.param == "sqlite":
        sqlite_store = SQLiteEventStore(tmp_path / "events.db")
        yield sqlite_store
        sqlite_store.close()
    else:
        yield request.getfixturevalue("redis_store")
