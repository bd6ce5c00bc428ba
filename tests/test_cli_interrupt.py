"""The CLI's long-running commands stop on a signal at their next pause, never by an
exception raised in the middle of a step (such as an HTTP call in httpx's pool)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from lumenlater_sdk.cli._interrupt import StopOnSignal


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_middle_of_a_step_lets_the_step_finish(sig: int) -> None:
    finished = False
    with StopOnSignal() as stop:
        os.kill(os.getpid(), sig)  # handled at the next bytecode: inside this "step"
        time.sleep(0.01)
        finished = True
        assert stop.requested
        started = time.monotonic()
        assert stop.pause(30) is False
        assert time.monotonic() - started < 5
    assert finished


def test_a_pause_without_a_signal_lasts_its_time_and_goes_on() -> None:
    with StopOnSignal(nap=0.01) as stop:
        started = time.monotonic()
        assert stop.pause(0.05) is True
        assert time.monotonic() - started >= 0.05


def test_a_second_signal_raises_at_once_and_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), StopOnSignal() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # a hung step: the second signal ends it
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_outside_the_main_thread_the_handlers_are_left_alone() -> None:
    seen: list[object] = []

    def run() -> None:
        with StopOnSignal() as stop:
            seen.append(signal.getsignal(signal.SIGINT))
            stop.requested = True
            seen.append(stop.pause(30))

    before = signal.getsignal(signal.SIGINT)
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert seen == [before, False]
