"""Watching a PostgreSQL ``NOTIFY`` channel from an event loop (psycopg's async connection)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import psycopg
from anyio.abc import TaskStatus
from psycopg import sql

__all__ = ["watch"]

log = logging.getLogger("lumenlater.backend")


async def watch(
    url: str,
    channel: str,
    callback: Callable[[], None],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    retry_after: float = 1.0,
) -> None:
    """Call *callback* for every notification on *channel*, reconnecting when the
    connection drops, until cancelled; started once listening (or after a first failure:
    a watcher is an optimisation, whoever relies on it polls as well)."""
    started = False
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                if not started:
                    started = True
                    task_status.started()
                callback()  # whatever committed while nobody listened
                async for _ in conn.notifies():
                    callback()
        except Exception:
            log.warning("LISTEN %s connection lost; reconnecting", channel, exc_info=True)
            if not started:
                started = True
                task_status.started()
            await anyio.sleep(retry_after)
