"""The RequestLog model: one authenticated API request, as the request log keeps it."""

from __future__ import annotations

from typing import Literal

from ._base import LumenLaterObject


class RequestLog(LumenLaterObject):
    """One API request a merchant's key made (``reqlog_…``): ``method``, ``path``, the
    answer's ``status``, its ``request_id`` (the ``Request-Id`` header), the
    ``idempotency_key`` it carried, and ``latency_ms`` inside the backend. ``created``
    is when it was answered (Unix seconds). The log keeps each merchant's newest
    requests; reading it (``GET /v1/request_logs``) is not itself logged.
    """

    id: str
    object: Literal["request_log"] | str = "request_log"
    method: str
    path: str
    status: int
    request_id: str
    idempotency_key: str | None = None
    latency_ms: float
    livemode: bool = False
    created: int
