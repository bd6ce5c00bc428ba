"""Telling a forked child from its parent without a system call per delivery.

``os.getpid()`` is a system call, several microseconds in some sandboxes (gVisor):
more than the rest of a duplicate delivery. Objects that must not cross a fork (a
lease thread, a SQLite connection) remember :data:`generation` instead and compare.
"""

from __future__ import annotations

import os

__all__ = ["generation"]

generation = [0]
"""``generation[0]`` is bumped in each forked child (a list, so readers see the bump)."""


def _forked() -> None:
    generation[0] += 1


os.register_at_fork(after_in_child=_forked)
