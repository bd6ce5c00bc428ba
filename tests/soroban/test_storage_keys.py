"""Every storage slot of SOROBAN.md §7: its key, its ledger key, its value, its refusals.

Each slot is checked against ScVals and ledger keys built by hand with
``stellar_sdk.xdr``: a ``DataKey`` variant is ``Vec[Symbol(variant), data…]``,
lp_token's keys are bare Symbols, instance slots live in the contract's instance
entry, persistent slots have an entry of their own (PERSISTENT, keyed by the
contract's address). Refusals are compared word for word.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from codec_support import CORE_ID, ZERO, X, refusal, sym
from stellar_sdk import StrKey, xdr

import lumenlater_sdk.backend.chain.soroban as soroban

LP_ID = "CAVNVTR65IGZTF4WBR24BYGK7CLRR26TXNXLNOBZXYPYRN4TV5FLMAQ4"
VOID = xdr.SCVal(X.SCV_VOID)


def reexecuted() -> ModuleType:
    """A new copy of the storage-key module, its slot table built anew.

    The table is built once, on import. Mutation testing forks its test runs from a
    process that has already imported the module, so a mutated table builder would
    never run; executing the module again here lets these tests see it. Callers use
    the same functions, so every test runs against both copies.
    """
    spec = importlib.util.find_spec("lumenlater_sdk.backend.chain.soroban._storage_keys")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["package", "reexecuted"])
def api(request: pytest.FixtureRequest) -> Any:
    return soroban if request.param == "package" else reexecuted()


def vec(*items: xdr.SCVal) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_VEC, vec=xdr.SCVec(list(items)))


def smap(*entries: tuple[str | xdr.SCVal, xdr.SCVal]) -> xdr.SCVal:
    pairs = [xdr.SCMapEntry(sym(k) if isinstance(k, str) else k, v) for k, v in entries]
    return xdr.SCVal(X.SCV_MAP, map=xdr.SCMap(pairs))


def u32(n: int) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_U32, u32=xdr.Uint32(n))


def u64(n: int) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_U64, u64=xdr.Uint64(n))


def i128(n: int) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_I128, i128=xdr.Int128Parts(xdr.Int64(n >> 64), xdr.Uint64(n % 2**64)))


def u128(n: int) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_U128, u128=xdr.UInt128Parts(xdr.Uint64(n >> 64), xdr.Uint64(n % 2**64)))


def string(text: str) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_STRING, str=xdr.SCString(text.encode()))


def contract_address(contract_id: str) -> xdr.SCAddress:
    raw = StrKey.decode_contract(contract_id)
    return xdr.SCAddress(
        xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT, contract_id=xdr.ContractID(xdr.Hash(raw))
    )


def account(public_key: str) -> xdr.SCVal:
    raw = StrKey.decode_ed25519_public_key(public_key)
    key = xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(raw))
    address = xdr.SCAddress(
        xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT, account_id=xdr.AccountID(key)
    )
    return xdr.SCVal(X.SCV_ADDRESS, address=address)


def contract(contract_id: str) -> xdr.SCVal:
    return xdr.SCVal(X.SCV_ADDRESS, address=contract_address(contract_id))


def contract_data_key(contract_id: str, key: xdr.SCVal) -> xdr.LedgerKey:
    return xdr.LedgerKey(
        xdr.LedgerEntryType.CONTRACT_DATA,
        contract_data=xdr.LedgerKeyContractData(
            contract_address(contract_id), key, xdr.ContractDataDurability.PERSISTENT
        ),
    )


def instance_key(contract_id: str) -> xdr.LedgerKey:
    return contract_data_key(contract_id, xdr.SCVal(X.SCV_LEDGER_KEY_CONTRACT_INSTANCE))


def b64(val: xdr.SCVal | xdr.LedgerKey) -> str:
    return str(val.to_xdr())


# --- the slots ----------------------------------------------------------------------------------
CONFIG = {a: ZERO for a in ("admin", "insurance_fund", "liquidity_pool", "treasury", "usdc_token")}
CONFIG_VAL = smap(*((name, account(ZERO)) for name in sorted(CONFIG)))
BILL = {
    "created_at": 1_700_000_000,
    "id": 1,
    "merchant": ZERO,
    "order_id": "ORD-1",
    "paid_at": 0,
    "principal": 1_000_000_000,
    "status": "Created",
    "user": ZERO,
}
BILL_VAL = smap(
    ("created_at", u64(1_700_000_000)),
    ("id", u64(1)),
    ("merchant", account(ZERO)),
    ("order_id", string("ORD-1")),
    ("paid_at", u64(0)),
    ("principal", i128(1_000_000_000)),
    ("status", vec(sym("Created"))),
    ("user", account(ZERO)),
)
MERCHANT = {"merchant_info_id": "m-1", "status": "Approved"}
MERCHANT_VAL = smap(("merchant_info_id", string("m-1")), ("status", vec(sym("Approved"))))
META = {"decimal": 7, "name": "USD Coin", "symbol": "USDC"}
META_VAL = smap(("decimal", u32(7)), ("name", string("USD Coin")), ("symbol", string("USDC")))
ADDR = ("SCV_ADDRESS", "Address", "Address must be a str (G… or C…), got float 1.5")
I128_ = ("SCV_I128", "i128", "i128 must be an int, got float 1.5")
U128_ = ("SCV_U128", "u128", "u128 must be an int, got float 1.5")


def struct(name: str) -> tuple[str, str, str]:
    return ("SCV_MAP", name, f"{name} must be a dict of its fields, got float 1.5")


# contract, name, params (name, type, example, its ScVal), instance?, bare Symbol?,
# value, its ScVal, (value ScVal type, value type, refusal of a float)
SLOTS: list[tuple[Any, ...]] = [
    ("bnpl_core", "Config", [], True, False, CONFIG, CONFIG_VAL, struct("Config")),
    (
        "bnpl_core",
        "BillCounter",
        [],
        False,
        False,
        2,
        u64(2),
        ("SCV_U64", "u64", "u64 must be an int, got float 1.5"),
    ),
    (
        "bnpl_core",
        "Bill",
        [("bill_id", "u64", 2**64 - 1, u64(2**64 - 1))],
        False,
        False,
        BILL,
        BILL_VAL,
        struct("Bill"),
    ),
    (
        "bnpl_core",
        "UserBills",
        [("user", "Address", ZERO, account(ZERO))],
        False,
        False,
        [1, 3],
        vec(u64(1), u64(3)),
        ("SCV_VEC", "Vec<u64>", "Vec<u64> must be a list or tuple, got float 1.5"),
    ),
    (
        "bnpl_core",
        "MerchantData",
        [("merchant", "Address", LP_ID, contract(LP_ID))],
        False,
        False,
        MERCHANT,
        MERCHANT_VAL,
        struct("MerchantData"),
    ),
    ("lp_token", "admin", [], True, True, ZERO, account(ZERO), ADDR),
    ("lp_token", "asset", [], True, True, CORE_ID, contract(CORE_ID), ADDR),
    ("lp_token", "bnpl_core", [], True, True, CORE_ID, contract(CORE_ID), ADDR),
    ("lp_token", "metadata", [], True, True, META, META_VAL, struct("TokenMetadata")),
    ("lp_token", "index", [], True, True, 10**9, u128(10**9), U128_),
    ("lp_token", "supply", [], True, True, 2**128 - 1, u128(2**128 - 1), U128_),
    ("lp_token", "borrowed", [], True, True, 0, u128(0), U128_),
    (
        "lp_token",
        "balances",
        [],
        True,
        True,
        {CORE_ID: 2, ZERO: 1},
        smap((account(ZERO), u128(1)), (contract(CORE_ID), u128(2))),
        ("SCV_MAP", "Map<Address, u128>", "Map<Address, u128> must be a dict, got float 1.5"),
    ),
    (
        "lp_token",
        "allowance",
        [],
        True,
        True,
        {(CORE_ID, ZERO): 4, (ZERO, CORE_ID): 3},
        smap(
            (vec(account(ZERO), contract(CORE_ID)), u128(3)),
            (vec(contract(CORE_ID), account(ZERO)), u128(4)),
        ),
        (
            "SCV_MAP",
            "Map<(Address, Address), u128>",
            "Map<(Address, Address), u128> must be a dict, got float 1.5",
        ),
    ),
    ("usdc", "Admin", [], True, False, ZERO, account(ZERO), ADDR),
    ("usdc", "Metadata", [], True, False, META, META_VAL, struct("TokenMetadata")),
    ("usdc", "TotalSupply", [], True, False, -(2**127), i128(-(2**127)), I128_),
    ("usdc", "MintLimit", [], True, False, 2**127 - 1, i128(2**127 - 1), I128_),
    (
        "usdc",
        "Balance",
        [("address", "Address", ZERO, account(ZERO))],
        True,
        False,
        -5,
        i128(-5),
        I128_,
    ),
    (
        "usdc",
        "Allowance",
        [("from", "Address", ZERO, account(ZERO)), ("spender", "Address", LP_ID, contract(LP_ID))],
        True,
        False,
        7,
        i128(7),
        I128_,
    ),
    (
        "usdc",
        "LastMint",
        [("address", "Address", CORE_ID, contract(CORE_ID))],
        True,
        False,
        19_675,
        u64(19_675),
        ("SCV_U64", "u64", "u64 must be an int, got float 1.5"),
    ),
    (
        "usdc",
        "DailyMinted",
        [("address", "Address", ZERO, account(ZERO))],
        True,
        False,
        0,
        i128(0),
        I128_,
    ),
]
IDS = [f"{s[0]}.{s[1]}" for s in SLOTS]
CONTRACT_IDS = {"bnpl_core": CORE_ID, "lp_token": LP_ID, "usdc": CORE_ID}


def test_the_slots_are_those_of_the_reference() -> None:
    names = {c: [s[1] for s in SLOTS if s[0] == c] for c in CONTRACT_IDS}
    # The refusal of an unknown name lists them, in the reference's order.
    for c, expected in names.items():
        assert refusal(ValueError, soroban.data_key, c, "Nope") == (
            f"{c} has no storage key 'Nope' (one of {', '.join(expected)})"
        )


@pytest.mark.parametrize("slot", SLOTS, ids=IDS)
def test_key_and_ledger_key_of_every_slot(api: Any, slot: tuple[Any, ...]) -> None:
    c, name, params, instance, bare, *_ = slot
    args = [p[2] for p in params]
    expected = sym(name) if bare else vec(sym(name), *(p[3] for p in params))
    key = api.data_key(c, name, *args)
    assert b64(key) == b64(expected)
    assert api.decode_data_key(c, xdr.SCVal.from_xdr(b64(expected))) == (name, tuple(args))
    cid = CONTRACT_IDS[c]
    ledger = api.ledger_key(cid, c, name, *args)
    assert b64(ledger) == b64(instance_key(cid) if instance else contract_data_key(cid, expected))
    assert b64(api.instance_ledger_key(cid)) == b64(instance_key(cid))


@pytest.mark.parametrize("slot", SLOTS, ids=IDS)
def test_value_of_every_slot(api: Any, slot: tuple[Any, ...]) -> None:
    c, name, _, _, _, value, val, (scv, desc, float_refusal) = slot
    assert b64(api.encode_data_value(c, name, value)) == b64(val)
    assert api.decode_data_value(c, name, xdr.SCVal.from_xdr(b64(val))) == value
    where = f"{c} storage {name} value"
    assert refusal(TypeError, api.encode_data_value, c, name, 1.5) == (f"{where}: {float_refusal}")
    assert refusal(ValueError, api.decode_data_value, c, name, VOID) == (
        f"{where}: expected {scv} ({desc}), got SCV_VOID"
    )


@pytest.mark.parametrize("slot", SLOTS, ids=IDS)
def test_key_refusals_of_every_slot(api: Any, slot: tuple[Any, ...]) -> None:
    c, name, params, *_ = slot
    bare = slot[4]
    args = [p[2] for p in params]
    n = len(params)
    where = f"{c} storage key"
    assert refusal(ValueError, api.data_key, c, name, *args, 1) == (
        f"{where} {name} takes {n} values, got {n + 1}"
    )
    if bare:
        assert refusal(ValueError, api.decode_data_key, c, vec(sym(name))) == (
            f"{where}: {name} is a bare Symbol key, not a DataKey variant"
        )
        return
    assert refusal(ValueError, api.decode_data_key, c, sym(name)) == (
        f"{where}: {name} is a DataKey variant, Vec[Symbol({name!r}), …]"
    )
    encoded = [p[3] for p in params]
    for extra in [[*encoded, u32(1)]] + ([encoded[:-1]] if encoded else []):
        assert refusal(ValueError, api.decode_data_key, c, vec(sym(name), *extra)) == (
            f"{where}: {name} carries {n} values, got {len(extra)}"
        )
    for i, (pname, ptype, _, _) in enumerate(params):
        bad_args = [*args[:i], None, *args[i + 1 :]]
        shape = "an int" if ptype == "u64" else "a str (G… or C…)"
        assert refusal(TypeError, api.data_key, c, name, *bad_args) == (
            f"{where} {name} value {i + 1} ({pname}): {ptype} must be {shape}, got NoneType None"
        )
        bad = vec(sym(name), *encoded[:i], VOID, *encoded[i + 1 :])
        scv = "SCV_U64" if ptype == "u64" else "SCV_ADDRESS"
        assert refusal(ValueError, api.decode_data_key, c, bad) == (
            f"{where} {name} value {i + 1} ({pname}): expected {scv} ({ptype}), got SCV_VOID"
        )


def test_refusals_of_contract_and_name(api: Any) -> None:
    unknown = "unknown contract 'lp' (expected one of bnpl_core, lp_token, usdc)"
    calls: list[Callable[[], Any]] = [
        lambda: api.data_key("lp", "admin"),
        lambda: api.decode_data_key("lp", sym("admin")),
        lambda: api.decode_data_key("lp", vec(sym("Admin"))),
        lambda: api.ledger_key(LP_ID, "lp", "admin"),
        lambda: api.encode_data_value("lp", "admin", ZERO),
        lambda: api.decode_data_value("lp", "admin", account(ZERO)),
    ]
    for call in calls:
        assert refusal(ValueError, call) == unknown
    for call in [
        lambda: api.data_key("usdc", 5),
        lambda: api.encode_data_value("usdc", 5, 1),
        lambda: api.decode_data_value("usdc", 5, i128(1)),
    ]:
        assert refusal(TypeError, call) == "usdc storage key: the name must be a str, got int 5"
    assert refusal(ValueError, api.decode_data_key, "lp_token", sym("Admin")) == (
        "lp_token has no storage key 'Admin' (one of admin, asset, bnpl_core, metadata, index,"
        " supply, borrowed, balances, allowance)"
    )
    assert refusal(ValueError, api.decode_data_key, "usdc", vec(sym("admin"))) == (
        "usdc has no storage key 'admin' (one of Admin, Metadata, TotalSupply, MintLimit,"
        " Balance, Allowance, LastMint, DailyMinted)"
    )


@pytest.mark.parametrize(
    ("key", "got"),
    [
        ("Bill", "str 'Bill'"),
        (None, "NoneType None"),
        (b"\x00", "bytes b'\\x00'"),
        (u32(1), "SCV_U32"),
        (string("Bill"), "SCV_STRING"),
        (smap(("Bill", u64(1))), "SCV_MAP"),
        (VOID, "SCV_VOID"),
    ],
)
def test_a_key_that_is_no_vec_or_symbol_is_refused(api: Any, key: Any, got: str) -> None:
    assert refusal(ValueError, api.decode_data_key, "bnpl_core", key) == (
        f"bnpl_core storage key: expected SCV_VEC (DataKey) or SCV_SYMBOL, got {got}"
    )


def test_malformed_data_keys_are_refused(api: Any) -> None:
    where = "bnpl_core storage key"
    for empty in (vec(), xdr.SCVal(X.SCV_VEC)):
        assert refusal(ValueError, api.decode_data_key, "bnpl_core", empty) == (
            f"{where}: an empty Vec is not a DataKey"
        )
    for variant, got in [
        (u32(1), "SCV_U32"),
        (string("Bill"), "SCV_STRING"),
        (vec(sym("Bill")), "SCV_VEC"),
    ]:
        key = vec(variant, u64(1))
        assert refusal(ValueError, api.decode_data_key, "bnpl_core", key) == (
            f"{where} variant: expected SCV_SYMBOL (Symbol), got {got}"
        )


def test_contract_ids_must_be_contract_addresses(api: Any) -> None:
    for bad in ["GABC", ZERO, CORE_ID.lower(), 5, None]:
        message = f"{bad!r} is not a C… contract id"
        assert refusal(ValueError, api.instance_ledger_key, bad) == message
        # Both for an instance slot and a persistent one.
        assert refusal(ValueError, api.ledger_key, bad, "usdc", "Admin") == message
        assert refusal(ValueError, api.ledger_key, bad, "bnpl_core", "Bill", 1) == message
    # The key is checked before the contract id.
    assert refusal(ValueError, api.ledger_key, "GABC", "bnpl_core", "Bill") == (
        "bnpl_core storage key Bill takes 1 values, got 0"
    )
