"""``lumenlater demo --scripted`` runs the whole purchase story and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_scripted_demo_exits_zero(tmp_path: Path) -> None:
    # A throwaway HOME: the demo must need no configuration and leave nothing behind.
    env = {**os.environ, "HOME": str(tmp_path)}
    for name in ("LUMENLATER_API_KEY", "LUMENLATER_BASE_URL", "DATABASE_URL"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "lumenlater_sdk.cli", "demo", "--scripted"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "pay on the hosted page" in output
    assert "repaid, late fee" in output
    assert "every step passed" in output
