"""``lumenlater dashboard`` against a real sandbox: the link it prints opens the dashboard
signed in, once; with a bad key it says so without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from lumenlater_sdk.backend.testing import SandboxHandle


def _cli(sb: SandboxHandle, key: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LUMENLATER_API_KEY": key, "LUMENLATER_BASE_URL": sb.base_url}
    return subprocess.run(
        [sys.executable, "-m", "lumenlater_sdk.cli", "dashboard"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_printed_link_signs_in_once(sandbox: SandboxHandle) -> None:
    done = _cli(sandbox, sandbox.secret_key)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith(f"{sandbox.base_url}/dashboard/link/dl_")
    assert "works once, until" in done.stderr
    with httpx.Client() as browser:
        first = browser.get(url)
        assert first.status_code == 303 and first.headers["location"] == "/dashboard"
        assert browser.get(f"{sandbox.base_url}/dashboard").status_code == 200
    assert httpx.get(url).status_code == 400


def test_a_bad_key_is_reported_plainly(sandbox: SandboxHandle) -> None:
    done = _cli(sandbox, "sk_test_" + "n" * 32)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    live = sandbox.backend.create_merchant("Live Shop", livemode=True)
    refused = _cli(sandbox, live.secret_key)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
