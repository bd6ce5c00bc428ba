"""The ``lumenlater`` command line against a real sandbox, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.cli import build_parser


def _cli(sb: SandboxHandle, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LUMENLATER_API_KEY": key or sb.secret_key,
        "LUMENLATER_BASE_URL": sb.base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "lumenlater_sdk.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_documented_command_is_registered() -> None:
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert choices is not None
    assert {"sandbox", "demo", "listen", "trigger", "clock"} <= set(choices)


def test_clock_show_and_advance(sandbox: SandboxHandle) -> None:
    shown = _cli(sandbox, "clock")
    assert shown.returncode == 0, shown.stderr
    before = int(shown.stdout.split()[0])
    moved = _cli(sandbox, "clock", "advance", "86400")
    assert moved.returncode == 0, moved.stderr
    after = int(moved.stdout.split()[0])
    assert after - before >= 86400
    assert "UTC" in moved.stdout


def test_clock_advance_needs_positive_seconds(sandbox: SandboxHandle) -> None:
    for args in (("clock", "advance"), ("clock", "advance", "0")):
        r = _cli(sandbox, *args)
        assert r.returncode == 2 and "usage" in r.stderr


def test_clock_with_a_bad_key_fails_cleanly(sandbox: SandboxHandle) -> None:
    r = _cli(sandbox, "clock", key="sk_test_not_a_real_key")
    assert r.returncode == 1
    assert "error:" in r.stderr and "Traceback" not in r.stderr
