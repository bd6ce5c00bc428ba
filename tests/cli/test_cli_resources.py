"""Resource commands, clock durations and help against a real sandbox over loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cli_support import run_cli

from lumenlater_sdk import LumenLater
from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.cli._signatures import COMMANDS, command_spec


def _customer(sb: SandboxHandle) -> str:
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url) as ll:
        return next(w for w in ll.test_helpers.wallets.list() if w.name == "approve").address


def test_nested_line_items_metadata_and_usdc_amounts(sandbox: SandboxHandle) -> None:
    made = run_cli(
        sandbox, "checkout_sessions", "create",
        "--success-url", "https://shop.example/ok", "-d", "cancel_url=https://shop.example/no",
        "-d", "line_items[0][name]=Mug", "-d", "line_items[0][quantity]=2",
        "-d", "line_items[0][unit_amount]=12.50",
        "-d", "line_items[1][name]=Tea", "-d", "line_items[1][quantity]=1",
        "-d", "line_items[1][unit_amount]=30000000",
        "-d", "metadata[order]=o-7", "-d", "metadata[n]=3", "--expires-in", "1h",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    session = json.loads(made.stdout)
    assert session["amount"] == 2 * 125_000_000 + 30_000_000
    assert [i["unit_amount"] for i in session["line_items"]] == [125_000_000, 30_000_000]
    assert session["metadata"] == {"order": "o-7", "n": "3"}
    bill = run_cli(sandbox, "bills", "create", "--customer", _customer(sandbox), "--amount", "12.5")
    assert bill.returncode == 0, bill.stderr
    assert json.loads(bill.stdout)["amount"] == 125_000_000
    exact = run_cli(
        sandbox, "bills", "create", "-d", f"customer={_customer(sandbox)}", "-d", "amount=125000001"
    )
    assert json.loads(exact.stdout)["amount"] == 125_000_001  # a whole number is stroops


def test_errors_in_the_apis_words(sandbox: SandboxHandle) -> None:
    unknown = run_cli(sandbox, "bills", "create", "-d", "colour=red")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown parameter 'colour' for bills create; known: ")
    assert "customer, amount, currency, order_id" in unknown.stderr
    missing = run_cli(sandbox, "bills", "create", "--amount", "5")
    assert "missing required parameter 'customer' for bills create" in missing.stderr
    too_fine = run_cli(sandbox, "bills", "create", "--customer", "G", "--amount", "1.000000001")
    assert too_fine.returncode == 2 and "more than 7 decimal places" in too_fine.stderr
    for r in (unknown, missing, too_fine):
        assert "Traceback" not in r.stderr and "keyword argument" not in r.stderr
    # The API's refusal: its message, then type, code, param and request id.
    refused = run_cli(sandbox, "bills", "create", "--customer", _customer(sandbox), "--amount",
                      "5", "--currency", "eur")  # fmt: skip
    assert refused.returncode == 1, refused.stdout
    lines = dict(
        line.strip().split(":", 1) for line in refused.stderr.splitlines()[1:] if ":" in line
    )
    assert refused.stderr.startswith("error: ")
    assert lines["status"].strip() == "400"
    assert lines["type"].strip() == "invalid_request_error"
    assert lines["param"].strip() == "currency"
    assert lines["code"].strip()
    assert lines["request id"].strip().startswith("req_")
    gone = run_cli(sandbox, "bills", "get", "bill_doesnotexist")
    assert gone.returncode == 1 and "resource_missing" in gone.stderr


def test_lists_are_one_json_document_or_a_table(sandbox: SandboxHandle) -> None:
    customer = _customer(sandbox)
    for n in range(3):
        assert run_cli(sandbox, "bills", "create", "--customer", customer, "--amount",
                       f"{n + 1}.25", "--order-id", "tbl").returncode == 0  # fmt: skip
    listed = json.loads(
        run_cli(sandbox, "bills", "list", "-d", "order_id=tbl", "--max", "2").stdout
    )
    assert listed["object"] == "list" and listed["has_more"] is True
    assert [b["amount"] for b in listed["data"]] == [32_500_000, 22_500_000]
    table = run_cli(sandbox, "bills", "list", "--order-id", "tbl", "--format", "table")
    rows = table.stdout.splitlines()
    assert rows[0].split()[0] == "ID" and "AMOUNT" in rows[0].split()
    assert len(rows) == 4 and all(r.startswith("bill_") for r in rows[1:])
    one = run_cli(sandbox, "account", "get", "--format", "table")
    assert one.returncode == 0 and one.stdout.splitlines()[0].split() == ["FIELD", "VALUE"]


def test_events_resend_says_where_it_went(sandbox: SandboxHandle) -> None:
    run_cli(sandbox, "trigger", "bill.created")
    events = json.loads(run_cli(sandbox, "events", "list", "--max", "1").stdout)["data"]
    resent = run_cli(sandbox, "events", "resend", events[0]["id"])
    assert resent.returncode == 0, resent.stderr
    assert json.loads(resent.stdout)["id"] == events[0]["id"]
    assert f"Queued {events[0]['id']} for delivery again" in resent.stderr
    bad = run_cli(sandbox, "events", "resend", events[0]["id"], "--endpoint", "we_nope")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_clock_advance_takes_human_durations(sandbox: SandboxHandle) -> None:
    before = json.loads(run_cli(sandbox, "clock").stdout)["now"]
    moved = run_cli(sandbox, "clock", "advance", "1d12h")
    assert moved.returncode == 0, moved.stderr
    # The ledger also moves with the wall clock between commands: under an hour here.
    after = json.loads(moved.stdout)["now"]
    assert 129_600 <= after - before < 129_600 + 3600
    again = run_cli(sandbox, "clock", "advance", "90")  # bare integers stay seconds
    assert 90 <= json.loads(again.stdout)["now"] - after < 3600
    bad = run_cli(sandbox, "clock", "advance", "3x")
    assert bad.returncode == 2 and "20d, 3h, 90m, 45s, 1d12h" in bad.stderr


def test_help_lists_every_parameter_with_its_type() -> None:
    for resource, (_, _, actions) in COMMANDS.items():
        for action in actions:
            cmd = command_spec(resource, action)
            shown = run_cli(None, resource, action, "--help")
            assert shown.returncode == 0, shown.stderr
            text = " ".join(shown.stdout.split())
            for p in cmd.params:
                need = "required" if p.required else "optional"
                assert f"--{p.name.replace('_', '-')}" in text, (resource, action, p.name)
                assert f"{p.kind}, {need}" in text, (resource, action, p.name)
    bills = " ".join(run_cli(None, "bills", "create", "--help").stdout.split())
    assert "--amount AMOUNT amount, required: The bill's total, in stroops" in bills
    assert "On the command line: USDC with a decimal point (12.50) or stroops as a whole" in bills
    assert "--customer STRING string, required" in bills
    assert "--order-id STRING, --order_id STRING string, optional" in bills


def test_sandbox_help_describes_every_option_and_its_default() -> None:
    from lumenlater_sdk.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert sub is not None
    for action in sub["sandbox"]._actions:
        if action.dest == "help":
            continue
        assert action.help and "default" in action.help, action.option_strings
    shown = " ".join(run_cli(None, "sandbox", "--help").stdout.split())
    assert "--port PORT TCP port of the API (default: 8787)" in shown


def test_no_api_key_says_how_to_give_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LUMENLATER_API_KEY"}
    for args in (["bills", "list"], ["clock"], ["trigger", "bill.paid"],
                 ["listen", "--forward-to", "http://127.0.0.1:9/"]):  # fmt: skip
        r = subprocess.run(
            [sys.executable, "-m", "lumenlater_sdk.cli", *args],
            env={**env, "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 1, args
        assert r.stderr.startswith("error: no API key: pass --api-key sk_test_… or set "), args
        assert "api_key=" not in r.stderr


def test_list_parameters_and_booleans(sandbox: SandboxHandle) -> None:
    events = ["-d", "enabled_events[]=bill.paid", "-d", "enabled_events[]=bill.repaid"]
    made = run_cli(sandbox, "webhook_endpoints", "create", "--url", "https://a.example/", *events)
    assert made.returncode == 0, made.stderr
    ep = json.loads(made.stdout)
    assert ep["enabled_events"] == ["bill.paid", "bill.repaid"]
    changed = run_cli(sandbox, "webhook_endpoints", "update", ep["id"], "--disabled", "true",
                      "--enabled-events", "bill.created,bill.paid")  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    got = json.loads(changed.stdout)
    assert (got["status"], got["enabled_events"]) == ("disabled", ["bill.created", "bill.paid"])
    gone = run_cli(sandbox, "webhook_endpoints", "delete", ep["id"])
    assert json.loads(gone.stdout)["deleted"] is True
