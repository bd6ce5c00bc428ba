"""``BackendConfig.write_concurrency``: how many POSTs one process runs at once."""

from __future__ import annotations

import concurrent.futures
import sys
from pathlib import Path

import httpx
import pytest

from lumenlater_sdk.backend import BackendConfig
from lumenlater_sdk.backend.testing import run_sandbox


def test_defaults_follow_the_chain() -> None:
    assert BackendConfig().writers == 4
    assert BackendConfig(chain="soroban").writers == 40
    assert BackendConfig(write_concurrency=9).writers == 9
    with pytest.raises(ValueError, match="at least 1"):
        _ = BackendConfig(write_concurrency=0).writers


def test_posts_queue_behind_one_writer_and_all_land(tmp_path: Path) -> None:
    """One writer at a time: twenty POSTs sent at once all answer, each once, and a GET
    is answered while they queue (reads do not wait for the writers' slot)."""
    with run_sandbox(f"sqlite:///{tmp_path / 'w.db'}", write_concurrency=1) as sb:
        headers = {"Authorization": f"Bearer {sb.secret_key}"}
        with httpx.Client(base_url=sb.base_url, headers=headers, timeout=30) as client:
            customer = client.post("/v1/test_helpers/wallets", json={}).json()["address"]

            def create(i: int) -> httpx.Response:
                return client.post(
                    "/v1/bills",
                    json={"amount": 1_000_000 + i, "customer": customer, "order_id": f"o-{i}"},
                    headers={"Idempotency-Key": f"k-{i}"} if i % 2 else {},
                )

            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                posts = [pool.submit(create, i) for i in range(20)]
                assert client.get("/v1/account").status_code == 200
                answers = [p.result() for p in posts]
            assert [a.status_code for a in answers] == [200] * 20
            listed = client.get("/v1/bills", params={"limit": 100}).json()["data"]
            orders = sorted(b["order_id"] for b in listed if b["order_id"])
            assert orders == sorted(f"o-{i}" for i in range(20))


@pytest.mark.parametrize("interval", [0.0002, None])
def test_the_switch_interval_holds_while_serving_and_is_put_back(
    tmp_path: Path, interval: float | None
) -> None:
    before = sys.getswitchinterval()
    with run_sandbox(f"sqlite:///{tmp_path / 's.db'}", switch_interval=interval):
        assert sys.getswitchinterval() == pytest.approx(interval or before)
    assert sys.getswitchinterval() == before
