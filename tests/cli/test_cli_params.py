"""The command line's words, without a server: nested -d keys, durations, amounts,
--override, and the parameters read from the SDK's signatures."""

from __future__ import annotations

import re

import pytest

from lumenlater_sdk import usdc
from lumenlater_sdk.cli._format import render_list, render_object
from lumenlater_sdk.cli._params import ParamError, parse_amount, parse_data, parse_duration
from lumenlater_sdk.cli._signatures import COMMANDS, command_spec
from lumenlater_sdk.cli._trigger import parse_overrides


def test_nested_data_builds_dicts_and_lists() -> None:
    got = parse_data(
        [
            "line_items[0][name]=Mug",
            "line_items[0][unit_amount]=12.50",
            "line_items[1][name]=Tea=green",
            "metadata[order]=o-1",
            "metadata[note]=",
            "enabled_events[]=bill.paid",
            "enabled_events[]=bill.created",
            "order_id=cli-1",
        ]
    )
    assert got == {
        "line_items": [{"name": "Mug", "unit_amount": "12.50"}, {"name": "Tea=green"}],
        "metadata": {"order": "o-1", "note": ""},
        "enabled_events": ["bill.paid", "bill.created"],
        "order_id": "cli-1",
    }


@pytest.mark.parametrize(
    ("pairs", "says"),
    [
        (["amount"], "expected NAME=VALUE"),
        (["=5"], "malformed parameter name ''"),
        (["1x=5"], "malformed parameter name '1x'"),
        (["a[b=1"], "malformed parameter name 'a[b'"),
        (["a]=1"], "malformed parameter name 'a]'"),
        (["amount=1", "amount=2"], "amount is given twice"),
        (["metadata[k]=1", "metadata[k]=2"], "metadata[k] is given twice"),
        (["metadata=x", "metadata[k]=v"], "metadata is given both as a value"),
        (["items[0]=a", "items[x]=b"], "items is a list in another -d"),
        (["m[k]=a", "m[0]=b"], "m is a map in another -d"),
        (["m[k]=a", "m[]=b"], "m is a map in another -d"),
        (["items[1][name]=a"], "items[0] is missing"),
        (["items[0]=a", "items[2]=b"], "items[1] is missing"),
    ],
)
def test_malformed_keys_are_refused_in_the_users_words(pairs: list[str], says: str) -> None:
    with pytest.raises(ParamError, match=re.escape(says)):
        parse_data(pairs)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20d", 20 * 86400),
        ("3h", 3 * 3600),
        ("90m", 5400),
        ("45s", 45),
        ("1d12h", 129_600),
        ("1w", 604_800),
        ("1d 2h 3m 4s", 93_784),
        ("86400", 86400),  # a bare integer is seconds, as before
        ("3H", 10_800),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "1.5h", "3x", "-5", "1h1h", "h3", "1d12"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ParamError, match=r"duration|twice"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "stroops"),
    [
        ("12.50", 125_000_000),
        ("12.5", 125_000_000),
        ("12usdc", 120_000_000),
        ("12.50 USDC", 125_000_000),
        ("0.0000001", 1),
        (".5", 5_000_000),
        ("1,000.25", 10_002_500_000),
        ("125000000", 125_000_000),  # a whole number is stroops, the API's unit
        ("125000000stroops", 125_000_000),
        ("1stroop", 1),
        ("99999999999.9999999", usdc("99999999999.9999999")),
    ],
)
def test_amounts_are_exact(text: str, stroops: int) -> None:
    assert parse_amount(text) == stroops
    assert type(parse_amount(text)) is int


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("12.00000001", "more than 7 decimal places"),
        ("12.5stroops", "stroops are whole numbers"),
        ("-1", "is not an amount"),
        ("1e3", "is not an amount"),
        ("twelve", "is not an amount"),
        ("nan", "is not an amount"),
    ],
)
def test_bad_amounts(text: str, says: str) -> None:
    with pytest.raises(ParamError, match=says):
        parse_amount(text, "amount")


def test_overrides_parse_nested_fields_and_amounts() -> None:
    got = parse_overrides(
        ["bill:amount=5000000", "bill:metadata[k]=v", "checkout_session:amount=2.50"]
    )
    assert got == {
        "bill": {"amount": 5_000_000, "metadata": {"k": "v"}},
        "checkout_session": {"amount": 25_000_000},
    }
    for bad in ("amount=5", "bill:amount", ":amount=5"):
        with pytest.raises(ParamError, match="OBJECT:FIELD=VALUE"):
            parse_overrides([bad])
    with pytest.raises(ParamError, match="more than 7"):
        parse_overrides(["bill:amount=0.000000001"])


def test_parameters_come_from_the_sdk_signature() -> None:
    create = command_spec("bills", "create")
    kinds = {p.name: (p.kind, p.required) for p in create.params}
    assert kinds["customer"] == ("string", True)
    assert kinds["amount"] == ("amount", True)
    assert kinds["order_id"] == ("string", False)
    assert kinds["metadata"] == ("map", False)
    assert create.positional is None and not create.is_list
    assert command_spec("bills", "get").positional == "id"
    assert command_spec("bills", "list").is_list
    sessions = {p.name: p.kind for p in command_spec("checkout_sessions", "create").params}
    assert sessions["line_items"] == "list of line items"
    assert sessions["expires_in"] == "duration"
    assert sessions["embed_origins"] == "list of strings"
    for resource, (_, _, actions) in COMMANDS.items():  # every command is describable
        for action in actions:
            assert command_spec(resource, action).summary


def test_convert_types_values_and_refuses_unknown_or_missing() -> None:
    create = command_spec("checkout_sessions", "create")
    given = parse_data(
        [
            "success_url=https://a.example/s",
            "cancel_url=https://a.example/c",
            "line_items[0][name]=Mug",
            "line_items[0][quantity]=2",
            "line_items[0][unit_amount]=12.50",
            "metadata[k]=7",
            "expires_in=1h",
            "embed_origins=https://a.example,https://b.example",
        ]
    )
    params = create.convert(given)
    assert params["line_items"] == [{"name": "Mug", "quantity": 2, "unit_amount": 125_000_000}]
    assert params["metadata"] == {"k": "7"}  # metadata stays text
    assert params["expires_in"] == 3600
    assert params["embed_origins"] == ["https://a.example", "https://b.example"]
    with pytest.raises(ParamError, match=r"unknown parameter 'colour' for bills create; known: "):
        command_spec("bills", "create").convert({"colour": "red"})
    with pytest.raises(ParamError, match="missing required parameter 'customer' for bills create"):
        command_spec("bills", "create").convert({"amount": "1"})
    with pytest.raises(ParamError, match=r"unknown field 'amount' in line_items\[0\]"):
        create.convert({**given, "line_items": [{"name": "Mug", "amount": "1"}]})
    with pytest.raises(ParamError, match=r"line_items\[0\]\[quantity\] is required"):
        create.convert({**given, "line_items": [{"name": "Mug", "unit_amount": "1"}]})
    with pytest.raises(ParamError, match="amount takes one value, not a map"):
        command_spec("bills", "create").convert({"customer": "G", "amount": {"x": "1"}})
    with pytest.raises(ParamError, match="limit must be a whole number"):
        command_spec("bills", "list").convert({"limit": "ten"})
    with pytest.raises(ParamError, match="disabled must be true or false"):
        command_spec("webhook_endpoints", "update").convert({"disabled": "maybe"})
    assert command_spec("webhook_endpoints", "update").convert({"disabled": "true"}) == {
        "disabled": True
    }
    # A JSON object or list written whole still works (-d metadata='{"k": "v"}').
    assert create.convert({**given, "metadata": '{"k": "v"}'})["metadata"] == {"k": "v"}


def test_formats() -> None:
    obj = {"id": "bill_1", "amount": 5, "metadata": {"k": "v"}, "object": "bill"}
    assert '"id": "bill_1"' in render_object(obj, "json")
    table = render_object(obj, "table").splitlines()
    assert table[0].split() == ["FIELD", "VALUE"]
    assert table[3].split() == ["metadata", '{"k":', '"v"}']
    rows = render_list(
        [obj, {**obj, "id": "bill_2"}, {**obj, "id": "bill_3", "metadata": None}], True, "table"
    ).splitlines()
    assert rows[0].split() == ["ID", "AMOUNT"]  # the id first
    assert rows[2].split() == ["bill_2", "5"]
    assert rows[3].split() == ["bill_3", "5"]  # a field nested in any item is left out
    assert "more exist" in rows[-1]
    assert render_list([], False, "table") == "(no objects)"
    assert '"has_more": true' in render_list([obj], True, "json")
