"""The shop served on loopback against the real sandbox, its webhook endpoint registered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.flask_shop.serving import RunningShop, serve
from lumenlater_sdk import LumenLater


@pytest.fixture
def ll(sandbox: Any) -> Iterator[LumenLater]:
    """A client for the sandbox merchant the shop sells as."""
    with LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as client:
        yield client


@pytest.fixture
def shop(sandbox: Any, tmp_path: Path) -> Iterator[RunningShop]:
    """A fresh shop (empty order book) on a free loopback port."""
    with serve(
        api_key=sandbox.secret_key,
        base_url=sandbox.base_url,
        db_path=tmp_path / "shop.db",
        publishable_key=sandbox.publishable_key,
    ) as running:
        yield running
