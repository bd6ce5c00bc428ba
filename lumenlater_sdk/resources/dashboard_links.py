"""``client.test_helpers.dashboard_links``: one-time links into the sandbox dashboard."""

from __future__ import annotations

from ..types.dashboard_link import DashboardLink
from ._base import AsyncAPIResource, SyncAPIResource

__all__ = ["AsyncTestDashboardLinks", "TestDashboardLinks"]

_PATH = "/v1/test_helpers/dashboard_links"


class TestDashboardLinks(SyncAPIResource):
    """One-time sign-in links to the sandbox dashboard (test keys only)."""

    __test__ = False
    __slots__ = ()

    def create(self, *, idempotency_key: str | None = None) -> DashboardLink:
        """A link that opens the dashboard signed in as this account, once, within
        10 minutes."""
        return self._core.request(
            "POST",
            _PATH,
            DashboardLink.model_validate_json,
            body={},
            idempotency_key=idempotency_key,
        )


class AsyncTestDashboardLinks(AsyncAPIResource):
    """One-time sign-in links to the sandbox dashboard (test keys only)."""

    __test__ = False
    __slots__ = ()

    async def create(self, *, idempotency_key: str | None = None) -> DashboardLink:
        """A link that opens the dashboard signed in as this account, once, within
        10 minutes."""
        return await self._core.request(
            "POST",
            _PATH,
            DashboardLink.model_validate_json,
            body={},
            idempotency_key=idempotency_key,
        )
