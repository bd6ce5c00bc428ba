"""The request log: ``GET /v1/request_logs``."""

from __future__ import annotations

from typing import Any

from ...types.request_log import RequestLog
from ..http import Call, ListQuery, RouteSpec
from ..services import request_log
from ._lists import list_body, page_of

__all__ = ["ROUTES"]


def _list(call: Call) -> dict[str, Any]:
    data, more = request_log.list_request_logs(call.ctx, call.merchant_id, page_of(call.query))
    return list_body(data, more, "/v1/request_logs")


ROUTES = [
    RouteSpec(
        "GET",
        "/v1/request_logs",
        _list,
        "listRequestLogs",
        "List the account's API requests, newest first (a tail passes the newest id it"
        " has as ending_before). Entries appear within a second of the answer; each"
        " account keeps its newest 1000, none older than 30 days by default.",
        "request_logs",
        query=ListQuery,
        list_of=RequestLog,
    ),
]
