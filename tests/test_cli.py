"""The ``lumenlater`` command line against a real sandbox, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.cli import build_parser


def _cli(sb: SandboxHandle, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LUMENLATER_API_KEY": key or sb.secret_key,
        "LUMENLATER_BASE_URL": sb.base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "lumenlater_sdk.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_documented_command_is_registered() -> None:
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert choices is not None
    assert {"sandbox", "demo", "listen", "trigger", "clock"} <= set(choices)


def test_clock_show_and_advance(sandbox: SandboxHandle) -> None:
    shown = _cli(sandbox, "clock")
    assert shown.returncode == 0, shown.stderr
    # stdout is the API's answer as JSON; the time in words goes to stderr.
    before = json.loads(shown.stdout)
    assert before["object"] == "test_helpers.clock"
    moved = _cli(sandbox, "clock", "advance", "86400")
    assert moved.returncode == 0, moved.stderr
    after = json.loads(moved.stdout)["now"]
    assert after - before["now"] >= 86400
    assert "UTC" in moved.stderr and "advanced 86400" in moved.stderr
    table = _cli(sandbox, "clock", "--format", "table").stdout.splitlines()
    assert table[0].split() == ["FIELD", "VALUE"] and table[2].split()[0] == "now", table


def test_clock_advance_needs_positive_seconds(sandbox: SandboxHandle) -> None:
    for args in (("clock", "advance"), ("clock", "advance", "0")):
        r = _cli(sandbox, *args)
        assert r.returncode == 2 and "usage" in r.stderr


def test_clock_with_a_bad_key_fails_cleanly(sandbox: SandboxHandle) -> None:
    r = _cli(sandbox, "clock", key="sk_test_not_a_real_key")
    assert r.returncode == 1
    assert "error:" in r.stderr and "Traceback" not in r.stderr


def test_resource_commands_create_get_and_list(sandbox: SandboxHandle) -> None:
    from lumenlater_sdk import LumenLater

    with LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as ll:
        customer = next(w for w in ll.test_helpers.wallets.list() if w.name == "approve").address
    made = _cli(sandbox, "bills", "create", "-d", f"customer={customer}", "-d", "amount=50000000",
                "-d", "order_id=cli-1")  # fmt: skip
    assert made.returncode == 0, made.stderr
    bill = json.loads(made.stdout)
    assert bill["amount"] == 50_000_000 and bill["order_id"] == "cli-1"
    got = _cli(sandbox, "bills", "get", bill["id"])
    assert got.returncode == 0 and json.loads(got.stdout)["id"] == bill["id"]
    listed = _cli(sandbox, "bills", "list", "-d", "order_id=cli-1")
    assert [b["id"] for b in json.loads(listed.stdout)["data"]] == [bill["id"]]
    account = _cli(sandbox, "account", "get")
    assert json.loads(account.stdout)["status"] == "approved"
    chain = _cli(sandbox, "chain", "get")
    assert chain.returncode == 0, chain.stderr
    bill_contract = bill["chain"]["contract_id"]
    assert json.loads(chain.stdout)["contracts"]["bnpl_core"] == bill_contract


def test_resource_commands_report_errors_without_tracebacks(sandbox: SandboxHandle) -> None:
    missing = _cli(sandbox, "bills", "get", "bill_doesnotexist")
    assert missing.returncode == 1 and "error:" in missing.stderr
    assert "Traceback" not in missing.stderr
    no_id = _cli(sandbox, "bills", "get")
    assert no_id.returncode == 2
    float_amount = _cli(sandbox, "bills", "create", "-d", "customer=GABC", "-d", "amount=1.5")
    assert float_amount.returncode == 1 and "Traceback" not in float_amount.stderr


def test_merchants_create_and_approve(sandbox: SandboxHandle) -> None:
    from stellar_sdk import Keypair

    address = Keypair.random().public_key
    made = _cli(sandbox, "merchants", "create", "-d", "business_name=CLI Shop", "-d",
                "custody=self", "-d", f"stellar_address={address}")  # fmt: skip
    assert made.returncode == 0, made.stderr
    merchant = json.loads(made.stdout)
    assert (merchant["id"], merchant["status"]) == (address, "pending")
    assert merchant["secret_key"].startswith("sk_test_")
    # Not enrolled yet: the admin cannot approve it, and says why.
    refused = _cli(sandbox, "merchants", "approve", address)
    assert refused.returncode == 1 and "merchant_not_enrolled" in refused.stderr
    assert _cli(sandbox, "merchants", "approve").returncode == 2
    # A managed merchant is enrolled and approved at once: the admin suspends it.
    managed = json.loads(_cli(sandbox, "merchants", "create", "-d", "business_name=M").stdout)
    suspended = _cli(sandbox, "merchants", "suspend", managed["id"])
    assert suspended.returncode == 0, suspended.stderr
    assert json.loads(suspended.stdout)["status"] == "suspended"
    assert json.loads(_cli(sandbox, "merchants", "reject", managed["id"]).stdout)["status"] == (
        "rejected"
    )
