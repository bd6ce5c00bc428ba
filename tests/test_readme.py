"""Every ```python block of README.md runs, in order, against a real sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def readme_blocks() -> list[tuple[int, str]]:
    """``(line number, code)`` of each python block in the README."""
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_readme_has_a_quickstart() -> None:
    text = README.read_text(encoding="utf-8")
    # The two commands stay at the top, before anything else.
    assert text.index("./scripts/demo") < text.index("./scripts/test") < text.index("Quickstart")
    code = "\n".join(block for _, block in readme_blocks())
    for name in ("LumenLater(", "checkout.sessions.create(", "confirm_return(", "WebhookApp("):
        assert name in code


def test_readme_python_blocks_run_against_the_sandbox(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMENLATER_API_KEY", sandbox.secret_key)
    monkeypatch.setenv("LUMENLATER_BASE_URL", sandbox.base_url)
    monkeypatch.chdir(tmp_path)  # the blocks may write files (a webhook event store)
    namespace: dict[str, Any] = {"__name__": "readme"}
    blocks = readme_blocks()
    assert len(blocks) >= 5
    for line, code in blocks:
        # Padded so tracebacks show README.md's own line numbers.
        compiled = compile("\n" * (line - 1) + code, str(README), "exec")
        exec(compiled, namespace)
    namespace["ll"].close()
