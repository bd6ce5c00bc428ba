"""``client.request_logs``: the account's recent API requests (what ``lumenlater logs
tail`` streams and the dashboard shows)."""

from __future__ import annotations

from .._pagination import AsyncPaginator, SyncPage
from ..types.request_log import RequestLog
from ._base import AsyncAPIResource, SyncAPIResource, compact

__all__ = ["AsyncRequestLogs", "RequestLogs"]


class RequestLogs(SyncAPIResource):
    """Logged API requests (``reqlog_…``), newest first.

    To follow the log, pass the newest id you have as *ending_before*: the page holds
    the entries right after it (newest first), ``has_more`` says more follow.
    """

    __slots__ = ()

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[RequestLog]:
        """Logged requests, newest first; iterate the result to walk every page."""
        params = compact(limit=limit, starting_after=starting_after, ending_before=ending_before)
        return self._core.page("/v1/request_logs", params, RequestLog.model_validate)


class AsyncRequestLogs(AsyncAPIResource):
    """Logged API requests (``reqlog_…``), newest first (see :class:`RequestLogs`)."""

    __slots__ = ()

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[RequestLog]:
        """Logged requests, newest first: ``await`` for the first page or ``async for``
        over all."""
        params = compact(limit=limit, starting_after=starting_after, ending_before=ending_before)
        return self._core.paginator("/v1/request_logs", params, RequestLog.model_validate)
