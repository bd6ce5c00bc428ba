"""Telling a forked child from its parent without a system call per delivery.

``os.getpid()`` is a system call, several microseconds in some sandboxes (gVisor):
more than the rest of a duplicate delivery. Objects that must not cross a fork (a
lease thread, a SQLite connection) remember :data:`generation` instead and compare;
those that would rather not compare on every call ask to be told (:func:`on_fork`).
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["generation", "on_fork"]

generation = [0]
"""``generation[0]`` is bumped in each forked child (a list, so readers see the bump)."""


class Forkable(Protocol):
    """An object with state that must be put right in a forked child."""

    def _forked(self) -> None: ...


# Weak: registering must not keep a store alive for the rest of the process.
_told: weakref.WeakSet[Forkable] = weakref.WeakSet()


def on_fork(obj: Forkable) -> None:
    """Have ``obj._forked()`` called in every child this process forks from now on."""
    _told.add(obj)


def _forked() -> None:
    generation[0] += 1
    for obj in list(_told):
        obj._forked()


os.register_at_fork(after_in_child=_forked)
