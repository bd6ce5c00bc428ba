"""Rate limits shared by two backend processes through Redis (``--rate-limit-store``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import redis
from backend_process import backend_process
from test_ratelimit_meta import assert_refused

# No refill moves during a test: 4 requests per key (and per address), 10 failed keys.
LIMITS = ("--rate-limit-rate", "0.001", "--rate-limit-burst", "4", "--no-delivery")


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory"])
def test_two_processes_take_from_the_same_buckets(
    db_url: str, tmp_path: Path, redis_url: str, shared: bool
) -> None:
    client = redis.Redis.from_url(redis_url)
    forget_buckets(client)  # the failed-key bucket of 127.0.0.1 outlives a test
    key_file = tmp_path / "secret.key"
    store = ("--rate-limit-store", redis_url) if shared else ()
    with backend_process(db_url, key_file, *LIMITS, *store) as a:
        assert a.secret_key, "".join(a.output)
        with backend_process(db_url, key_file, *LIMITS, *store) as b:
            auth = {"Authorization": f"Bearer {a.secret_key}"}
            with httpx.Client(timeout=30, headers=auth) as c:
                seen = [c.get(f"{(a, b)[i % 2].base_url}/v1/account") for i in range(6)]
            guesses = [
                httpx.get(
                    f"{(a, b)[i % 2].base_url}/v1/account",
                    headers={"Authorization": f"Bearer sk_test_guess{i}"},
                    timeout=30,
                )
                for i in range(12)
            ]
    statuses = [r.status_code for r in seen]
    guessed = [r.status_code for r in guesses]
    if not shared:  # each process allows its own share: the contrast
        assert statuses == [200] * 6
        assert guessed == [401] * 12
        return
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in seen[:4]] == ["3", "2", "1", "0"]
    assert_refused(seen[4])
    assert guessed == [401] * 10 + [429, 429]
    assert_refused(guesses[10])
    # Each bucket is its own Redis key with its own expiry (none lives forever).
    keys = client.keys("lumenlater-rl*")
    assert len(keys) >= 2
    assert all(client.ttl(k) > 0 for k in keys)
    forget_buckets(client)


def forget_buckets(client: redis.Redis) -> None:
    if keys := client.keys("lumenlater-rl*"):
        client.delete(*keys)


def test_an_unreachable_store_stops_the_start_with_one_line(
    tmp_path: Path,
) -> None:
    import subprocess

    from backend_process import backend_command

    from lumenlater_sdk._ports import free_port

    port = free_port()
    done = subprocess.run(
        backend_command(
            f"sqlite:///{tmp_path / 'x.db'}",
            tmp_path / "secret.key",
            "--rate-limit-store",
            f"redis://127.0.0.1:{port}/0",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"127.0.0.1:{port}/0 does not answer" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_store_that_goes_away_limits_in_memory_meanwhile(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from backend_helpers import Api

    from lumenlater_sdk._ports import free_port, wait_for_port
    from lumenlater_sdk.backend.testing import run_sandbox

    exe = shutil.which("redis-server")
    assert exe, "redis-server is not installed"
    port = free_port()
    server = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        assert wait_for_port(port, timeout=10)
        with run_sandbox(
            f"sqlite:///{tmp_path / 'gone.db'}",
            rate_limit=True,
            rate_limit_rate=0.001,
            rate_limit_burst=3,
            rate_limit_store=f"redis://127.0.0.1:{port}/0",
            run_delivery=False,
            tick_interval=3600,
        ) as sb:
            api = Api(sb.base_url, sb.secret_key)
            assert [api.get("/v1/account").status_code for _ in range(2)] == [200, 200]
            server.terminate()
            server.wait(10)
            # Answered at once, limited by this process's own buckets from now on.
            seen = [api.get("/v1/account") for _ in range(4)]
            assert [r.status_code for r in seen] == [200, 200, 200, 429]
            assert_refused(seen[3])
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
