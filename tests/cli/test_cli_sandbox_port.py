"""``lumenlater sandbox`` on a port that is taken: one line and exit 1, before anything
is printed or opened (not "listening on …" followed by uvicorn's "address already in
use")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lumenlater_sdk.cli._sandbox import check_port


def _sandbox(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMENLATER_")}
    env.pop("DATABASE_URL", None)
    env["HOME"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "lumenlater_sdk.cli", "sandbox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_port_held_by_another_process_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:  # what another sandbox's listening socket looks like
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = _sandbox(tmp_path, "--port", str(port))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout == ""
    assert r.stderr == (
        f"lumenlater sandbox: port {port} on 127.0.0.1 is in use (another sandbox?); use --port N\n"
    )
    # Refused before anything was opened: no database, no sealing key.
    assert not (tmp_path / ".lumenlater").exists()


def test_check_port_frees_what_it_tried(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's is
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        holder.listen()
        with pytest.raises(SystemExit) as held:
            check_port("127.0.0.1", port)
        assert str(held.value).startswith(f"lumenlater sandbox: port {port} on 127.0.0.1")
        # A stopped sandbox leaves its connections in TIME_WAIT: still free to listen
        # on, since uvicorn binds with SO_REUSEADDR and so does the probe.
        with socket.create_connection(("127.0.0.1", port)) as client:
            served, _ = holder.accept()
            served.close()
            client.recv(1)
    check_port("127.0.0.1", port)
    check_port("127.0.0.1", port)  # the probe itself holds nothing afterwards
    check_port("127.0.0.1", 0)  # any free port: nothing to check


def test_a_host_that_cannot_be_listened_on_is_one_line(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is no address of this machine.
    r = _sandbox(tmp_path, "--host", "192.0.2.1", "--port", "8787")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("lumenlater sandbox: cannot listen on 192.0.2.1:8787: ")
    assert len(r.stderr.splitlines()) == 1
