"""The DashboardLink model: a one-time sign-in link to the sandbox dashboard."""

from __future__ import annotations

from typing import Literal

from ._base import LumenLaterObject


class DashboardLink(LumenLaterObject):
    """Opens the sandbox dashboard signed in as the key's account: ``url`` works once
    and until ``expires_at`` (Unix seconds, 10 minutes after it was made). Only a hash of
    its token is kept; treat the URL like the key itself."""

    object: Literal["test_helpers.dashboard_link"] | str = "test_helpers.dashboard_link"
    url: str
    expires_at: int
