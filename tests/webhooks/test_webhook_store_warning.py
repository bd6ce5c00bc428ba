"""``WebhookApp`` without ``store=`` warns, once per process, that duplicates are
suppressed only within that process."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from webhook_support import SECRET

from lumenlater_sdk.webhooks import (
    InMemoryEventStore,
    ProcessLocalStoreWarning,
    SQLiteEventStore,
    WebhookApp,
    _core,
)

_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("always")  # so that only the SDK's own once-guard can dedupe
from lumenlater_sdk.webhooks import InMemoryEventStore, WebhookApp
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    WebhookApp(secret=sys.argv[1], store=InMemoryEventStore())
    WebhookApp(secret=sys.argv[1])
    WebhookApp(secret=sys.argv[1])
print(json.dumps([
    [w.category.__name__, str(w.message), w.filename, w.lineno] for w in caught
]))
"""


def test_a_fresh_process_is_warned_once_at_the_callers_line() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, SECRET], capture_output=True, text=True, check=True
    ).stdout
    ((category, message, filename, lineno),) = json.loads(out)
    assert category == "ProcessLocalStoreWarning"
    assert "only within this process" in message and "store=" in message
    first_without_store = _SCRIPT.splitlines().index("    WebhookApp(secret=sys.argv[1])") + 1
    assert (filename, lineno) == ("<string>", first_without_store)  # the caller's line


def test_the_warning_is_a_user_warning_issued_only_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_core, "_warned_process_local", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        WebhookApp(secret=SECRET, store=InMemoryEventStore())
    assert caught == []
    with pytest.warns(ProcessLocalStoreWarning, match="duplicate deliveries"):
        WebhookApp(secret=SECRET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        WebhookApp(secret=SECRET)
    assert caught == []
    assert issubclass(ProcessLocalStoreWarning, UserWarning)


def test_passing_any_store_never_warns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_core, "_warned_process_local", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProcessLocalStoreWarning)
        store = SQLiteEventStore(tmp_path / "events.db")
        WebhookApp(secret=SECRET, store=store)
        store.close()
