"""The deployed contracts' interface: every function (SOROBAN.md §4) and event (§6).

Contracts are named as the gateways name them (``bnpl_core``, ``lp_token``,
``usdc``). Parameters are listed in call order; their names are the contracts'
own and only serve error messages, since arguments travel by position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._contract_types import (
    BILL,
    BILL_CREATED_EVENT,
    BORROW_EVENT,
    BORROWING_POWER,
    CONFIG,
    DEPOSIT_EVENT,
    LIQUIDATION_BURN_EVENT,
    LIQUIDATION_EVENT,
    MERCHANT_DATA,
    MERCHANT_ENROLLED_EVENT,
    MERCHANT_STATUS,
    MERCHANT_STATUS_UPDATED_EVENT,
    PAYMENT_COMPLETED_EVENT,
    REPAY_EVENT,
    REPAYMENT_EVENT,
    TOKEN_METADATA,
    WITHDRAW_EVENT,
)
from ._types import (
    ADDRESS,
    BOOL,
    I128,
    STRING,
    U32,
    U64,
    U128,
    VOID,
    Map,
    Option,
    SorobanType,
    Tuple,
    Vec,
)

__all__ = ["EVENTS", "FUNCTIONS", "Event", "Function", "Param"]


@dataclass(frozen=True)
class Param:
    """One argument (or event topic): its name and type."""

    name: str
    type: SorobanType


@dataclass(frozen=True)
class Function:
    """A contract function: arguments in order, return type, and whether it only reads."""

    name: str
    params: tuple[Param, ...]
    returns: SorobanType
    view: bool = False


@dataclass(frozen=True)
class Event:
    """An event: the topics after its name (the first topic, a Symbol) and its data."""

    name: str
    topics: tuple[Param, ...]
    data: SorobanType


def _fn(
    name: str, returns: SorobanType = VOID, *params: tuple[str, SorobanType], view: bool = False
) -> tuple[str, Function]:
    return name, Function(name, tuple(Param(n, t) for n, t in params), returns, view)


def _view(
    name: str, returns: SorobanType, *params: tuple[str, SorobanType]
) -> tuple[str, Function]:
    return _fn(name, returns, *params, view=True)


def _ev(name: str, data: SorobanType, *topics: tuple[str, SorobanType]) -> tuple[str, Event]:
    return name, Event(name, tuple(Param(n, t) for n, t in topics), data)


_A = ADDRESS
_FROM = ("from", _A)
_TO = ("to", _A)
_SPENDER = ("spender", _A)
_AMOUNT = ("amount", I128)
_USER = ("user", _A)
_BILL_ID = ("bill_id", U64)

_BNPL_CORE = dict(
    [
        _fn(
            "initialize",
            VOID,
            ("liquidity_pool", _A),
            ("usdc_token", _A),
            ("admin", _A),
            ("treasury", _A),
            ("insurance_fund", _A),
        ),
        _view("get_config", CONFIG),
        _view("is_admin", BOOL, ("address", _A)),
        _fn("enroll_merchant", VOID, ("merchant", _A), ("merchant_info_id", STRING)),
        _fn(
            "update_merchant_status",
            VOID,
            ("admin", _A),
            ("merchant", _A),
            ("new_status", MERCHANT_STATUS),
        ),
        _view("get_merchant", MERCHANT_DATA, ("merchant", _A)),
        _fn("create_bill", U64, ("merchant", _A), _USER, _AMOUNT, ("order_id", STRING)),
        _view("get_bill", BILL, _BILL_ID),
        _view("get_user_bills", Vec(U64), _USER),
        _fn("pay_bill_bnpl", VOID, _BILL_ID),
        _fn("repay_bill", VOID, _BILL_ID),
        _fn("liquidate_bill", VOID, _BILL_ID, ("liquidator", _A)),
        _view("get_user_total_debt", Tuple((I128, I128)), _USER),
        _view("get_user_required_collateral", I128, _USER),
        _view("get_user_borrowing_power", BORROWING_POWER, _USER),
        _view("get_protocol_constants", Map(STRING, I128)),
    ]
)

# Token functions both tokens share (SEP-41 shape).
_TOKEN_COMMON = [
    _fn("approve", VOID, _FROM, _SPENDER, _AMOUNT, ("expiration_ledger", U32)),
    _fn("transfer", VOID, _FROM, _TO, _AMOUNT),
    _fn("transfer_from", VOID, _SPENDER, _FROM, _TO, _AMOUNT),
    _fn("burn", VOID, _FROM, _AMOUNT),
    _fn("burn_from", VOID, _SPENDER, _FROM, _AMOUNT),
    _view("allowance", I128, _FROM, _SPENDER),
    _view("total_supply", I128),
    _view("decimals", U32),
    _view("name", STRING),
    _view("symbol", STRING),
]

_LP_TOKEN = dict(
    [
        _fn(
            "initialize",
            VOID,
            ("admin", _A),
            ("underlying_asset", _A),
            ("metadata", TOKEN_METADATA),
        ),
        _fn("update_index", VOID),
        _fn("deposit", I128, _FROM, _AMOUNT),
        _fn("withdraw", I128, _FROM, _AMOUNT),
        _view("exchange_rate", U128),
        _view("total_borrowed", U128),
        _view("utilization_ratio", U32),
        _view("underlying_asset", _A),
        _view("total_underlying", I128),
        _fn("set_bnpl_core", VOID, ("bnpl_core", _A)),
        _view("get_bnpl_core", Option(_A)),
        _fn("borrow", VOID, _TO, _AMOUNT),
        _fn("repay", VOID, _FROM, _AMOUNT),
        _fn("repay_with_burn", VOID, _FROM, _AMOUNT, ("fee", I128)),
        _view("get_locked_balance", I128, _USER),
        _view("available_balance", I128, _USER),
        _view("get_balance_info", Tuple((I128, I128, I128)), _USER),
        _fn("mint", VOID, _TO, _AMOUNT),
        _view("balance", I128, _USER),
        _view("raw_shares", U128, _USER),
        _view("total_raw_shares", U128),
        _view("metadata", TOKEN_METADATA),
        *_TOKEN_COMMON,
    ]
)

_USDC = dict(
    [
        _fn(
            "initialize",
            VOID,
            ("admin", _A),
            ("name", STRING),
            ("symbol", STRING),
            ("decimals", U32),
            ("mint_limit", I128),
        ),
        _fn("mint", VOID, _TO, _AMOUNT),
        _view("balance", I128, ("address", _A)),
        _view("get_mint_limit", I128),
        _view("get_daily_minted", I128, ("address", _A)),
        *_TOKEN_COMMON,
    ]
)

FUNCTIONS: Mapping[str, Mapping[str, Function]] = {
    "bnpl_core": _BNPL_CORE,
    "lp_token": _LP_TOKEN,
    "usdc": _USDC,
}
"""Per contract, per function name: the deployed signature."""

EVENTS: Mapping[str, Mapping[str, Event]] = {
    "bnpl_core": dict(
        [
            _ev("init", CONFIG, ("admin", _A)),
            _ev("m_enroll", MERCHANT_ENROLLED_EVENT, ("merchant", _A)),
            _ev("m_status", MERCHANT_STATUS_UPDATED_EVENT, ("merchant", _A)),
            _ev("bill_new", BILL_CREATED_EVENT, ("merchant", _A), _BILL_ID),
            _ev("payment", PAYMENT_COMPLETED_EVENT, _USER, _BILL_ID),
            _ev("repayment", REPAYMENT_EVENT, _USER, _BILL_ID),
            _ev("liquidate", LIQUIDATION_EVENT, ("liquidator", _A), _BILL_ID),
        ]
    ),
    # lp_token emits nothing for initialize, set_bnpl_core, update_index, mint and
    # its SEP-41 functions (approve, transfer, transfer_from, burn, burn_from).
    "lp_token": dict(
        [
            _ev("deposit", DEPOSIT_EVENT, _FROM),
            _ev("withdraw", WITHDRAW_EVENT, _FROM),
            _ev("borrow", BORROW_EVENT, _TO),
            _ev("repay", REPAY_EVENT, _FROM),
            _ev("liq_burn", LIQUIDATION_BURN_EVENT, _USER),
        ]
    ),
    "usdc": dict(
        [
            _ev("transfer", I128, _FROM, _TO),
            _ev("mint", I128, ("admin", _A), _TO),
            # The engine builds this payload as a list: decode it as one.
            _ev("approve", Tuple((I128, U32), as_list=True), _FROM, _SPENDER),
            _ev("burn", I128, _FROM),
        ]
    ),
}
"""Per contract, per event name (first topic): topic and data types."""
