"""``lumenlater keys [--roll]`` against a real sandbox database, and what ``lumenlater
sandbox`` does on start: no webhook endpoint unless asked, the dashboard URL and the
``keys`` command printed every time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lumenlater_sdk import AuthenticationError, LumenLater
from lumenlater_sdk._ports import free_port
from lumenlater_sdk.backend.app import Backend
from lumenlater_sdk.backend.bootstrap import (
    SandboxCredentials,
    ensure_sandbox_merchant,
    load_or_create_secret_key,
)
from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.testing import run_sandbox
from lumenlater_sdk.cli import main

_SK = re.compile(r"sk_test_\w+")


def _made_sandbox(db_url: str, key_file: Path) -> SandboxCredentials:
    """A database as ``lumenlater sandbox`` leaves it after its first start."""
    key = load_or_create_secret_key(key_file)
    backend = Backend(BackendConfig(database_url=db_url, secret_key=key, run_delivery=False))
    try:
        creds = ensure_sandbox_merchant(backend)
        assert creds is not None
        return creds
    finally:
        backend.close()


def _keys(capsys: pytest.CaptureFixture[str], db_url: str, key_file: Path, *extra: str) -> str:
    code = main(["keys", "--database-url", db_url, "--secret-key-file", str(key_file), *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_keys_shows_the_test_keys_again_and_rolls_the_secret_key(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "secret.key"
    creds = _made_sandbox(db_url, key_file)
    shown = _keys(capsys, db_url, key_file)
    assert creds.merchant_id in shown
    assert creds.secret_key in shown and creds.publishable_key in shown
    assert f"export LUMENLATER_API_KEY={creds.secret_key}" in shown

    rolled = _keys(capsys, db_url, key_file, "--roll")
    (first,) = set(_SK.findall(rolled))
    assert first != creds.secret_key and "stopped working" in rolled
    graced = _keys(capsys, db_url, key_file, "--roll", "--expires-in", "3600")
    (second,) = set(_SK.findall(graced))
    assert second not in (first, creds.secret_key) and "keeps working until" in graced
    listed = _keys(capsys, db_url, key_file)
    assert creds.secret_key not in listed  # expired: no longer listed
    assert first in listed and second in listed and "until" in listed

    # A backend on that database (as the running sandbox) takes the keys as printed.
    secret_key = key_file.read_bytes().strip()
    with run_sandbox(db_url, webhook_url=None, secret_key=secret_key, run_delivery=False) as sb:
        with LumenLater(api_key=creds.secret_key, base_url=sb.base_url) as old:
            with pytest.raises(AuthenticationError) as refused:
                old.account.retrieve()
            assert refused.value.code == "api_key_expired"
        for key in (first, second):
            with LumenLater(api_key=key, base_url=sb.base_url) as ll:
                assert ll.account.retrieve().id == creds.merchant_id


def test_keys_without_a_sandbox_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "secret.key"
    db = tmp_path / "sandbox.db"
    args = ["keys", "--database-url", f"sqlite:///{db}", "--secret-key-file", str(key_file)]
    with pytest.raises(SystemExit) as no_key:
        main(args)
    assert f"no sealing key at {key_file}" in str(no_key.value)
    load_or_create_secret_key(key_file)
    with pytest.raises(SystemExit) as no_db:
        main(args)
    assert f"no sandbox database at {db}" in str(no_db.value)
    assert not db.exists()  # nothing was made in its place


@contextmanager
def _sandbox_process(tmp_path: Path, *extra: str) -> Iterator[tuple[str, str]]:
    """``lumenlater sandbox`` on a free port; yields (base URL, what it printed on start)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lumenlater_sdk.cli",
            "sandbox",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{tmp_path / 'sandbox.db'}",
            "--secret-key-file",
            str(tmp_path / "secret.key"),
            "--no-rate-limit",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        assert proc.stdout is not None
        printed = ""
        while "listening on" not in printed:
            line = proc.stdout.readline()
            assert line, f"the sandbox exited: {printed}"
            printed += line
        yield f"http://127.0.0.1:{port}", printed
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_sandbox_start_registers_no_endpoint_and_says_where_things_are(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    keys_line = f"lumenlater keys --database-url {db_url} --secret-key-file {tmp_path}/secret.key"
    with _sandbox_process(tmp_path) as (base_url, printed):
        assert f"dashboard        {base_url}/dashboard" in printed
        assert keys_line in printed and "webhooks         none registered" in printed
        secret_key = _SK.findall(printed)[0]
        with LumenLater(api_key=secret_key, base_url=base_url) as ll:
            assert ll.webhook_endpoints.list().data == []
    # Every start says it, not only the first (which alone prints the keys).
    with _sandbox_process(tmp_path) as (base_url, printed):
        assert not _SK.findall(printed)
        assert f"dashboard        {base_url}/dashboard" in printed and keys_line in printed
    # Asked for: one endpoint, reused by a restart with the same URL (same secret).
    hook = "http://127.0.0.1:9/hooks"
    secrets = []
    for _ in range(2):
        with _sandbox_process(tmp_path, "--webhook-url", hook) as (base_url, printed):
            found = re.findall(rf"webhook secret   (whsec_\w+)  -> {re.escape(hook)}", printed)
            assert len(found) == 1 and "none registered" not in printed
            secrets.append(found[0])
            with LumenLater(api_key=secret_key, base_url=base_url) as ll:
                assert [e.url for e in ll.webhook_endpoints.list()] == [hook]
    assert secrets[0] == secrets[1]
