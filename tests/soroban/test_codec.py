"""The Soroban codec: SOROBAN.md's test vectors byte for byte, round trips of what the
real local engine produces, primitive bounds (hypothesis), and refusals word for word."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from codec_support import CORE_ID, ZERO
from hypothesis import given
from hypothesis import strategies as st
from stellar_sdk import Keypair, StrKey, scval, xdr

from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.chain import ContractError, ContractEvent, TxRecord
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.chain.soroban import (
    EVENTS,
    FUNCTIONS,
    data_key,
    decode_args,
    decode_contract_error,
    decode_data_key,
    decode_data_value,
    decode_event,
    decode_result,
    encode_args,
    encode_contract_error,
    encode_data_value,
    encode_event,
    encode_result,
    encode_trap,
    function_schema,
    instance_ledger_key,
    ledger_key,
)
from lumenlater_sdk.backend.chain.soroban._types import I128, STRING, U32, Map, Struct
from lumenlater_sdk.backend.chain.soroban._values import decode_value, encode_value
from lumenlater_sdk.backend.db import connect

SEALER = SecretBox(bytes(range(32)))
T0 = 1_800_000_000
DAY = 86_400
USDC = 10_000_000  # 1 USDC in units (7 decimals)
LP_ID = "CAVNVTR65IGZTF4WBR24BYGK7CLRR26TXNXLNOBZXYPYRN4TV5FLMAQ4"

# --- SOROBAN.md §5 -----------------------------------------------------------------------
BILL_B64 = (
    "AAAAEQAAAAEAAAAIAAAADwAAAApjcmVhdGVkX2F0AAAAAAAFAAAAAGVT8QAAAAAPAAAAAmlkAAAAAAAFAAAAAAAAAAEAAAAP"
    "AAAACG1lcmNoYW50AAAAEgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPAAAACG9yZGVyX2lk"
    "AAAADgAAAAVPUkQtMQAAAAAAAA8AAAAHcGFpZF9hdAAAAAAFAAAAAAAAAAAAAAAPAAAACXByaW5jaXBhbAAAAAAAAAoAAAAA"
    "AAAAAAAAAAA7msoAAAAADwAAAAZzdGF0dXMAAAAAABAAAAABAAAAAQAAAA8AAAAHQ3JlYXRlZAAAAAAPAAAABHVzZXIAAAAS"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
)
BORROWING_POWER_B64 = (
    "AAAAEQAAAAEAAAAHAAAADwAAABNhdmFpbGFibGVfYm9ycm93aW5nAAAAAAoAAAAAAAAAAAAAAAHc1lAAAAAADwAAABBjdXJy"
    "ZW50X2JvcnJvd2VkAAAACgAAAAAAAAAAAAAAADuaygAAAAAPAAAADGN1cnJlbnRfZGVidAAAAAoAAAAAAAAAAAAAAAA7msoA"
    "AAAADwAAAApscF9iYWxhbmNlAAAAAAAKAAAAAAAAAAAAAAACVAvkAAAAAA8AAAANbWF4X2JvcnJvd2luZwAAAAAAAAoAAAAA"
    "AAAAAAAAAAIYcRoAAAAADwAAABVvdmVyYWxsX2hlYWx0aF9mYWN0b3IAAAAAAAAKAAAAAAAAAAAAAAAAAAAACQAAAA8AAAAT"
    "cmVxdWlyZWRfY29sbGF0ZXJhbAAAAAAKAAAAAAAAAAAAAAAAQilBgA=="
)
PAID_B64 = "AAAAEAAAAAEAAAABAAAADwAAAARQYWlk"
U64_1_B64 = "AAAABQAAAAAAAAAB"
BILL_NEW_B64 = "AAAADwAAAAhiaWxsX25ldw=="
PAYMENT_B64 = "AAAADwAAAAdwYXltZW50AA=="
BILL_KEY_B64 = "AAAAEAAAAAEAAAACAAAADwAAAARCaWxsAAAABQAAAAAAAAAB"
BILL_COUNTER_B64 = "AAAAEAAAAAEAAAABAAAADwAAAAtCaWxsQ291bnRlcgA="
VOID_B64 = "AAAAAQ=="
INSTANCE_B64 = "AAAAFA=="

EXAMPLE_BILL = {
    "id": 1,
    "merchant": ZERO,
    "user": ZERO,
    "principal": 1_000_000_000,
    "status": "Created",
    "order_id": "ORD-1",
    "created_at": 1_700_000_000,
    "paid_at": 0,
}
EXAMPLE_POWER = {
    "available_borrowing": 8_000_000_000,
    "current_borrowed": 1_000_000_000,
    "current_debt": 1_000_000_000,
    "lp_balance": 10_000_000_000,
    "max_borrowing": 9_000_000_000,
    "overall_health_factor": 9,
    "required_collateral": 1_110_000_000,
}
CONSTANTS = {
    "COLLATERAL_RATIO": 11_100_000,
    "FEE_TO_INSURANCE_RATIO": 1_000_000,
    "FEE_TO_LP_RATIO": 7_000_000,
    "FEE_TO_TREASURY_RATIO": 2_000_000,
    "GRACE_PERIOD_DAYS": 14,
    "LATE_INTEREST_APR": 3_000_000,
    "MAX_LTV": 9_000_000,
    "MERCHANT_FEE_RATE": 150_000,
}


def b64(val: xdr.SCVal) -> str:
    return str(val.to_xdr())


def wire(val: xdr.SCVal) -> xdr.SCVal:
    """Through XDR bytes and back, as a value crossing the network would."""
    return xdr.SCVal.from_xdr(val.to_xdr())


def struct_entries(val: xdr.SCVal) -> dict[str, xdr.SCVal]:
    assert val.map is not None
    return {scval.from_symbol(e.key): e.val for e in val.map.sc_map}


def test_bill_worked_example_byte_for_byte() -> None:
    assert b64(encode_result("bnpl_core", "get_bill", EXAMPLE_BILL)) == BILL_B64
    assert b64(encode_data_value("bnpl_core", "Bill", EXAMPLE_BILL)) == BILL_B64
    assert decode_result("bnpl_core", "get_bill", xdr.SCVal.from_xdr(BILL_B64)) == EXAMPLE_BILL


def test_borrowing_power_worked_example_byte_for_byte() -> None:
    encoded = encode_result("bnpl_core", "get_user_borrowing_power", EXAMPLE_POWER)
    assert b64(encoded) == BORROWING_POWER_B64
    decoded = decode_result(
        "bnpl_core", "get_user_borrowing_power", xdr.SCVal.from_xdr(BORROWING_POWER_B64)
    )
    assert decoded == EXAMPLE_POWER


def test_short_vectors() -> None:
    paid = encode_result("bnpl_core", "get_bill", {**EXAMPLE_BILL, "status": "Paid"})
    assert b64(struct_entries(paid)["status"]) == PAID_B64
    assert b64(encode_args("bnpl_core", "get_bill", [1])[0]) == U64_1_B64
    assert decode_args("bnpl_core", "get_bill", [xdr.SCVal.from_xdr(U64_1_B64)]) == [1]
    bill_new, _ = encode_event("bnpl_core", ("bill_new", ZERO, 1), _bill_created())
    assert [b64(t) for t in bill_new] == [BILL_NEW_B64, b64(scval.to_address(ZERO)), U64_1_B64]
    payment, _ = encode_event("bnpl_core", ("payment", ZERO, 1), _payment())
    assert b64(payment[0]) == PAYMENT_B64
    assert b64(data_key("bnpl_core", "Bill", 1)) == BILL_KEY_B64
    assert b64(data_key("bnpl_core", "BillCounter")) == BILL_COUNTER_B64
    assert decode_data_key("bnpl_core", xdr.SCVal.from_xdr(BILL_KEY_B64)) == ("Bill", (1,))
    assert decode_data_key("bnpl_core", xdr.SCVal.from_xdr(BILL_COUNTER_B64)) == (
        "BillCounter",
        (),
    )
    for fn in ("pay_bill_bnpl", "repay_bill", "liquidate_bill", "enroll_merchant"):
        assert b64(encode_result("bnpl_core", fn, None)) == VOID_B64
        assert decode_result("bnpl_core", fn, xdr.SCVal.from_xdr(VOID_B64)) is None


def test_create_bill_call_as_the_worked_example() -> None:
    args = encode_args("bnpl_core", "create_bill", [ZERO, ZERO, 1_000_000_000, "ORD-1"])
    assert args == [
        scval.to_address(ZERO),
        scval.to_address(ZERO),
        scval.to_int128(1_000_000_000),
        scval.to_string("ORD-1"),
    ]
    assert encode_result("bnpl_core", "create_bill", 7) == scval.to_uint64(7)


def test_protocol_constants_map_in_soroban_order() -> None:
    encoded = encode_result("bnpl_core", "get_protocol_constants", CONSTANTS)
    assert encoded.map is not None
    keys = [scval.from_string(e.key).decode() for e in encoded.map.sc_map]
    assert keys == list(CONSTANTS)  # SOROBAN.md §4 lists them in map order
    assert all(e.key.type == xdr.SCValType.SCV_STRING for e in encoded.map.sc_map)
    assert decode_result("bnpl_core", "get_protocol_constants", encoded) == CONSTANTS


def test_storage_keys_and_ledger_keys() -> None:
    instance = instance_ledger_key(CORE_ID).contract_data
    assert instance is not None and b64(instance.key) == INSTANCE_B64
    bill = ledger_key(CORE_ID, "bnpl_core", "Bill", 1)
    assert bill.type == xdr.LedgerEntryType.CONTRACT_DATA
    assert bill.contract_data is not None
    assert b64(bill.contract_data.key) == BILL_KEY_B64
    assert bill.contract_data.durability == xdr.ContractDataDurability.PERSISTENT
    assert (
        scval.from_address(
            xdr.SCVal(xdr.SCValType.SCV_ADDRESS, address=bill.contract_data.contract)
        ).address
        == CORE_ID
    )
    # Instance values live in the instance entry.
    assert ledger_key(CORE_ID, "bnpl_core", "Config") == instance_ledger_key(CORE_ID)
    assert ledger_key(LP_ID, "lp_token", "balances") == instance_ledger_key(LP_ID)
    assert data_key("lp_token", "balances") == scval.to_symbol("balances")
    assert decode_data_key("lp_token", scval.to_symbol("index")) == ("index", ())
    allowance = data_key("usdc", "Allowance", ZERO, CORE_ID)
    assert allowance == scval.to_vec(
        [scval.to_symbol("Allowance"), scval.to_address(ZERO), scval.to_address(CORE_ID)]
    )
    assert decode_data_key("usdc", allowance) == ("Allowance", (ZERO, CORE_ID))
    user_bills = data_key("bnpl_core", "UserBills", ZERO)
    assert decode_data_key("bnpl_core", user_bills) == ("UserBills", (ZERO,))
    assert decode_data_value("bnpl_core", "UserBills", scval.to_vec([scval.to_uint64(3)])) == [3]


def test_map_keys_sorted_in_soroban_value_order() -> None:
    accounts = sorted(
        (Keypair.random().public_key for _ in range(5)),
        key=StrKey.decode_ed25519_public_key,
    )
    balances = {CORE_ID: 1, **{a: i for i, a in enumerate(reversed(accounts))}}
    encoded = encode_data_value("lp_token", "balances", balances)
    assert encoded.map is not None
    order = [scval.from_address(e.key).address for e in encoded.map.sc_map]
    assert order == [*accounts, CORE_ID]  # accounts (type 0) before contracts, then raw key
    assert decode_data_value("lp_token", "balances", wire(encoded)) == balances
    # The same order as stellar-sdk's own implementation of the host's ScVal order.
    assert encoded == scval.to_map(
        {scval.to_address(a): scval.to_uint128(n) for a, n in balances.items()}
    )
    allowances = {(CORE_ID, ZERO): 2, (ZERO, CORE_ID): 1}
    encoded = encode_data_value("lp_token", "allowance", allowances)
    assert decode_data_value("lp_token", "allowance", wire(encoded)) == allowances


def test_contract_errors() -> None:
    assert encode_contract_error("MerchantAlreadyEnrolled") == encode_contract_error(110)
    assert decode_contract_error(wire(encode_contract_error(111))) == (111, "MerchantNotFound")
    trap = encode_trap()
    assert trap.error is not None and trap.error.type == xdr.SCErrorType.SCE_WASM_VM
    with pytest.raises(ValueError, match=r"^contract error: 3 is not a variant"):
        encode_contract_error(3)
    with pytest.raises(ValueError, match="expected SCE_CONTRACT, got SCE_WASM_VM"):
        decode_contract_error(trap)


def _bill_created() -> dict[str, Any]:
    return {
        "bill_id": 1,
        "merchant": ZERO,
        "user": ZERO,
        "amount": 5,
        "order_id": "o",
        "created_at": 1,
    }


def _payment() -> dict[str, Any]:
    return {"bill_id": 1, "user": ZERO, "merchant": ZERO, "total_paid": 5}


# --- the real local engine ----------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


@dataclass
class Story:
    """A ledger driven through every state the engine has, with everything it produced."""

    gw: LocalGateway
    g: Any  # the gateway's Genesis
    invokes: list[tuple[str, str, list[Any], TxRecord]] = field(default_factory=list)
    reads: list[tuple[str, str, list[Any], Any]] = field(default_factory=list)

    def invoke(self, contract: str, function: str, args: list[Any], signer: Keypair) -> TxRecord:
        record = self.gw.invoke(contract, function, args, signer=signer)
        self.invokes.append((contract, function, args, record))
        return record

    def read(self, contract: str, function: str, args: list[Any]) -> Any:
        result = self.gw.read(contract, function, args)
        self.reads.append((contract, function, args, result))
        return result

    def read_everything(self, users: Sequence[str], merchants: Sequence[str]) -> None:
        gw = self.gw
        core, lp, usdc = (gw.contract_id(c) for c in ("bnpl_core", "lp_token", "usdc"))
        for fn in ("get_config", "get_protocol_constants"):
            self.read("bnpl_core", fn, [])
        for fn in (
            "total_supply",
            "total_borrowed",
            "total_underlying",
            "exchange_rate",
            "utilization_ratio",
            "underlying_asset",
            "get_bnpl_core",
            "total_raw_shares",
            "metadata",
            "decimals",
            "name",
            "symbol",
        ):
            self.read("lp_token", fn, [])
        for fn in ("decimals", "name", "symbol", "total_supply", "get_mint_limit"):
            self.read("usdc", fn, [])
        for m in merchants:
            self.read("bnpl_core", "get_merchant", [m])
        counter = 1
        while True:
            try:
                self.read("bnpl_core", "get_bill", [counter])
            except ContractError:
                break
            counter += 1
        for user in [*users, self.g.admin.public_key]:
            self.read("bnpl_core", "is_admin", [user])
            for fn in (
                "get_user_bills",
                "get_user_total_debt",
                "get_user_required_collateral",
                "get_user_borrowing_power",
            ):
                self.read("bnpl_core", fn, [user])
            for fn in (
                "balance",
                "raw_shares",
                "available_balance",
                "get_locked_balance",
                "get_balance_info",
            ):
                self.read("lp_token", fn, [user])
            self.read("lp_token", "allowance", [user, core])
            self.read("usdc", "balance", [user])
            self.read("usdc", "get_daily_minted", [user])
            self.read("usdc", "allowance", [user, core])
        for holder in (core, lp, usdc):
            self.read("usdc", "balance", [holder])


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    path: Path = tmp_path_factory.mktemp("codec") / "chain.db"
    clock = FakeClock()
    with connect(f"sqlite:///{path}") as db:
        gw = LocalGateway(db, clock=clock, sealer=SEALER)
        g = gw.genesis()
        s = Story(gw, g)
        admin, lp_provider = g.admin, g.liquidity_provider
        user, limited = g.wallets["approve"], g.wallets["limited"]
        merchant, rejected = Keypair.random(), Keypair.random()
        m, u = merchant.public_key, user.public_key
        everyone = [u, limited.public_key, lp_provider.public_key, m]
        s.read_everything(everyone, [])

        s.invoke("bnpl_core", "enroll_merchant", [m, "mi_1"], merchant)
        s.invoke("bnpl_core", "update_merchant_status", [admin.public_key, m, "Approved"], admin)
        s.invoke("bnpl_core", "enroll_merchant", [rejected.public_key, "mi 2 ✓"], rejected)
        s.read_everything(everyone, [m, rejected.public_key])
        s.invoke(
            "bnpl_core",
            "update_merchant_status",
            [admin.public_key, rejected.public_key, "Rejected"],
            admin,
        )
        for n in (1, 2, 3):
            s.invoke("bnpl_core", "create_bill", [m, u, n * 100 * USDC, f"ORD-{n}"], merchant)
        s.invoke("bnpl_core", "pay_bill_bnpl", [1], user)
        s.invoke("bnpl_core", "pay_bill_bnpl", [2], user)
        s.read_everything(everyone, [m, rejected.public_key])

        clock.now += 20 * DAY  # past the grace period: late fees accrue
        s.read_everything(everyone, [m])
        s.invoke("usdc", "approve", [u, gw.contract_id("bnpl_core"), 10_000 * USDC, 0], user)
        s.invoke("bnpl_core", "repay_bill", [2], user)
        clock.now += 9 * DAY  # bill 1 is 29 days old: liquidable
        s.invoke("bnpl_core", "liquidate_bill", [1, lp_provider.public_key], lp_provider)
        s.read_everything(everyone, [m])

        s.invoke("lp_token", "deposit", [u, 50 * USDC], user)
        s.invoke("lp_token", "withdraw", [u, 20 * USDC], user)
        s.invoke("lp_token", "transfer", [u, m, 3 * USDC], user)
        s.invoke("lp_token", "approve", [u, m, 5 * USDC, 2**32 - 1], user)
        s.invoke("lp_token", "transfer_from", [m, u, m, USDC], merchant)
        s.invoke("lp_token", "burn_from", [m, u, USDC], merchant)
        s.invoke("lp_token", "burn", [u, USDC], user)
        s.invoke("lp_token", "mint", [u, 5 * USDC], admin)
        s.invoke("lp_token", "update_index", [], admin)
        s.invoke("lp_token", "set_bnpl_core", [gw.contract_id("bnpl_core")], admin)
        s.invoke("usdc", "mint", [m, 7 * USDC], merchant)
        s.invoke("usdc", "burn", [m, USDC], merchant)
        s.invoke("usdc", "approve", [m, u, 2 * USDC, 0], merchant)
        s.invoke("usdc", "burn_from", [u, m, USDC], user)
        s.invoke("usdc", "transfer", [u, m, 2 * USDC], user)
        s.invoke("usdc", "approve", [u, m, 5 * USDC, 500], user)
        s.invoke("usdc", "transfer_from", [m, u, m, 3 * USDC], merchant)
        s.read_everything(everyone, [m])
        yield s


# Functions the story cannot call on the engine: the engine lacks them, they only run as
# bnpl_core's sub-calls, or (initialize) the engine takes other arguments. Their values
# are built by hand in the engine's conventions.
def synthetic(s: Story) -> dict[tuple[str, str], tuple[list[Any], Any]]:
    core, usdc = (s.gw.contract_id(c) for c in ("bnpl_core", "usdc"))
    cfg = s.gw.read("bnpl_core", "get_config")
    u, a = s.g.wallets["approve"].public_key, s.g.admin.public_key
    metadata = {"decimal": 7, "name": "BNPL LP Token", "symbol": "BNPLP"}
    return {
        ("bnpl_core", "initialize"): (
            [cfg[k] for k in ("liquidity_pool", "usdc_token", "admin", "treasury")]
            + [cfg["insurance_fund"]],
            None,
        ),
        ("lp_token", "initialize"): ([a, usdc, metadata], None),
        ("lp_token", "borrow"): ([core, 100 * USDC], None),
        ("lp_token", "repay"): ([core, 100 * USDC], None),
        ("lp_token", "repay_with_burn"): ([u, 100 * USDC, 2 * USDC], None),
        ("usdc", "initialize"): ([a, "USD Coin", "USDC", 7, 10_000_000_000_000], None),
    }


ALL_FUNCTIONS = [(c, f) for c, fns in FUNCTIONS.items() for f in fns]


def round_trip_result(contract: str, function: str, args: list[Any], value: Any) -> Any:
    encoded = encode_result(contract, function, value)
    return decode_result(contract, function, wire(encoded))


def round_trip_args(contract: str, function: str, args: list[Any]) -> list[Any]:
    return decode_args(contract, function, [wire(v) for v in encode_args(contract, function, args)])


@pytest.mark.parametrize(("contract", "function"), ALL_FUNCTIONS)
def test_every_function_round_trips(story: Story, contract: str, function: str) -> None:
    calls = [(a, r.result) for c, f, a, r in story.invokes if (c, f) == (contract, function)]
    calls += [(a, r) for c, f, a, r in story.reads if (c, f) == (contract, function)]
    made_up = synthetic(story).get((contract, function))
    assert bool(calls) != bool(made_up), "each function comes from the engine or by hand"
    for args, result in calls or [made_up]:
        assert round_trip_args(contract, function, args) == list(args)
        assert round_trip_result(contract, function, args, result) == result


def test_the_story_reaches_every_status_and_shape(story: Story) -> None:
    bills = [r for c, f, _, r in story.reads if f == "get_bill"]
    assert {b["status"] for b in bills} == {"Created", "Paid", "Repaid", "Liquidated"}
    merchants = [r["status"] for c, f, _, r in story.reads if f == "get_merchant"]
    assert {"Pending", "Approved", "Rejected"} <= set(merchants)
    debts = [r for c, f, _, r in story.reads if f == "get_user_total_debt"]
    assert any(interest > 0 for interest, _ in debts)
    assert any(r for c, f, _, r in story.reads if f == "get_user_bills")
    assert {r for c, f, _, r in story.reads if f == "is_admin"} == {True, False}


def test_merchant_result_is_the_deployed_struct(story: Story) -> None:
    merchant = next(r for c, f, _, r in story.reads if f == "get_merchant")
    assert set(merchant) == {"merchant_info_id", "status"}  # the engine's value as deployed
    encoded = encode_result("bnpl_core", "get_merchant", merchant)
    assert set(struct_entries(encoded)) == {"merchant_info_id", "status"}
    assert decode_result("bnpl_core", "get_merchant", encoded) == merchant
    with refused(ValueError, "bnpl_core.get_merchant takes 1 arguments (merchant: Address), got 0"):
        decode_result("bnpl_core", "get_merchant", encoded, args=[])


def test_functions_the_deployed_contracts_lack_are_refused_by_name() -> None:
    with refused(ValueError, "usdc has no function 'admin'"):  # instance storage only
        decode_result("usdc", "admin", scval.to_address(ZERO))
    with refused(ValueError, "lp_token has no function 'shares'"):  # raw_shares, as deployed
        encode_args("lp_token", "shares", [ZERO])


def test_lp_shares_and_metadata_as_deployed(story: Story) -> None:
    raw = [r for c, f, _, r in story.reads if (c, f) == ("lp_token", "raw_shares")]
    assert all(isinstance(v, int) and v >= 0 for v in raw) and any(raw)
    encoded = encode_result("lp_token", "total_raw_shares", max(raw))
    assert encoded.type == xdr.SCValType.SCV_U128
    metadata = story.gw.read("lp_token", "metadata")
    assert metadata == {"decimal": 7, "name": "BNPL LP Token", "symbol": "BNPLP"}
    assert set(struct_entries(encode_result("lp_token", "metadata", metadata))) == {
        "decimal",
        "name",
        "symbol",
    }


def test_initialize_arguments_are_the_deployed_ones(story: Story) -> None:
    a = story.g.admin.public_key
    with refused(
        ValueError,
        "usdc.initialize takes 5 arguments (admin: Address, name: String, symbol: String,"
        " decimals: u32, mint_limit: i128), got 1",
    ):
        encode_args("usdc", "initialize", [a])


def all_events(story: Story) -> list[ContractEvent]:
    stored = story.gw.events_after(0, limit=100_000)
    relayed = [e for *_, r in story.invokes for e in r.events]
    by_cursor = {e.cursor: e for e in stored}
    assert all(by_cursor[e.cursor] == e for e in relayed)  # the record and the ledger agree
    return stored


def test_every_engine_event_round_trips(story: Story) -> None:
    seen: set[tuple[str, str]] = set()
    for ev in all_events(story):
        seen.add((ev.contract, ev.name))
        topics, data = encode_event(ev.contract, ev.topics, ev.data)
        assert topics[0] == scval.to_symbol(ev.name)
        decoded = decode_event(ev.contract, [wire(t) for t in topics], wire(data))
        assert decoded == (ev.topics, ev.data)
    deployed = {(c, n) for c, evs in EVENTS.items() for n in evs}
    # Everything the deployed contracts emit, the engine emitted here; and nothing else.
    assert deployed - seen == set()
    assert seen - deployed == set()


def test_event_topics_as_rpc_filters_see_them(story: Story) -> None:
    bill_new = next(e for e in all_events(story) if e.name == "bill_new")
    topics, data = encode_event("bnpl_core", bill_new.topics, bill_new.data)
    assert b64(topics[0]) == BILL_NEW_B64
    assert topics[2] == scval.to_uint64(bill_new.topics[2])
    assert struct_entries(data)["amount"] == scval.to_int128(bill_new.data["amount"])
    core = story.gw.contract_id("bnpl_core")
    approve = next(  # bnpl_core's approval of the pool inside repay_bill
        e
        for e in all_events(story)
        if (e.contract, e.name) == ("usdc", "approve") and e.topics[1] == core
    )
    _, data = encode_event("usdc", approve.topics, approve.data)
    assert data == scval.to_vec([scval.to_int128(approve.data[0]), scval.to_uint32(200)])
    deposit = next(e for e in all_events(story) if e.name == "deposit")
    _, data = encode_event("lp_token", deposit.topics, deposit.data)
    assert struct_entries(data)["shares_minted"].type == xdr.SCValType.SCV_U128


def test_usdc_burn_event_by_hand() -> None:
    topics, data = encode_event("usdc", ("burn", ZERO), 5)
    assert decode_event("usdc", topics, data) == (("burn", ZERO), 5)


def test_bill_storage_values_are_the_engine_bills(story: Story) -> None:
    for _, f, args, bill in story.reads:
        if f == "get_bill":
            stored = encode_data_value("bnpl_core", "Bill", bill)
            assert stored == encode_result("bnpl_core", "get_bill", bill)
            assert decode_data_value("bnpl_core", "Bill", wire(stored)) == bill
            key = ledger_key(story.gw.contract_id("bnpl_core"), "bnpl_core", "Bill", *args)
            assert key.contract_data is not None
            assert decode_data_key("bnpl_core", key.contract_data.key) == ("Bill", tuple(args))


# --- primitive bounds (hypothesis) ---------------------------------------------------------
# A function returning each integer type, so the property runs through the public API.
INT_RESULTS = {
    "u32": ("lp_token", "utilization_ratio", 0, 2**32 - 1),
    "u64": ("bnpl_core", "create_bill", 0, 2**64 - 1),
    "i128": ("bnpl_core", "get_user_required_collateral", -(2**127), 2**127 - 1),
    "u128": ("lp_token", "exchange_rate", 0, 2**128 - 1),
}
KINDS = sorted(INT_RESULTS)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_integers_in_range_round_trip(kind: str, data: st.DataObject) -> None:
    contract, function, low, high = INT_RESULTS[kind]
    value = data.draw(
        st.one_of(st.integers(low, high), st.sampled_from([low, high, 0, 1, high - 1]))
    )
    encoded = encode_result(contract, function, value)
    assert decode_result(contract, function, wire(encoded)) == value
    assert scval.to_native(encoded) == value


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_integers_out_of_range_are_refused(kind: str, data: st.DataObject) -> None:
    contract, function, low, high = INT_RESULTS[kind]
    value = data.draw(st.one_of(st.integers(min_value=high + 1), st.integers(max_value=low - 1)))
    with pytest.raises(ValueError) as e:
        encode_result(contract, function, value)
    where = f"{contract}.{function} result"
    if value < 0 and low == 0:
        assert str(e.value) == f"{where}: {kind} is unsigned, got the negative {value}"
    else:
        assert str(e.value).startswith(f"{where}: {value} is out of range for {kind} (")


@pytest.mark.parametrize("kind", KINDS)
@given(value=st.one_of(st.booleans(), st.floats(), st.text(max_size=3), st.none()))
def test_integers_refuse_other_python_types(kind: str, value: Any) -> None:
    contract, function, _, _ = INT_RESULTS[kind]
    with pytest.raises(TypeError) as e:
        encode_result(contract, function, value)
    assert str(e.value).startswith(f"{contract}.{function} result: {kind} must be an int, got ")


@pytest.mark.parametrize(("kind", "other"), [(k, o) for k in KINDS for o in KINDS if k != o])
def test_integers_refuse_another_integer_scval(kind: str, other: str) -> None:
    contract, function, _, _ = INT_RESULTS[kind]
    c2, f2, _, _ = INT_RESULTS[other]
    val = encode_result(c2, f2, 1)
    with pytest.raises(ValueError) as e:
        decode_result(contract, function, val)
    scv = {"u32": "SCV_U32", "u64": "SCV_U64", "i128": "SCV_I128", "u128": "SCV_U128"}
    assert str(e.value) == (
        f"{contract}.{function} result: expected {scv[kind]} ({kind}), got {scv[other]}"
    )


@given(text=st.text())
def test_strings_round_trip_as_scv_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(ValueError, match="not encodable as UTF-8"):
            encode_args("bnpl_core", "enroll_merchant", [ZERO, text])
        return
    (_, encoded) = encode_args("bnpl_core", "enroll_merchant", [ZERO, text])
    assert encoded.type == xdr.SCValType.SCV_STRING
    assert decode_args("bnpl_core", "enroll_merchant", [scval.to_address(ZERO), wire(encoded)]) == [
        ZERO,
        text,
    ]


@given(st.dictionaries(st.text(), st.integers(-(2**127), 2**127 - 1)))
def test_string_keyed_maps_sort_as_the_host(value: dict[str, int]) -> None:
    # No public function takes a free Map<String, i128> (get_protocol_constants has
    # fixed keys), so this drives the value codec itself.
    t = Map(STRING, I128)
    encoded = encode_value(t, value, "m")
    expected = scval.to_map({scval.to_string(k): scval.to_int128(v) for k, v in value.items()})
    assert encoded == expected
    assert decode_value(t, wire(encoded), "m") == value


def test_struct_fields_sort_by_bytes_underscore_first() -> None:
    t = Struct("T", (("ab", U32), ("a_b", U32), ("B", U32)))
    assert t.field_names == ("B", "a_b", "ab")
    encoded = encode_value(t, {"ab": 1, "a_b": 2, "B": 3}, "t")
    assert [scval.from_symbol(e.key) for e in encoded.map.sc_map] == ["B", "a_b", "ab"]  # type: ignore[union-attr]
    unsorted = scval.to_map({})
    unsorted.map = xdr.SCMap(list(reversed(encoded.map.sc_map)))  # type: ignore[union-attr]
    with refused(
        ValueError,
        "t: T map does not match the struct; keys must be sorted by field name (B, a_b, ab),"
        " got ab, a_b, B",
    ):
        decode_value(t, unsorted, "t")


# --- refusals, word for word ---------------------------------------------------------------
def refused(kind: type[Exception], message: str) -> Any:
    """Expect exactly this exception type and message."""
    return pytest.raises(kind, match="^" + re.escape(message) + "$")


ENCODE_REFUSALS: list[tuple[str, str, list[Any], type[Exception], str]] = [
    (
        "nope",
        "get_bill",
        [1],
        ValueError,
        "unknown contract 'nope' (expected one of bnpl_core, lp_token, usdc)",
    ),
    ("bnpl_core", "get_bills", [1], ValueError, "bnpl_core has no function 'get_bills'"),
    (
        "bnpl_core",
        "get_bill",
        [1, 2],
        ValueError,
        "bnpl_core.get_bill takes 1 arguments (bill_id: u64), got 2",
    ),
    (
        "bnpl_core",
        "get_bill",
        "1",
        TypeError,
        "bnpl_core.get_bill: arguments must be a list, got str '1'",
    ),
    (
        "bnpl_core",
        "create_bill",
        [ZERO, ZERO, True, "o"],
        TypeError,
        "bnpl_core.create_bill argument 3 (amount): i128 must be an int, got bool True",
    ),
    (
        "bnpl_core",
        "create_bill",
        [ZERO, ZERO, 1.0, "o"],
        TypeError,
        "bnpl_core.create_bill argument 3 (amount): i128 must be an int, got float 1.0",
    ),
    (
        "bnpl_core",
        "create_bill",
        [ZERO, ZERO, 2**127, "o"],
        ValueError,
        f"bnpl_core.create_bill argument 3 (amount): {2**127} is out of range for i128"
        " (-2**127 to 2**127 - 1)",
    ),
    (
        "bnpl_core",
        "get_bill",
        [-1],
        ValueError,
        "bnpl_core.get_bill argument 1 (bill_id): u64 is unsigned, got the negative -1",
    ),
    (
        "usdc",
        "approve",
        [ZERO, ZERO, 1, 2**32],
        ValueError,
        f"usdc.approve argument 4 (expiration_ledger): {2**32} is out of range for u32"
        " (0 to 2**32 - 1)",
    ),
    (
        "bnpl_core",
        "create_bill",
        [ZERO, ZERO, 1, b"o"],
        TypeError,
        "bnpl_core.create_bill argument 4 (order_id): String must be a str, got bytes b'o'",
    ),
    (
        "bnpl_core",
        "create_bill",
        [ZERO, "GABC", 1, "o"],
        ValueError,
        "bnpl_core.create_bill argument 2 (user): 'GABC' is not a G… account or C… contract"
        " address",
    ),
    (
        "bnpl_core",
        "is_admin",
        [1],
        TypeError,
        "bnpl_core.is_admin argument 1 (address): Address must be a str (G… or C…), got int 1",
    ),
    (
        "bnpl_core",
        "update_merchant_status",
        [ZERO, ZERO, "approved"],
        ValueError,
        "bnpl_core.update_merchant_status argument 3 (new_status): 'approved' is not a"
        " MerchantStatus variant (one of None, Pending, Approved, Rejected, Suspended, Cancelled)",
    ),
    (
        "bnpl_core",
        "update_merchant_status",
        [ZERO, ZERO, 2],
        TypeError,
        "bnpl_core.update_merchant_status argument 3 (new_status): MerchantStatus must be a"
        " variant name (str), got int 2",
    ),
    (
        "lp_token",
        "initialize",
        [ZERO, CORE_ID, {"decimal": 7, "name": "n"}],
        ValueError,
        "lp_token.initialize argument 3 (metadata): TokenMetadata fields do not match;"
        " missing symbol",
    ),
    (
        "lp_token",
        "initialize",
        [ZERO, CORE_ID, {"decimal": 7, "name": "n", "symbol": "s", "x": 1}],
        ValueError,
        "lp_token.initialize argument 3 (metadata): TokenMetadata fields do not match; unknown x",
    ),
    (
        "lp_token",
        "initialize",
        [ZERO, CORE_ID, {"decimal": -7, "name": "n", "symbol": "s"}],
        ValueError,
        "lp_token.initialize argument 3 (metadata).decimal: u32 is unsigned, got the negative -7",
    ),
]


@pytest.mark.parametrize(("contract", "function", "args", "kind", "message"), ENCODE_REFUSALS)
def test_encode_refusals(
    contract: str, function: str, args: Any, kind: type[Exception], message: str
) -> None:
    with refused(kind, message):
        encode_args(contract, function, args)


MUXED = StrKey.encode_med25519_public_key(bytes(32) + (7).to_bytes(8, "big"))


def test_muxed_addresses_are_refused_both_ways() -> None:
    with refused(
        ValueError,
        f"bnpl_core.is_admin argument 1 (address): {MUXED!r} is not a G… account or C…"
        " contract address",
    ):
        encode_args("bnpl_core", "is_admin", [MUXED])
    with refused(
        ValueError,
        "bnpl_core.is_admin argument 1 (address): expected a G… account or C… contract"
        " address, got SC_ADDRESS_TYPE_MUXED_ACCOUNT",
    ):
        decode_args("bnpl_core", "is_admin", [scval.to_address(MUXED)])


def test_lone_surrogates_are_refused() -> None:
    with refused(
        ValueError,
        "bnpl_core.create_bill argument 4 (order_id): String is not encodable as UTF-8"
        " (surrogates not allowed)",
    ):
        encode_args("bnpl_core", "create_bill", [ZERO, ZERO, 1, "\ud800"])


def bill_map(entries: list[tuple[str, xdr.SCVal]]) -> xdr.SCVal:
    return xdr.SCVal(
        xdr.SCValType.SCV_MAP,
        map=xdr.SCMap([xdr.SCMapEntry(scval.to_symbol(k), v) for k, v in entries]),
    )


def bill_entries() -> list[tuple[str, xdr.SCVal]]:
    encoded = xdr.SCVal.from_xdr(BILL_B64)
    assert encoded.map is not None
    return [(scval.from_symbol(e.key), e.val) for e in encoded.map.sc_map]


def _swapped() -> list[tuple[str, xdr.SCVal]]:
    entries = bill_entries()
    entries[0], entries[1] = entries[1], entries[0]
    return entries


R = "bnpl_core.get_bill result"
DECODE_REFUSALS: list[tuple[str, str, xdr.SCVal, str]] = [
    ("bnpl_core", "get_bill", scval.to_vec([]), f"{R}: expected SCV_MAP (Bill), got SCV_VEC"),
    (
        "bnpl_core",
        "get_bill",
        bill_map(bill_entries()[1:]),
        f"{R}: Bill map does not match the struct; missing created_at",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map([*bill_entries(), ("zeta", scval.to_uint64(1))]),
        f"{R}: Bill map does not match the struct; unknown zeta",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map(_swapped()),
        f"{R}: Bill map does not match the struct; keys must be sorted by field name (created_at,"
        " id, merchant, order_id, paid_at, principal, status, user), got id, created_at,"
        " merchant, order_id, paid_at, principal, status, user",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map([*bill_entries()[:-1], ("status", bill_entries()[-1][1])]),
        f"{R}: Bill map does not match the struct; missing user",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map([(k, scval.to_uint32(1) if k == "id" else v) for k, v in bill_entries()]),
        f"{R}.id: expected SCV_U64 (u64), got SCV_U32",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map([(k, scval.to_symbol("o") if k == "order_id" else v) for k, v in bill_entries()]),
        f"{R}.order_id: expected SCV_STRING (String), got SCV_SYMBOL",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map([(k, scval.to_symbol("Paid") if k == "status" else v) for k, v in bill_entries()]),
        f"{R}.status: expected SCV_VEC (BillStatus), got SCV_SYMBOL",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map(
            [
                (k, scval.to_vec([scval.to_symbol("Gone")]) if k == "status" else v)
                for k, v in bill_entries()
            ]
        ),
        f"{R}.status: 'Gone' is not a BillStatus variant (one of None, Created, Expired, Paid,"
        " Repaid, Overdue, Liquidated)",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map(
            [
                (k, scval.to_enum("Paid", scval.to_uint64(1)) if k == "status" else v)
                for k, v in bill_entries()
            ]
        ),
        f"{R}.status: a BillStatus variant is Vec[Symbol(name)], got a Vec of 2",
    ),
    (
        "bnpl_core",
        "get_bill",
        bill_map(
            [(k, scval.to_string(b"\xff") if k == "order_id" else v) for k, v in bill_entries()]
        ),
        f"{R}.order_id: String is not valid UTF-8 (invalid start byte)",
    ),
    (
        "bnpl_core",
        "get_protocol_constants",
        xdr.SCVal(
            xdr.SCValType.SCV_MAP,
            map=xdr.SCMap(
                [
                    xdr.SCMapEntry(scval.to_string("MAX_LTV"), scval.to_int128(1)),
                    xdr.SCMapEntry(scval.to_string("COLLATERAL_RATIO"), scval.to_int128(1)),
                ]
            ),
        ),
        "bnpl_core.get_protocol_constants result: Map<String, i128> keys are not in ascending"
        " Soroban value order",
    ),
    (
        "bnpl_core",
        "get_protocol_constants",
        xdr.SCVal(
            xdr.SCValType.SCV_MAP,
            map=xdr.SCMap([xdr.SCMapEntry(scval.to_string("MAX_LTV"), scval.to_int128(1))] * 2),
        ),
        "bnpl_core.get_protocol_constants result: Map<String, i128> repeats a key",
    ),
    (
        "bnpl_core",
        "get_protocol_constants",
        scval.to_map({scval.to_symbol("MAX_LTV"): scval.to_int128(1)}),
        "bnpl_core.get_protocol_constants result key 0: expected SCV_STRING (String),"
        " got SCV_SYMBOL",
    ),
    (
        "bnpl_core",
        "get_user_total_debt",
        scval.to_vec([scval.to_int128(1)]),
        "bnpl_core.get_user_total_debt result: (i128, i128) has 2 elements, got 1",
    ),
    (
        "bnpl_core",
        "is_admin",
        scval.to_uint32(1),
        "bnpl_core.is_admin result: expected SCV_BOOL (bool), got SCV_U32",
    ),
    (
        "bnpl_core",
        "pay_bill_bnpl",
        scval.to_bool(False),
        "bnpl_core.pay_bill_bnpl result: expected SCV_VOID (()), got SCV_BOOL",
    ),
    (
        "lp_token",
        "get_bnpl_core",
        scval.to_string(CORE_ID),
        "lp_token.get_bnpl_core result: expected SCV_ADDRESS (Address), got SCV_STRING",
    ),
]


@pytest.mark.parametrize(("contract", "function", "val", "message"), DECODE_REFUSALS)
def test_decode_refusals(contract: str, function: str, val: xdr.SCVal, message: str) -> None:
    with refused(ValueError, message):
        decode_result(contract, function, val)


def test_decode_argument_refusals() -> None:
    with refused(
        ValueError, "bnpl_core.get_bill argument 1 (bill_id): expected SCV_U64 (u64), got SCV_U32"
    ):
        decode_args("bnpl_core", "get_bill", [scval.to_uint32(1)])
    with refused(
        ValueError,
        "bnpl_core.enroll_merchant argument 2 (merchant_info_id): expected SCV_STRING (String),"
        " got SCV_SYMBOL",
    ):
        decode_args("bnpl_core", "enroll_merchant", [scval.to_address(ZERO), scval.to_symbol("m")])
    with refused(
        TypeError,
        "bnpl_core.get_bill argument 1 (bill_id): expected a stellar_sdk.xdr.SCVal, got int 1",
    ):
        decode_args("bnpl_core", "get_bill", [1])
    with refused(ValueError, "bnpl_core.get_bill takes 1 arguments (bill_id: u64), got 0"):
        decode_args("bnpl_core", "get_bill", [])


def test_option_and_struct_refusals() -> None:
    assert decode_result("lp_token", "get_bnpl_core", scval.to_void()) is None
    assert encode_result("lp_token", "get_bnpl_core", None) == scval.to_void()
    with refused(
        ValueError,
        "bnpl_core.get_user_borrowing_power result: BorrowingPower fields do not match;"
        " missing lp_balance",
    ):
        encode_result(
            "bnpl_core",
            "get_user_borrowing_power",
            {k: v for k, v in EXAMPLE_POWER.items() if k != "lp_balance"},
        )
    with refused(
        TypeError,
        "bnpl_core.get_config result: Config must be a dict of its fields, got list []",
    ):
        encode_result("bnpl_core", "get_config", [])
    with refused(
        TypeError,
        "bnpl_core.get_user_bills result: Vec<u64> must be a list or tuple, got str '1'",
    ):
        encode_result("bnpl_core", "get_user_bills", "1")


def test_event_refusals() -> None:
    with refused(ValueError, "bnpl_core has no event 'bill_gone'"):
        encode_event("bnpl_core", ("bill_gone", ZERO), {})
    with refused(ValueError, "lp_token has no event 'transfer'"):  # none, as deployed
        encode_event("lp_token", ("transfer", ZERO, ZERO), 5)
    with refused(
        ValueError,
        "bnpl_core event bill_new has 3 topics (name, merchant: Address, bill_id: u64), got 2",
    ):
        encode_event("bnpl_core", ("bill_new", ZERO), _bill_created())
    with refused(
        TypeError, "bnpl_core event: topics must be a non-empty tuple or list, got tuple ()"
    ):
        encode_event("bnpl_core", (), {})
    with refused(
        ValueError,
        "bnpl_core event bill_new topic 2 (bill_id): expected SCV_U64 (u64), got SCV_U32",
    ):
        decode_event(
            "bnpl_core",
            [scval.to_symbol("bill_new"), scval.to_address(ZERO), scval.to_uint32(1)],
            encode_event("bnpl_core", ("bill_new", ZERO, 1), _bill_created())[1],
        )
    with refused(
        ValueError, "usdc event topic 0 (name): expected SCV_SYMBOL (Symbol), got SCV_STRING"
    ):
        decode_event("usdc", [scval.to_string("mint")], scval.to_int128(1))
    with refused(
        ValueError,
        "usdc event approve data: expected SCV_VEC ((i128, u32)), got SCV_I128",
    ):
        decode_event(
            "usdc",
            [scval.to_symbol("approve"), scval.to_address(ZERO), scval.to_address(ZERO)],
            scval.to_int128(1),
        )


def test_storage_key_refusals() -> None:
    with refused(ValueError, "bnpl_core storage key Bill takes 1 values, got 0"):
        data_key("bnpl_core", "Bill")
    with refused(
        ValueError,
        "bnpl_core has no storage key 'Bills' (one of Config, BillCounter, Bill, UserBills,"
        " MerchantData)",
    ):
        data_key("bnpl_core", "Bills", 1)
    with refused(
        ValueError,
        "bnpl_core storage key Bill value 1 (bill_id): u64 is unsigned, got the negative -1",
    ):
        data_key("bnpl_core", "Bill", -1)
    with refused(
        ValueError, "lp_token storage key: index is a bare Symbol key, not a DataKey variant"
    ):
        decode_data_key("lp_token", scval.to_vec([scval.to_symbol("index")]))
    with refused(
        ValueError, "bnpl_core storage key: Config is a DataKey variant, Vec[Symbol('Config'), …]"
    ):
        decode_data_key("bnpl_core", scval.to_symbol("Config"))
    with refused(ValueError, "bnpl_core storage key: Bill carries 1 values, got 0"):
        decode_data_key("bnpl_core", scval.to_vec([scval.to_symbol("Bill")]))
    with refused(ValueError, "'GABC' is not a C… contract id"):
        instance_ledger_key("GABC")


def test_function_schema_lists_every_documented_function() -> None:
    assert {c: len(fns) for c, fns in FUNCTIONS.items()} == {
        "bnpl_core": 16,
        "lp_token": 32,
        "usdc": 15,
    }
    create = function_schema("bnpl_core", "create_bill")
    assert [p.name for p in create.params] == ["merchant", "user", "amount", "order_id"]
    assert not create.view and function_schema("bnpl_core", "get_bill").view
    assert {c: sorted(evs) for c, evs in EVENTS.items()} == {
        "bnpl_core": sorted(
            ["init", "m_enroll", "m_status", "bill_new", "payment", "repayment", "liquidate"]
        ),
        "lp_token": sorted(["deposit", "withdraw", "borrow", "repay", "liq_burn"]),
        "usdc": sorted(["transfer", "mint", "approve", "burn"]),
    }


def test_base64_helper_matches_stellar_sdk() -> None:
    # The vectors are compared as strings: make sure to_xdr is the standard base64 of the bytes.
    val = scval.to_uint64(1)
    assert b64(val) == base64.b64encode(val.to_xdr_bytes()).decode()
