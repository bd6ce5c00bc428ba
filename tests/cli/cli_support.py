"""Run ``lumenlater`` as a user does: a subprocess against a real sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lumenlater_sdk.backend.testing import SandboxHandle


def run_cli(
    sb: SandboxHandle | None, *args: str, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``lumenlater ARGS`` with *sb*'s key and URL in the environment."""
    env = {**os.environ}
    if sb is not None:
        env.update(LUMENLATER_API_KEY=sb.secret_key, LUMENLATER_BASE_URL=sb.base_url)
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "lumenlater_sdk.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
