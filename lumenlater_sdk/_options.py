"""Client settings and request building: everything about a call that needs no I/O.

Both clients resolve their settings here once (API key, base URL, pre-built
headers) and turn each call into a :class:`RequestPlan`; the retry decision for
an answer is made here too, so the sync and async loops only move bytes.
"""

from __future__ import annotations

import os
import platform
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic_core import to_json

from ._error_mapping import make_api_error, read_error
from ._http import RawResponse, TransportFailure
from ._logging import log_answer, log_call, log_failed, log_no_answer, log_retry
from ._retry import is_retryable, retry_delay
from ._version import API_VERSION, __version__
from .errors import APIConnectionError, APITimeoutError, LumenLaterError

__all__ = ["DEFAULT_BASE_URL", "ClientOptions", "RequestPlan"]

DEFAULT_BASE_URL = "http://127.0.0.1:8787"
USER_AGENT = f"lumenlater-python/{__version__} python/{platform.python_version()}"
_RETRY_COUNT = "X-LumenLater-Retry-Count"
_RETRY_COUNTS = tuple(str(i) for i in range(16))


def new_idempotency_key() -> str:
    """A random UUID4 string, made fresh for each logical POST (retries reuse it)."""
    return str(uuid.uuid4())


def _retry_count(attempt: int) -> str:
    return _RETRY_COUNTS[attempt] if attempt < len(_RETRY_COUNTS) else str(attempt)


def check_idempotency_key(key: str) -> str:
    """Refuse keys the server would reject (1-255 printable ASCII) before any request."""
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        raise ValueError("idempotency_key must be a string of 1-255 printable ASCII characters")
    if not (key.isascii() and key.isprintable()):
        raise ValueError("idempotency_key must be printable ASCII")
    return key


def _check_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def _check_retries(max_retries: int) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be an int >= 0, not {max_retries!r}")
    return max_retries


def _check_api_key(api_key: str) -> str:
    if not isinstance(api_key, str) or not api_key:
        raise ValueError("api_key must be a non-empty string such as 'sk_test_...'")
    if not (api_key.isascii() and api_key.isprintable()) or " " in api_key:
        raise ValueError("api_key must be printable ASCII without spaces")
    return api_key


_APP_INFO_KEYS = ("name", "version", "url")
# Characters that would break the User-Agent's "Name/version (url)" grammar.
_TOKEN_BREAKERS = frozenset(" /()")


def app_info_suffix(app_info: Mapping[str, str | None] | None) -> str:
    """`` Name/version (url)`` for the User-Agent (Stripe's form), or ``""``; refuses
    a missing name, unknown keys and values that would break the header."""
    if app_info is None:
        return ""
    if not isinstance(app_info, Mapping):
        raise TypeError(f"app_info must be a dict like {{'name': 'MyPlugin'}}, not {app_info!r}")
    unknown = sorted(set(app_info) - set(_APP_INFO_KEYS))
    if unknown:
        raise ValueError(f"app_info takes 'name', 'version' and 'url', not {unknown}")
    values: dict[str, str] = {}
    for key in _APP_INFO_KEYS:
        value = app_info.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise TypeError(f"app_info[{key!r}] must be a string, not {type(value).__name__}")
        if not (value.isascii() and value.isprintable()):
            raise ValueError(f"app_info[{key!r}] must be printable ASCII")
        breakers = _TOKEN_BREAKERS if key != "url" else frozenset(" ()")
        if breakers & set(value):
            raise ValueError(f"app_info[{key!r}] must not contain spaces, '/', '(' or ')'")
        if value:
            values[key] = value
    if "name" not in values:
        raise ValueError("app_info needs a 'name', e.g. {'name': 'MyPlugin', 'version': '1.2'}")
    suffix = " " + values["name"]
    if "version" in values:
        suffix += "/" + values["version"]
    if "url" in values:
        suffix += f" ({values['url']})"
    return suffix


class RequestPlan:
    """One API call, ready to send any number of times (the idempotency key is fixed)."""

    __slots__ = ("_first", "_headers", "content", "method", "params", "path", "url")

    def __init__(
        self,
        method: str,
        path: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        params: Mapping[str, Any] | None,
    ) -> None:
        self.method = method
        self.path = path
        self.url = url
        self.content = content
        self.params = params
        self._first = headers
        self._headers = headers

    def headers(self, attempt: int) -> dict[str, str]:
        """Headers for the *attempt*-th try (0 = first), with the retry count set."""
        if attempt == 0:
            return self._first
        return {**self._headers, _RETRY_COUNT: _retry_count(attempt)}


class ClientOptions:
    """Immutable settings of one client; ``with_options`` copies them with changes."""

    __slots__ = (
        "_get_headers",
        "_post_headers",
        "base_url",
        "max_retries",
        "timeout",
    )

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        default_headers: Mapping[str, str] | None = None,
        app_info: Mapping[str, str | None] | None = None,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get("LUMENLATER_API_KEY")
        if not api_key:
            raise LumenLaterError(
                "No API key: pass api_key='sk_test_...' or set the LUMENLATER_API_KEY "
                "environment variable (`lumenlater sandbox` prints a test key)."
            )
        base_url = base_url or os.environ.get("LUMENLATER_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = base_url.rstrip("/")
        self.timeout = _check_timeout(timeout)
        self.max_retries = _check_retries(max_retries)
        base = {
            "Authorization": f"Bearer {api_key}",
            "LumenLater-Version": API_VERSION,
            "User-Agent": USER_AGENT + app_info_suffix(app_info),
            "Accept": "application/json",
            _RETRY_COUNT: "0",
        }
        if default_headers:
            base.update(default_headers)
        self._get_headers = base
        self._post_headers = {**base, "Content-Type": "application/json"}

    def replace(
        self, *, api_key: str | None, timeout: float | None, max_retries: int | None
    ) -> ClientOptions:
        """A copy with another API key, timeout and/or retry budget."""
        new = ClientOptions.__new__(ClientOptions)
        new.base_url = self.base_url
        if api_key is None:
            new._get_headers = self._get_headers
            new._post_headers = self._post_headers
        else:
            auth = {"Authorization": f"Bearer {_check_api_key(api_key)}"}
            new._get_headers = {**self._get_headers, **auth}
            new._post_headers = {**self._post_headers, **auth}
        new.timeout = self.timeout if timeout is None else _check_timeout(timeout)
        new.max_retries = self.max_retries if max_retries is None else _check_retries(max_retries)
        return new

    def plan(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        idempotency_key: str | None,
    ) -> RequestPlan:
        """Build the request for one call. POSTs get one idempotency key for all attempts."""
        url = self.base_url + path
        if method != "POST":
            log_call(method, path, params, None, None)
            return RequestPlan(method, path, url, self._get_headers, None, params)
        headers = self._post_headers.copy()
        key = headers["Idempotency-Key"] = (
            new_idempotency_key()
            if idempotency_key is None
            else check_idempotency_key(idempotency_key)
        )
        log_call(method, path, params, body, key)
        # pydantic-core's serializer: compact UTF-8 JSON, ~10x faster than json.dumps here.
        content = b"{}" if body is None else to_json(body)
        return RequestPlan(method, path, url, headers, content, params)

    def answered(self, plan: RequestPlan, attempt: int, resp: RawResponse, elapsed: float) -> None:
        """Log a 2xx answer."""
        log_answer(
            plan.method,
            plan.path,
            resp.status_code,
            resp.headers,
            None,
            elapsed,
            attempt,
            self.max_retries + 1,
        )

    def after_error(
        self, plan: RequestPlan, attempt: int, resp: RawResponse, elapsed: float
    ) -> float:
        """The wait before retrying an error answer, or raise its mapped exception."""
        status = resp.status_code
        info = read_error(status, resp.headers, resp.content)
        attempts = self.max_retries + 1
        log_answer(
            plan.method, plan.path, status, resp.headers, info.code, elapsed, attempt, attempts
        )
        if attempt < self.max_retries and is_retryable(status, info.type, info.code):
            wait = retry_delay(attempt, resp.headers)
            reason = f"{status} {info.code or info.type or 'error'}"
            log_retry(plan.method, plan.path, wait, attempt, attempts, reason)
            return wait
        error = make_api_error(status, resp.headers, info)
        log_failed(plan.method, plan.path, error)
        raise error

    def after_failure(
        self, plan: RequestPlan, attempt: int, exc: TransportFailure, elapsed: float
    ) -> float:
        """The wait before retrying after a network failure, or raise the SDK's error
        (which names the server and the attempts made)."""
        attempts = self.max_retries + 1
        log_no_answer(plan.method, plan.path, self.base_url, str(exc), elapsed, attempt, attempts)
        if attempt < self.max_retries:
            wait = retry_delay(attempt, None)
            reason = "timed out" if exc.timeout else str(exc)
            log_retry(plan.method, plan.path, wait, attempt, attempts, reason)
            return wait
        tries = f"{attempt + 1} attempt" + ("s" if attempt else "")
        error: APIConnectionError
        if exc.timeout:
            error = APITimeoutError(
                f"request to {self.base_url} timed out after {tries} "
                f"({self.timeout:g} s each): {exc}"
            )
        else:
            error = APIConnectionError(f"could not connect to {self.base_url} after {tries}: {exc}")
        log_failed(plan.method, plan.path, error)
        raise error from exc
