"""The SDK's loggers, the ``LUMENLATER_LOG`` switch, and the words of the client's log lines.

Everything logs under ``lumenlater``: ``lumenlater.client`` for API calls and
``lumenlater.webhooks`` for the receiver. Like openai-python, nothing is printed
unless the application configures :mod:`logging` or sets ``LUMENLATER_LOG``
(``debug``, ``info``, ``warning`` or ``error``), which attaches one stderr handler
to the ``lumenlater`` logger the first time a client or receiver is made.

What is never logged: API keys, the ``Authorization`` header, webhook secrets and
request or webhook bodies. At ``DEBUG`` a call's parameters are logged with every
field that looks secret (by name or by value) replaced by ``[redacted]``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Mapping
from typing import Any, TextIO

__all__ = [
    "LOG_ENV",
    "client_logger",
    "log_answer",
    "log_call",
    "log_failed",
    "log_no_answer",
    "log_retry",
    "redact",
    "setup_logging",
    "webhooks_logger",
]

LOG_ENV = "LUMENLATER_LOG"

root_logger = logging.getLogger("lumenlater")
client_logger = logging.getLogger("lumenlater.client")
webhooks_logger = logging.getLogger("lumenlater.webhooks")

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_FORMAT = "[%(asctime)s - %(name)s - %(levelname)s] %(message)s"
_lock = threading.Lock()
_warned: set[str] = set()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current stderr


def setup_logging() -> None:
    """Honour ``LUMENLATER_LOG``: one stderr handler on ``lumenlater`` (added once) and
    that logger's level. Unset or empty: nothing changes. Called when a client or a
    webhook receiver is made, so the variable is read then, not at import."""
    value = os.environ.get(LOG_ENV, "").strip().lower()
    if not value:
        return
    level = _LEVELS.get(value)
    if level is None:
        if value not in _warned:
            _warned.add(value)
            warnings.warn(
                f"{LOG_ENV}={value!r} is ignored: use debug, info, warning or error",
                stacklevel=3,
            )
        return
    with _lock:
        if not any(isinstance(h, _StderrHandler) for h in root_logger.handlers):
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter(_FORMAT, "%Y-%m-%d %H:%M:%S"))
            root_logger.addHandler(handler)
        root_logger.setLevel(level)


# --- redaction -----------------------------------------------------------------------

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(
    r"secret|password|passphrase|token|api_?key|authorization|signature|private|seed", re.I
)
# sk_/rk_ API keys, webhook secrets, and Stellar secret seeds (S + 55 base32 characters).
_SECRET_VALUE = re.compile(r"(?:sk|rk|pk)_(?:test|live)_|whsec_|S[A-Z2-7]{55}$")


def redact(value: Any) -> Any:
    """A copy of *value* (JSON-like) with secret-looking fields and values hidden."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_NAME.search(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUE.match(value):
        return REDACTED
    return value


# --- the client's lines ----------------------------------------------------------------


def _of(attempt: int, attempts: int) -> str:
    return f"attempt {attempt + 1} of {attempts}"


def log_call(
    method: str,
    path: str,
    params: Mapping[str, Any] | None,
    body: Mapping[str, Any] | None,
    idempotency_key: str | None,
) -> None:
    """DEBUG: what a call sends (parameters redacted; never headers)."""
    if not client_logger.isEnabledFor(logging.DEBUG):
        return
    parts = [f"Request {method} {path}"]
    if params:
        parts.append(f"params={redact(params)!r}")
    if body is not None:
        parts.append(f"body={redact(body)!r}")
    if idempotency_key is not None:
        parts.append(f"idempotency_key={idempotency_key}")
    client_logger.debug(" ".join(parts))


def log_answer(
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    code: str | None,
    elapsed: float,
    attempt: int,
    attempts: int,
) -> None:
    """INFO: one HTTP answer (any status), with its request id and time taken."""
    if not client_logger.isEnabledFor(logging.INFO):
        return
    request_id = headers.get("request-id")
    status_text = f"{status} {code}" if code else str(status)
    tries = f", {_of(attempt, attempts)}" if attempt else ""
    client_logger.info(
        "%s %s %s (request_id=%s, %.3f s%s)",
        method,
        path,
        status_text,
        request_id,
        elapsed,
        tries,
        extra={
            "fields": {
                "method": method,
                "path": path,
                "status": status,
                "request_id": request_id,
                "elapsed": round(elapsed, 6),
                "attempt": attempt + 1,
            }
        },
    )


def log_no_answer(
    method: str, path: str, url: str, error: str, elapsed: float, attempt: int, attempts: int
) -> None:
    """INFO: an attempt that got no HTTP answer (refused, reset, timed out)."""
    client_logger.info(
        "%s %s: no answer from %s (%s) after %.3f s, %s",
        method,
        path,
        url,
        error,
        elapsed,
        _of(attempt, attempts),
        extra={"fields": {"method": method, "path": path, "error": error, "attempt": attempt + 1}},
    )


def log_retry(
    method: str, path: str, wait: float, attempt: int, attempts: int, reason: str
) -> None:
    """INFO: the client is about to wait and send attempt ``attempt + 2``."""
    client_logger.info(
        "Retrying %s %s in %.2f s (%s): %s",
        method,
        path,
        wait,
        _of(attempt + 1, attempts),
        reason,
        extra={
            "fields": {
                "method": method,
                "path": path,
                "wait": wait,
                "attempt": attempt + 2,
                "attempts": attempts,
                "reason": reason,
            }
        },
    )


def log_failed(method: str, path: str, error: BaseException) -> None:
    """INFO: the call raises *error* (the caller gets it too; nothing is swallowed)."""
    client_logger.info(
        "%s %s failed: %s: %s",
        method,
        path,
        type(error).__name__,
        error,
        extra={"fields": {"method": method, "path": path, "error": type(error).__name__}},
    )
