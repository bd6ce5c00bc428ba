"""bnpl_core: merchants, bills, loans from the pool, repayment and liquidation.

The order of checks, the messages and the event payloads follow the deployed
contract, so a refusal here is the refusal testnet would give.
"""

from __future__ import annotations

from typing import Any

from .._constants import SECONDS_PER_DAY
from ._errors import contract_error, missing, panic
from ._host import Contract, Host, Signature
from ._math import (
    BorrowingPower,
    borrowing_power,
    late_fee,
    liquidation_penalty,
    merchant_fee,
    required_collateral,
    split_fee,
    tdiv,
)

__all__ = ["BnplCore"]


class BnplCore(Contract):
    """The BNPL core contract."""

    NAME = "bnpl_core"
    FUNCTIONS = {
        "initialize": Signature(("address", "address", "address", "address", "address")),
        "enroll_merchant": Signature(("address", "string")),
        "update_merchant_status": Signature(("address", "address", "merchant_status")),
        "create_bill": Signature(("address", "address", "i128", "string")),
        "pay_bill_bnpl": Signature(("u64",)),
        "repay_bill": Signature(("u64",)),
        "liquidate_bill": Signature(("u64", "address")),
        "get_config": Signature((), view=True),
        "is_admin": Signature(("address",), view=True),
        "get_merchant": Signature(("address",), view=True),
        "get_bill": Signature(("u64",), view=True),
        "get_user_bills": Signature(("address",), view=True),
        "get_user_total_debt": Signature(("address",), view=True),
        "get_user_required_collateral": Signature(("address",), view=True),
        "get_user_borrowing_power": Signature(("address",), view=True),
        "get_protocol_constants": Signature((), view=True),
    }

    # --- configuration ----------------------------------------------------------------
    def initialize(
        self,
        host: Host,
        liquidity_pool: str,
        usdc_token: str,
        admin: str,
        treasury: str,
        insurance_fund: str,
    ) -> None:
        """Store the configuration once; the bill counter starts at 1."""
        if host.get("config") is not None:
            raise panic(self.NAME, "AlreadyInitialized")
        config = {
            "admin": admin,
            "liquidity_pool": liquidity_pool,
            "usdc_token": usdc_token,
            "treasury": treasury,
            "insurance_fund": insurance_fund,
        }
        host.set("config", config)
        host.set("bill_counter", 1)
        host.emit(("init", admin), config)

    def get_config(self, host: Host) -> dict[str, str]:
        """The configuration (contract addresses and accounts)."""
        config = host.get("config")
        if config is None:  # as deployed: an unwrap of missing storage traps
            raise missing(self.NAME, "Config")
        return dict(config)

    def is_admin(self, host: Host, address: str) -> bool:
        """Whether *address* is the admin."""
        return bool(self.get_config(host)["admin"] == address)

    def get_protocol_constants(self, host: Host) -> dict[str, int]:
        """The protocol constants by their contract names."""
        constants: dict[str, int] = host.constants.as_contract_map()
        return constants

    # --- merchants --------------------------------------------------------------------
    def enroll_merchant(self, host: Host, merchant: str, merchant_info_id: str) -> None:
        """Register *merchant* as Pending."""
        host.require_auth(merchant)
        if host.get(f"merchant:{merchant}") is not None:
            raise contract_error(self.NAME, "MerchantAlreadyEnrolled")
        host.set(
            f"merchant:{merchant}", {"merchant_info_id": merchant_info_id, "status": "Pending"}
        )
        host.emit(
            ("m_enroll", merchant),
            {
                "merchant": merchant,
                "merchant_info_id": merchant_info_id,
                "timestamp": host.timestamp,
            },
        )

    def update_merchant_status(
        self, host: Host, admin: str, merchant: str, new_status: str
    ) -> None:
        """Set a merchant's status (admin only)."""
        host.require_auth(admin)
        if not self.is_admin(host, admin):
            raise contract_error(self.NAME, "NotAdmin")
        data = host.get(f"merchant:{merchant}")
        if data is None:
            raise contract_error(self.NAME, "MerchantNotFound")
        old_status = data["status"]
        host.set(f"merchant:{merchant}", {**data, "status": new_status})
        host.emit(
            ("m_status", merchant),
            {
                "merchant": merchant,
                "old_status": old_status,
                "new_status": new_status,
                "timestamp": host.timestamp,
            },
        )

    def get_merchant(self, host: Host, merchant: str) -> dict[str, Any]:
        """``MerchantData`` ``{merchant_info_id, status}``; traps if never enrolled, as deployed."""
        data = host.get(f"merchant:{merchant}")
        if data is None:
            raise missing(self.NAME, "Merchant")
        return {"merchant_info_id": data["merchant_info_id"], "status": data["status"]}

    # --- bills ------------------------------------------------------------------------
    def create_bill(self, host: Host, merchant: str, user: str, amount: int, order_id: str) -> int:
        """A new bill for *user*, payable for one day. Returns its id."""
        host.require_auth(merchant)
        data = host.get(f"merchant:{merchant}")
        if data is None or data["status"] != "Approved":
            raise panic(self.NAME, "MerchantNotApproved")
        if amount <= 0:
            raise panic(self.NAME, "InvalidAmount")
        bill_id = int(host.get("bill_counter"))  # initialize sets it
        bill = {
            "id": bill_id,
            "merchant": merchant,
            "user": user,
            "principal": amount,
            "status": "Created",
            "order_id": order_id,
            "created_at": host.timestamp,
            "paid_at": 0,
        }
        host.set(f"bill:{bill_id}", bill)
        host.set("bill_counter", bill_id + 1)
        host.emit(
            ("bill_new", merchant, bill_id),
            {
                "bill_id": bill_id,
                "merchant": merchant,
                "user": user,
                "amount": amount,
                "order_id": order_id,
                "created_at": host.timestamp,
            },
        )
        return bill_id

    def get_bill(self, host: Host, bill_id: int) -> dict[str, Any]:
        """The bill; traps if there is none (as deployed: no BillNotFound)."""
        bill = host.get(f"bill:{bill_id}")
        if bill is None:
            raise missing(self.NAME, "Bill")
        return dict(bill)

    def get_user_bills(self, host: Host, user: str) -> list[int]:
        """Ids of the user's open (Paid) bills."""
        return [int(b) for b in host.get(f"user_bills:{user}", [])]

    def pay_bill_bnpl(self, host: Host, bill_id: int) -> None:
        """The user pays the merchant with a loan from the pool."""
        bill = self.get_bill(host, bill_id)
        user = bill["user"]
        host.require_auth(user)
        c = host.constants
        if bill["status"] != "Created":
            raise panic(self.NAME, "BillNotPayable")
        if host.timestamp > bill["created_at"] + c.bill_duration_days * SECONDS_PER_DAY:
            raise panic(self.NAME, "BillExpired")
        principal = int(bill["principal"])
        if self._borrowing_power(host, user).available_borrowing < principal:
            raise panic(self.NAME, "InsufficientCollateral")
        fee = merchant_fee(principal, c)
        config = self.get_config(host)
        host.call("lp_token", "borrow", host.address, principal)
        host.call("usdc", "transfer", host.address, bill["merchant"], principal - fee)
        self._distribute_fees(host, config, fee)
        host.set(f"bill:{bill_id}", {**bill, "status": "Paid", "paid_at": host.timestamp})
        host.set(f"user_bills:{user}", [*self.get_user_bills(host, user), bill_id])
        host.emit(
            ("payment", user, bill_id),
            {
                "bill_id": bill_id,
                "user": user,
                "merchant": bill["merchant"],
                "total_paid": principal,
            },
        )

    def repay_bill(self, host: Host, bill_id: int) -> None:
        """The user pays back principal + late fee (from created_at, as the contract does)."""
        bill = self.get_bill(host, bill_id)
        user = bill["user"]
        host.require_auth(user)
        if bill["status"] != "Paid":
            raise panic(self.NAME, "BillNotPaid")
        principal = int(bill["principal"])
        fee = late_fee(principal, int(bill["created_at"]), host.timestamp, host.constants)
        config = self.get_config(host)
        # As deployed: pulled with transfer_from against the allowance the user gave
        # bnpl_core in an earlier, separate call (USDC approve); no allowance, no repayment.
        host.call("usdc", "transfer_from", host.address, user, host.address, principal + fee)
        # As deployed: the pool pulls the principal with transfer_from, so bnpl_core
        # approves it first (for principal + late fee, expiration ledger 200).
        host.call("usdc", "approve", host.address, config["liquidity_pool"], principal + fee, 200)
        host.call("lp_token", "repay", host.address, principal)
        self._distribute_fees(host, config, fee)
        host.set(f"bill:{bill_id}", {**bill, "status": "Repaid"})
        self._close(host, user, bill_id)
        host.emit(
            ("repayment", user, bill_id),
            {
                "bill_id": bill_id,
                "user": user,
                "amount_paid": principal,
                "timestamp": host.timestamp,
            },
        )

    def liquidate_bill(self, host: Host, bill_id: int, liquidator: str) -> None:
        """Burn a 28-day-old bill's collateral; the liquidator gets half the penalty."""
        host.require_auth(liquidator)
        if int(host.call("lp_token", "balance", liquidator)) == 0:
            raise panic(self.NAME, "NonLpTokenHolder")
        bill = self.get_bill(host, bill_id)
        c = host.constants
        if host.timestamp < bill["created_at"] + c.liquidation_threshold_days * SECONDS_PER_DAY:
            raise panic(self.NAME, "GracePeriodNotExpired")
        if bill["status"] not in ("Paid", "Overdue"):
            raise panic(self.NAME, "LiquidationNotPossible")
        user = bill["user"]
        host.set(f"bill:{bill_id}", {**bill, "status": "Liquidated"})
        self._close(host, user, bill_id)
        principal = int(bill["principal"])
        fee = late_fee(principal, int(bill["created_at"]), host.timestamp, c)
        penalty = liquidation_penalty(principal, c)
        config = self.get_config(host)
        host.call("lp_token", "repay_with_burn", user, principal, fee + penalty)
        host.call("usdc", "transfer", host.address, liquidator, tdiv(penalty, 2))
        self._distribute_fees(host, config, tdiv(penalty, 2) + fee)
        host.emit(
            ("liquidate", liquidator, bill_id),
            {
                "bill_id": bill_id,
                "liquidator": liquidator,
                "total_liquidated": principal + fee + penalty,
            },
        )

    # --- users ------------------------------------------------------------------------
    def get_user_total_debt(self, host: Host, user: str) -> tuple[int, int]:
        """(Σ late fee from paid_at, Σ principal) over the user's open Paid bills."""
        interest = principal = 0
        for bill_id in self.get_user_bills(host, user):
            bill = self.get_bill(host, bill_id)
            if bill["status"] == "Paid":
                p = int(bill["principal"])
                interest += late_fee(p, int(bill["paid_at"]), host.timestamp, host.constants)
                principal += p
        return (interest, principal)

    def get_user_required_collateral(self, host: Host, user: str) -> int:
        """(principal + interest) * 111 %."""
        interest, principal = self.get_user_total_debt(host, user)
        return required_collateral(principal + interest, host.constants)

    def get_user_borrowing_power(self, host: Host, user: str) -> dict[str, int]:
        """The BorrowingPower struct as a dict."""
        return self._borrowing_power(host, user).as_dict()

    # --- helpers ----------------------------------------------------------------------
    def _borrowing_power(self, host: Host, user: str) -> BorrowingPower:
        self.get_config(host)
        lp_balance = int(host.call("lp_token", "balance", user))
        interest, principal = self.get_user_total_debt(host, user)
        return borrowing_power(lp_balance, interest, principal, host.constants)

    def _close(self, host: Host, user: str, bill_id: int) -> None:
        host.set(f"user_bills:{user}", [b for b in self.get_user_bills(host, user) if b != bill_id])

    def _distribute_fees(self, host: Host, config: dict[str, str], fee: int) -> None:
        split = split_fee(fee, host.constants)
        if split.treasury > 0:
            host.call("usdc", "transfer", host.address, config["treasury"], split.treasury)
        if split.insurance > 0:
            host.call("usdc", "transfer", host.address, config["insurance_fund"], split.insurance)
        if split.lp > 0:
            host.call("usdc", "transfer", host.address, config["liquidity_pool"], split.lp)
            host.call("lp_token", "update_index")
