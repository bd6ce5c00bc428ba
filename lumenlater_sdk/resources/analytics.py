"""``client.analytics``: metrics, the merchant ledger, and its export as a file."""

from __future__ import annotations

import os
from collections.abc import Callable
from io import BytesIO
from typing import IO, Any, Literal, TypeVar, overload

from .._http import ChunkSink
from .._pagination import AsyncPaginator, SyncPage
from ..types import Metrics, Transaction
from ._base import AsyncAPIResource, SyncAPIResource, compact

__all__ = ["Analytics", "AsyncAnalytics", "ExportFormat"]

ExportFormat = Literal["csv", "json"]
PathT = TypeVar("PathT", str, "os.PathLike[str]")
ProgressFn = Callable[[int], Any]


class _Collector(ChunkSink):
    """Receives an export body into memory or a file, reporting progress; restarts on retry."""

    def __init__(self, path: str | os.PathLike[str] | None, on_progress: ProgressFn | None):
        self._path = path
        self._on_progress = on_progress
        self._file: IO[bytes] | None = None
        self._buffer = BytesIO()
        self.received = 0

    def begin(self) -> None:
        self.received = 0
        if self._path is None:
            self._buffer = BytesIO()
        elif self._file is None:
            self._file = open(self._path, "wb")  # noqa: SIM115 - closed by close()
        else:  # a retry after a broken stream: start the file over
            self._file.seek(0)
            self._file.truncate()

    def write(self, chunk: bytes) -> None:
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._buffer.write(chunk)
        self.received += len(chunk)
        if self._on_progress is not None:
            self._on_progress(self.received)

    def value(self) -> bytes:
        return self._buffer.getvalue()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def discard(self) -> None:
        """Close and delete a partly written file: a truncated export must not look complete."""
        if self._file is not None:
            self._file.close()
            os.unlink(self._path)  # type: ignore[arg-type]


def _export_params(format: str, start: int | None, end: int | None) -> dict[str, Any]:
    if format not in ("csv", "json"):
        raise ValueError(f"format must be 'csv' or 'json', not {format!r}")
    return compact(format=format, start=start, end=end)


def _metrics_params(start: int | None, end: int | None, interval: str | None) -> dict[str, Any]:
    return compact(start=start, end=end, interval=interval)


def _transactions_params(**kw: Any) -> dict[str, Any]:
    return compact(**kw)


class Analytics(SyncAPIResource):
    """Sales metrics and the merchant-side ledger."""

    __slots__ = ()

    def metrics(
        self,
        *,
        start: int | None = None,
        end: int | None = None,
        interval: Literal["day", "week", "month"] | None = None,
    ) -> Metrics:
        """Aggregates over ``[start, end)`` (Unix seconds) with a series per *interval*."""
        return self._core.request(
            "GET",
            "/v1/analytics/metrics",
            Metrics.model_validate_json,
            params=_metrics_params(start, end, interval),
        )

    def transactions(
        self,
        *,
        type: str | None = None,
        bill: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[Transaction]:
        """Ledger lines (``txn_…``), newest first; iterate the result to walk every page."""
        params = _transactions_params(
            type=type,
            bill=bill,
            start=start,
            end=end,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.page("/v1/analytics/transactions", params, Transaction.model_validate)

    @overload
    def export(
        self,
        format: ExportFormat = ...,
        *,
        start: int | None = ...,
        end: int | None = ...,
        path: None = ...,
        on_progress: ProgressFn | None = ...,
    ) -> bytes: ...
    @overload
    def export(
        self,
        format: ExportFormat = ...,
        *,
        start: int | None = ...,
        end: int | None = ...,
        path: PathT,
        on_progress: ProgressFn | None = ...,
    ) -> PathT: ...
    def export(
        self,
        format: ExportFormat = "csv",
        *,
        start: int | None = None,
        end: int | None = None,
        path: PathT | None = None,
        on_progress: ProgressFn | None = None,
    ) -> bytes | PathT:
        """The ledger as a CSV or JSON file.

        Without *path* the body is returned as bytes. With *path* it is streamed to that
        file chunk by chunk (never held in memory) and *path* is returned;
        ``on_progress(bytes_so_far)`` is called after every chunk.
        """
        params = _export_params(format, start, end)
        sink = _Collector(path, on_progress)
        try:
            self._core.stream("/v1/analytics/export", params, sink)
        except BaseException:
            sink.discard()
            raise
        sink.close()
        return sink.value() if path is None else path


class AsyncAnalytics(AsyncAPIResource):
    """Sales metrics and the merchant-side ledger."""

    __slots__ = ()

    async def metrics(
        self,
        *,
        start: int | None = None,
        end: int | None = None,
        interval: Literal["day", "week", "month"] | None = None,
    ) -> Metrics:
        """Aggregates over ``[start, end)`` (Unix seconds) with a series per *interval*."""
        return await self._core.request(
            "GET",
            "/v1/analytics/metrics",
            Metrics.model_validate_json,
            params=_metrics_params(start, end, interval),
        )

    def transactions(
        self,
        *,
        type: str | None = None,
        bill: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[Transaction]:
        """Ledger lines (``txn_…``): ``await`` for the first page or ``async for`` over all."""
        params = _transactions_params(
            type=type,
            bill=bill,
            start=start,
            end=end,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.paginator(
            "/v1/analytics/transactions", params, Transaction.model_validate
        )

    @overload
    async def export(
        self,
        format: ExportFormat = ...,
        *,
        start: int | None = ...,
        end: int | None = ...,
        path: None = ...,
        on_progress: ProgressFn | None = ...,
    ) -> bytes: ...
    @overload
    async def export(
        self,
        format: ExportFormat = ...,
        *,
        start: int | None = ...,
        end: int | None = ...,
        path: PathT,
        on_progress: ProgressFn | None = ...,
    ) -> PathT: ...
    async def export(
        self,
        format: ExportFormat = "csv",
        *,
        start: int | None = None,
        end: int | None = None,
        path: PathT | None = None,
        on_progress: ProgressFn | None = None,
    ) -> bytes | PathT:
        """The ledger as a CSV or JSON file.

        Without *path* the body is returned as bytes. With *path* it is streamed to that
        file chunk by chunk (never held in memory) and *path* is returned;
        ``on_progress(bytes_so_far)`` is called after every chunk.
        """
        params = _export_params(format, start, end)
        sink = _Collector(path, on_progress)
        try:
            await self._core.stream("/v1/analytics/export", params, sink)
        except BaseException:
            sink.discard()
            raise
        sink.close()
        return sink.value() if path is None else path
