"""``lumenlater sandbox --workers 2``: two server processes answer on one port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from lumenlater_sdk import LumenLater
from lumenlater_sdk._ports import free_port


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def _sandbox(tmp_path: Path, env: dict[str, str] | None = None) -> Iterator[LumenLater]:
    """``python -m lumenlater_sdk.backend --workers 2``, once both workers answer (60 s
    at most); a client on it with the printed secret key."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lumenlater_sdk.backend",
            "--port",
            str(port),
            "--workers",
            "2",
            "--database-url",
            f"sqlite:///{tmp_path / 'sandbox.db'}",
            "--secret-key-file",
            str(tmp_path / "secret.key"),
            "--webhook-url",
            "http://127.0.0.1:9/hooks",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(tmp_path), **(env or {})},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        printed = ""
        while "listening" not in printed:
            line = proc.stdout.readline()
            assert line, f"the sandbox exited: {printed}"
            printed += line
        key = re.search(r"secret key\s+(sk_test_\S+)", printed)
        assert key is not None, printed
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 or not _healthy(base_url):
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        with LumenLater(api_key=key.group(1), base_url=base_url) as ll:
            yield ll
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_two_workers_share_the_port_and_the_database(tmp_path: Path) -> None:
    with _sandbox(tmp_path) as ll:
        customer = ll.test_helpers.wallets.retrieve("approve").address
        made = [ll.bills.create(customer=customer, amount=10_000_000) for _ in range(10)]
        assert [ll.bills.retrieve(b.id).id for b in made] == [b.id for b in made]
        assert {b.id for b in ll.bills.list(limit=100)} == {b.id for b in made}


def test_workers_slow_to_start_are_waited_for_not_killed_again_and_again(
    tmp_path: Path,
) -> None:
    # A worker process that takes 12 s before it can answer uvicorn's ping, as one
    # importing the backend on a busy machine does: with uvicorn's default 5 s each is
    # killed and started again for ever (a new worker is pinged within 5.5 s and the
    # ping waits 5 s: 12 s is never reached) and the server never answers.
    slow = tmp_path / "slow_start"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(
        "import sys, time\nif '--multiprocessing-fork' in sys.argv:\n    time.sleep(12)\n"
    )
    path = os.pathsep.join(p for p in (str(slow), os.environ.get("PYTHONPATH")) if p)
    with _sandbox(tmp_path, {"PYTHONPATH": path}) as ll:
        assert ll.account.retrieve().id


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
