"""JSON-RPC 2.0 framing: requests in, results or error objects out, never an HTTP 500.

Batches (a JSON array of requests) are answered with an array; notifications (no
``id``) are run and not answered, as the specification says.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "Method",
    "RpcError",
    "endpoint",
]

log = logging.getLogger("lumenlater.soroban_rpc")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

Method = Callable[[Mapping[str, Any]], Any]
"""A method: its ``params`` object (empty when null) in, its ``result`` out."""


class RpcError(Exception):
    """A JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": self.data}


def _answer(
    request_id: Any, *, result: Any = None, error: RpcError | None = None
) -> dict[str, Any]:
    if error is not None:
        return {"jsonrpc": "2.0", "id": request_id, "error": error.body()}
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _run(methods: Mapping[str, Method], request: Any) -> dict[str, Any] | None:
    if not isinstance(request, dict):
        return _answer(None, error=RpcError(INVALID_REQUEST, "a request must be a JSON object"))
    request_id = request.get("id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, (str, int, float))
    ):
        return _answer(None, error=RpcError(INVALID_REQUEST, "id must be a string or a number"))
    notification = "id" not in request
    try:
        if request.get("jsonrpc") != "2.0":
            raise RpcError(INVALID_REQUEST, 'jsonrpc must be "2.0"')
        name = request.get("method")
        if not isinstance(name, str):
            raise RpcError(INVALID_REQUEST, "method must be a string")
        method = methods.get(name)
        if method is None:
            raise RpcError(METHOD_NOT_FOUND, "method not found", name)
        params = request.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise RpcError(INVALID_PARAMS, "params must be an object (by-name parameters)")
        result = method(params)
    except RpcError as e:
        return None if notification else _answer(request_id, error=e)
    except Exception:
        ref = uuid.uuid4().hex
        log.exception("soroban rpc: internal error", extra={"rpc_error_ref": ref})
        error = RpcError(INTERNAL_ERROR, "internal error", f"logged as {ref}")
        return None if notification else _answer(request_id, error=error)
    return None if notification else _answer(request_id, result=result)


def endpoint(methods: Mapping[str, Method]) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint serving *methods* (run in a worker thread: they block)."""

    async def serve(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return JSONResponse(_answer(None, error=RpcError(PARSE_ERROR, "parse error")))
        if isinstance(body, list):
            if not body:
                return JSONResponse(_answer(None, error=RpcError(INVALID_REQUEST, "empty batch")))
            answers = []
            for item in body:
                answer = await anyio.to_thread.run_sync(_run, methods, item)
                if answer is not None:
                    answers.append(answer)
            return JSONResponse(answers) if answers else Response(status_code=204)
        answer = await anyio.to_thread.run_sync(_run, methods, body)
        return Response(status_code=204) if answer is None else JSONResponse(answer)

    return serve
