"""What ``lumenlater demo`` tells you to run works, as printed, in a new shell.

The demo runs as ``./scripts/demo`` starts it (from a virtualenv's ``lumenlater``),
and its printed command is pasted into ``bash`` with a fresh HOME and a PATH that
does not hold the virtualenv: the shell a reader opens beside the demo.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lumenlater_sdk import LumenLater
from lumenlater_sdk.cli._demo import cli_command

BIN = Path(sys.executable).parent


@pytest.fixture
def demo_output(tmp_path: Path) -> Iterator[str]:
    """The text the interactive demo prints before it waits for Ctrl-C (still running)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMENLATER_")}
    env.update(HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [str(BIN / "lumenlater"), "demo", "--port", "0", "--sandbox-port", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not lines or "Press Ctrl-C to stop." not in lines[-1]:
            line = proc.stdout.readline()
            assert line, "the demo exited early:\n" + "".join(lines)
            assert time.monotonic() < deadline, "no instructions:\n" + "".join(lines)
            lines.append(line)
        yield "".join(lines)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _step(text: str, number: int) -> str:
    match = re.search(rf"^  {number}\. (.*?)(?=^  \d\. |^Press Ctrl-C)", text, re.M | re.S)
    assert match, f"no step {number} in:\n{text}"
    return match.group(1)


def test_the_printed_clock_command_runs_in_a_new_shell(demo_output: str, tmp_path: Path) -> None:
    step = _step(demo_output, 4)
    # The command is the step's indented lines, joined by the shell's line continuation.
    command = "\n".join(line.strip() for line in step.splitlines()[2:] if line.strip())
    assert "clock advance" in command and cli_command() in command, step
    key = re.search(r"LUMENLATER_API_KEY=(\S+)", command)
    url = re.search(r"LUMENLATER_BASE_URL=(\S+)", command)
    assert key and url, command
    with LumenLater(api_key=key.group(1), base_url=url.group(1)) as ll:
        before = ll.test_helpers.clock.retrieve().now
    started = time.monotonic()
    new_shell = {"HOME": str(tmp_path / "elsewhere"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    done = subprocess.run(
        ["bash", "-c", command],
        env=new_shell,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    # The clock answers with where it now stands (the API's JSON on stdout, the time in
    # words on stderr): the 20 days the step promises on.
    # Ledger time also runs with the wall clock: whole seconds that passed meanwhile.
    moved = json.loads(done.stdout)["now"] - before - 20 * 86400
    assert 0 <= moved <= int(time.monotonic() - started) + 1, moved
    assert re.search(r"advanced 20d; now \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", done.stderr)


def test_the_printed_shop_and_wallet_hints_are_true(demo_output: str) -> None:
    shop = re.search(r"Shop\s+(http://127\.0\.0\.1:\d+)/", demo_output)
    assert shop, demo_output
    assert httpx.get(shop.group(1) + "/", timeout=10).status_code == 200
    wallets = _step(demo_output, 2)
    # `limited` pays small orders (tests/backend cover its 100 USDC): not "refused".
    assert "100 USDC" in wallets and '"decline" has no collateral' in wallets


def test_cli_command_names_the_script_beside_this_python() -> None:
    # The suite runs from a virtualenv, where the console script sits beside python.
    assert cli_command() == str(BIN / "lumenlater")
