"""The contracts' user-defined types (SOROBAN.md §5): structs, unit enums, event payloads."""

from __future__ import annotations

from ._types import ADDRESS, I128, STRING, U32, U64, U128, Enum, Struct

__all__ = [
    "BILL",
    "BILL_CREATED_EVENT",
    "BILL_STATUS",
    "BORROWING_POWER",
    "BORROW_EVENT",
    "CONFIG",
    "DEPOSIT_EVENT",
    "LIQUIDATION_BURN_EVENT",
    "LIQUIDATION_EVENT",
    "MERCHANT_DATA",
    "MERCHANT_ENROLLED_EVENT",
    "MERCHANT_STATUS",
    "MERCHANT_STATUS_UPDATED_EVENT",
    "PAYMENT_COMPLETED_EVENT",
    "REPAYMENT_EVENT",
    "REPAY_EVENT",
    "TOKEN_METADATA",
    "WITHDRAW_EVENT",
]

# --- bnpl_core ---------------------------------------------------------------------------
MERCHANT_STATUS = Enum(
    "MerchantStatus", ("None", "Pending", "Approved", "Rejected", "Suspended", "Cancelled")
)
BILL_STATUS = Enum(
    "BillStatus", ("None", "Created", "Expired", "Paid", "Repaid", "Overdue", "Liquidated")
)

CONFIG = Struct(
    "Config",
    (
        ("admin", ADDRESS),
        ("insurance_fund", ADDRESS),
        ("liquidity_pool", ADDRESS),
        ("treasury", ADDRESS),
        ("usdc_token", ADDRESS),
    ),
)
MERCHANT_DATA = Struct("MerchantData", (("merchant_info_id", STRING), ("status", MERCHANT_STATUS)))
BILL = Struct(
    "Bill",
    (
        ("created_at", U64),
        ("id", U64),
        ("merchant", ADDRESS),
        ("order_id", STRING),
        ("paid_at", U64),
        ("principal", I128),
        ("status", BILL_STATUS),
        ("user", ADDRESS),
    ),
)
BORROWING_POWER = Struct(
    "BorrowingPower",
    tuple(
        (name, I128)
        for name in (
            "available_borrowing",
            "current_borrowed",
            "current_debt",
            "lp_balance",
            "max_borrowing",
            "overall_health_factor",
            "required_collateral",
        )
    ),
)

MERCHANT_ENROLLED_EVENT = Struct(
    "MerchantEnrolledEvent",
    (("merchant", ADDRESS), ("merchant_info_id", STRING), ("timestamp", U64)),
)
MERCHANT_STATUS_UPDATED_EVENT = Struct(
    "MerchantStatusUpdatedEvent",
    (
        ("merchant", ADDRESS),
        ("new_status", MERCHANT_STATUS),
        ("old_status", MERCHANT_STATUS),
        ("timestamp", U64),
    ),
)
BILL_CREATED_EVENT = Struct(
    "BillCreatedEvent",
    (
        ("amount", I128),
        ("bill_id", U64),
        ("created_at", U64),
        ("merchant", ADDRESS),
        ("order_id", STRING),
        ("user", ADDRESS),
    ),
)
PAYMENT_COMPLETED_EVENT = Struct(
    "PaymentCompletedEvent",
    (("bill_id", U64), ("merchant", ADDRESS), ("total_paid", I128), ("user", ADDRESS)),
)
REPAYMENT_EVENT = Struct(
    "RepaymentEvent",
    (("amount_paid", I128), ("bill_id", U64), ("timestamp", U64), ("user", ADDRESS)),
)
LIQUIDATION_EVENT = Struct(
    "LiquidationEvent",
    (("bill_id", U64), ("liquidator", ADDRESS), ("total_liquidated", I128)),
)

# --- lp_token ----------------------------------------------------------------------------
TOKEN_METADATA = Struct("TokenMetadata", (("decimal", U32), ("name", STRING), ("symbol", STRING)))
DEPOSIT_EVENT = Struct(
    "DepositEvent", (("amount", I128), ("shares_minted", U128), ("user", ADDRESS))
)
WITHDRAW_EVENT = Struct(
    "WithdrawEvent", (("amount", I128), ("shares_burned", U128), ("user", ADDRESS))
)
BORROW_EVENT = Struct("BorrowEvent", (("amount", I128), ("borrower", ADDRESS)))
REPAY_EVENT = Struct("RepayEvent", (("amount", I128), ("repayer", ADDRESS)))
LIQUIDATION_BURN_EVENT = Struct(
    "LiquidationBurnEvent", (("amount_burned", I128), ("fee", I128), ("user", ADDRESS))
)
