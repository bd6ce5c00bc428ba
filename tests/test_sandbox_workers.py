"""``lumenlater sandbox --workers 2``: two server processes answer on one port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
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


def test_two_workers_share_the_port_and_the_database(tmp_path: Path) -> None:
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
        env={**os.environ, "HOME": str(tmp_path)},
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
            customer = ll.test_helpers.wallets.retrieve("approve").address
            made = [ll.bills.create(customer=customer, amount=10_000_000) for _ in range(10)]
            assert [ll.bills.retrieve(b.id).id for b in made] == [b.id for b in made]
            assert {b.id for b in ll.bills.list(limit=100)} == {b.id for b in made}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
