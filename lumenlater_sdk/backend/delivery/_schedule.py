"""When a failed delivery is tried again."""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = [
    "DEFAULT_SCHEDULE",
    "DISABLE_AFTER",
    "JITTER",
    "SANDBOX_SCHEDULE",
    "retry_at",
]

DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 86400)
"""Seconds after the first attempt at which attempts 1..8 run (DESIGN §4)."""

_JITTER_RANDOM = random.Random()
# Not the global ``random``: the backend runs inside applications (and test
# processes) whose own seeded sequences its jitter must not move.

SANDBOX_SCHEDULE: tuple[float, ...] = (0, 1, 3, 6, 12, 20, 30, 60)
"""The same eight attempts compressed to a minute, for the sandbox and tests."""

JITTER = 0.10
"""Each retry offset is moved by up to ±10 % so that failures do not retry in lockstep."""

DISABLE_AFTER = 3 * 86400
"""An endpoint whose deliveries have failed continuously this long (seconds) is disabled."""


def retry_at(
    schedule: Sequence[float],
    *,
    attempts_done: int,
    cycle_started: float,
    now: float,
    rng: random.Random | None = None,
) -> float | None:
    """The time of the next attempt after *attempts_done* failed ones, or ``None`` if none is left.

    Offsets are measured from *cycle_started* (the first attempt), not from the
    previous attempt, so a slow receiver does not stretch the whole schedule.
    """
    if attempts_done >= len(schedule):
        return None
    offset = float(schedule[attempts_done])
    factor = 1.0 + (rng or _JITTER_RANDOM).uniform(-JITTER, JITTER)
    return max(now, cycle_started + offset * factor)
