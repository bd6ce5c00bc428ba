"""Schemathesis against the live loopback server: no 5xx, no response outside the schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from lumenlater_sdk.backend.testing import run_sandbox


def test_schemathesis_finds_no_server_errors(tmp_path: Path) -> None:
    with run_sandbox(
        f"sqlite:///{tmp_path / 'fuzz.db'}", run_delivery=False, tick_interval=3600
    ) as sb:
        exe = shutil.which("schemathesis") or shutil.which("st")
        cmd = [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]
        proc = subprocess.run(
            [
                *cmd,
                "run",
                f"{sb.base_url}/v1/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance,"
                "status_code_conformance,content_type_conformance",
                "--phases",
                "examples,fuzzing",
                "--max-examples",
                "8",
                "--generation-deterministic",
                "--workers",
                "2",
                "--request-timeout",
                "30",
                "-H",
                f"Authorization: Bearer {sb.secret_key}",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
        assert "operations" in proc.stdout.lower() or "passed" in proc.stdout.lower()
