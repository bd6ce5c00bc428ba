"""One open transaction seen as a :class:`Database`, so code written against a database
can be made part of a larger unit of work without knowing it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio
from anyio.abc import TaskStatus

from ._base import Database, Tx

__all__ = ["JoinedDatabase"]


class JoinedDatabase(Database):
    """Every :meth:`transaction` is the one open *tx*; whoever opened *tx* commits it.

    A block that raises marks the whole unit :attr:`failed`: nothing it wrote may
    be committed even if a caller swallowed the exception, because the block's own
    writes can no longer be rolled back on their own.
    """

    def __init__(self, tx: Tx, owner: Database) -> None:
        self.dialect = tx.dialect
        self.url = owner.url
        self.failed = False
        self._tx = tx
        self._owner = owner

    async def watch(
        self,
        channel: str,
        callback: Callable[[], None],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        await self._owner.watch(channel, callback, task_status=task_status)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        try:
            yield self._tx
        except BaseException:
            self.failed = True
            raise

    def close(self) -> None:
        """Nothing to close: the connection belongs to the unit's owner."""
