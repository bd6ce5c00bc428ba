"""Stellar transactions on the local ledger: simulated, checked and applied as core does.

One contract call per envelope (:class:`~.._transactions.Call`), run by the local
contracts on an :class:`~._rpc_ledger.RpcLedger`: :func:`simulate` (nothing written:
return value, recorded auth entries, footprint, resource fee), :func:`admit` (why the
network refuses an envelope before it runs: account, signatures, sequence, time
bounds, fee, balance) and :func:`apply` (one new ledger: the auth entries checked, the
call kept within its footprint, nonces consumed, the sequence number and fee taken,
the transaction recorded for ``getTransaction``, whether the call succeeded or
failed). The sandbox's Soroban RPC endpoint answers ``simulateTransaction`` and
``sendTransaction`` with these; :class:`~._local_gateway.LocalGateway` prepares and
submits wallet-signed transactions with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stellar_sdk import Address, xdr

from ...db import Tx
from .._gateway import CONTRACTS, ContractError, ContractEvent, TxRecord
from .._transactions import Call, signature_problem
from ..soroban import data_key, decode_args, encode_result, instance_ledger_key
from ._auth_host import AuthHost
from ._envelope_auth import AuthFailure, check_entries, check_trees, recorded_entries
from ._envelope_xdr import contract_event, failed_result, success_meta, success_result
from ._rpc_ledger import RpcLedger, StoredTransaction

__all__ = [
    "BASE_FEE",
    "Applied",
    "HostFailure",
    "Simulation",
    "admit",
    "apply",
    "engine_call",
    "entry_address",
    "footprint_key",
    "min_resource_fee",
    "simulate",
]

BASE_FEE = 100
"""Inclusion fee per operation (stroops)."""


def min_resource_fee(read_only: int, read_write: int) -> int:
    """The sandbox's resource fee: fixed, plus a price per footprint entry."""
    return 50_000 + 1_000 * read_only + 5_000 * read_write


class HostFailure(Exception):
    """The host refuses the call before any contract runs (simulation ``error`` text)."""


def engine_call(ledger: RpcLedger, call: Call) -> tuple[str, list[Any]]:
    """The engine's contract name and Python arguments of *call*; :class:`HostFailure` if
    the contract does not exist here or the arguments do not fit the function."""
    names = {ledger.gateway.contract_id(name): name for name in CONTRACTS}
    contract = names.get(call.contract_id)
    if contract is None:
        raise HostFailure("HostError: Error(Storage, MissingValue)")
    try:
        return contract, decode_args(contract, call.function, call.scargs)
    except (TypeError, ValueError):
        raise HostFailure("HostError: Error(Value, UnexpectedType)") from None


# --- footprints ---------------------------------------------------------------------------
_BNPL_PERSISTENT = {
    "bill_counter": "BillCounter",
    "bill": "Bill",
    "user_bills": "UserBills",
    "merchant": "MerchantData",
}


def _persistent(contract_id: str, key: xdr.SCVal) -> xdr.LedgerKey:
    return xdr.LedgerKey(
        xdr.LedgerEntryType.CONTRACT_DATA,
        contract_data=xdr.LedgerKeyContractData(
            Address(contract_id).to_xdr_sc_address(), key, xdr.ContractDataDurability.PERSISTENT
        ),
    )


def footprint_key(ledger: RpcLedger, contract: str, engine_key: str) -> xdr.LedgerKey:
    """The ledger key of the entry that holds an engine storage key."""
    contract_id = ledger.gateway.contract_id(contract)
    if contract == "bnpl_core":
        kind, _, rest = engine_key.partition(":")
        name = _BNPL_PERSISTENT.get(kind)
        if name == "BillCounter":
            return _persistent(contract_id, data_key(contract, name))
        if name == "Bill":
            return _persistent(contract_id, data_key(contract, name, int(rest)))
        if name is not None:
            return _persistent(contract_id, data_key(contract, name, rest))
    return instance_ledger_key(contract_id)


def _footprint(ledger: RpcLedger, host: AuthHost) -> xdr.LedgerFootprint:
    writes = {footprint_key(ledger, c, k).to_xdr() for c, k in host.writes}
    reads = {footprint_key(ledger, c, k).to_xdr() for c, k in host.reads}
    reads |= {footprint_key(ledger, c, "").to_xdr() for c in host.called}
    return xdr.LedgerFootprint(
        read_only=[xdr.LedgerKey.from_xdr(k) for k in sorted(reads - writes)],
        read_write=[xdr.LedgerKey.from_xdr(k) for k in sorted(writes)],
    )


# --- simulation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Simulation:
    """What simulating a call gives: its result (engine value and ScVal), the transaction
    data to install (footprint, resources, resource fee ``fee``), the recorded auth
    entries (none when enforcing), the events it would emit, and the latest ledger."""

    result: Any
    value: xdr.SCVal
    data: xdr.SorobanTransactionData
    fee: int
    auth: list[xdr.SorobanAuthorizationEntry]
    events: list[xdr.ContractEvent]
    latest: int


def entry_address(entry: xdr.SorobanAuthorizationEntry, source: str) -> str:
    """The address an auth entry speaks for (*source* for source-account credentials)."""
    creds = entry.credentials
    if creds.type == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT:
        return source
    found = creds.address or creds.address_v2
    if found is None:
        return ""
    return Address.from_xdr_sc_address(found.address).address


def simulate(ledger: RpcLedger, call: Call, *, enforce: bool, tx: Tx | None = None) -> Simulation:
    """Run the call at the next ledger, writing nothing. *enforce*: only the addresses the
    call's own entries name are authorised (their signatures are checked on apply only);
    else authorization is recorded, and the entries a signer needs are returned.

    Raises :class:`HostFailure` or the engine's :class:`ContractError`."""
    latest, _ = ledger.latest(tx=tx)
    authorized: frozenset[str] | None = None
    if enforce:
        authorized = frozenset(entry_address(e, call.source) for e in call.auth)
    contract, args = engine_call(ledger, call)
    result, host, _ = ledger.simulate(contract, call.function, args, authorized=authorized, tx=tx)
    value = encode_result(contract, call.function, result, args=args)
    footprint = _footprint(ledger, host)
    fee = min_resource_fee(len(footprint.read_only), len(footprint.read_write))
    data = xdr.SorobanTransactionData(
        ext=xdr.SorobanTransactionDataExt(0),
        resources=xdr.SorobanResources(
            footprint=footprint,
            instructions=xdr.Uint32(1_000_000),
            disk_read_bytes=xdr.Uint32(10_000),
            write_bytes=xdr.Uint32(10_000),
        ),
        resource_fee=xdr.Int64(fee),
    )
    auth = [] if enforce else recorded_entries(host, call.source, latest, ledger)
    events = [contract_event(_pending(ledger, e)) for e in host.events]
    return Simulation(result, value, data, fee, auth, events, latest)


def _pending(ledger: RpcLedger, pending: Any) -> ContractEvent:
    return ContractEvent(
        0,
        pending.contract,
        ledger.gateway.contract_id(pending.contract),
        tuple(pending.topics),
        pending.data,
        0,
        0,
        "",
    )


# --- admission and application --------------------------------------------------------------
def admit(
    ledger: RpcLedger, call: Call, *, tx: Tx | None = None
) -> xdr.TransactionResultCode | None:
    """Why the network refuses the envelope before running it, or ``None``."""
    transaction = call.envelope.transaction
    _, close = ledger.latest(tx=tx)
    account = ledger.account(call.source, tx=tx)
    if account is None:
        return xdr.TransactionResultCode.txNO_ACCOUNT
    bad_auth = signature_problem(call.envelope)
    if bad_auth is not None:
        return bad_auth
    if transaction.sequence != account.sequence + 1:
        return xdr.TransactionResultCode.txBAD_SEQ
    pre = transaction.preconditions
    bounds = pre.time_bounds if pre else None
    if bounds is not None and bounds.min_time and close < bounds.min_time:
        return xdr.TransactionResultCode.txTOO_EARLY
    if bounds is not None and bounds.max_time and close > bounds.max_time:
        return xdr.TransactionResultCode.txTOO_LATE
    data = transaction.soroban_data
    if data is None:
        return xdr.TransactionResultCode.txSOROBAN_INVALID
    fp = data.resources.footprint
    needed = min_resource_fee(len(fp.read_only), len(fp.read_write))
    if data.resource_fee.int64 < needed or transaction.fee < data.resource_fee.int64 + BASE_FEE:
        return xdr.TransactionResultCode.txINSUFFICIENT_FEE
    if account.balance < transaction.fee:
        return xdr.TransactionResultCode.txINSUFFICIENT_BALANCE
    return None


@dataclass(frozen=True)
class Applied:
    """An applied transaction: as stored for ``getTransaction``, and the call's record
    (``None`` when the call failed: the transaction is ``FAILED``, its fee and sequence
    number spent all the same)."""

    stored: StoredTransaction
    record: TxRecord | None


def apply(ledger: RpcLedger, t: Tx, call: Call, *, operation: str | None = None) -> Applied:
    """Apply an admitted envelope (see :func:`admit`) on *t* as one new ledger: the call
    (its auth entries checked, kept within the footprint) or, when it fails, an empty
    ledger; then the source's sequence number and fee are taken and the transaction is
    stored under its hash (with *operation*, the caller's name for it)."""
    transaction = call.envelope.transaction
    tx_hash = call.envelope.hash_hex()
    data = transaction.soroban_data
    assert data is not None  # admit refuses an envelope without it
    fp = data.resources.footprint
    allowed_rw = {k.to_xdr() for k in fp.read_write}
    allowed = allowed_rw | {k.to_xdr() for k in fp.read_only}

    def within_footprint(host: AuthHost) -> None:
        for c, k in host.reads | {(c, "") for c in host.called}:
            if footprint_key(ledger, c, k).to_xdr() not in allowed:
                raise ContractError(c, 0, "Storage.ExceededLimit", "key outside the footprint")
        for c, k in host.writes:
            if footprint_key(ledger, c, k).to_xdr() not in allowed_rw:
                raise ContractError(c, 0, "Storage.ExceededLimit", "write outside the footprint")

    current = ledger.latest(tx=t)[0] + 1
    record: TxRecord | None = None
    try:
        contract, args = engine_call(ledger, call)
        authorization = check_entries(t, call.auth, call.source, current, ledger)

        def checks(host: AuthHost) -> None:
            check_trees(host, authorization, ledger)
            within_footprint(host)

        record, _host = ledger.apply(
            t,
            contract,
            call.function,
            args,
            authorized=authorization.addresses,
            tx_hash=tx_hash,
            signer=sorted(authorization.addresses or {call.source})[0],
            check=checks,
        )
        value = encode_result(contract, call.function, record.result, args=args)
        for address, nonce in authorization.nonces:
            ledger.use_nonce(t, address, nonce, record.ledger)
        events = [contract_event(e) for e in record.events]
        number, created = record.ledger, record.timestamp
        result = success_result(transaction.fee, value, events)
        meta = success_meta(value, events)
        status = "SUCCESS"
    except (HostFailure, AuthFailure, ContractError):
        record = None
        number, created = ledger.close_ledger(t)
        events = []
        result = failed_result(
            transaction.fee, xdr.InvokeHostFunctionResultCode.INVOKE_HOST_FUNCTION_TRAPPED
        )
        meta = success_meta(None, [])
        status = "FAILED"
    ledger.charge(t, call.source, transaction.sequence, transaction.fee, number)
    stored = StoredTransaction(
        tx_hash,
        number,
        status,
        call.envelope.to_xdr(),
        result.to_xdr(),
        meta.to_xdr(),
        [e.to_xdr() for e in events],
        created,
        operation,
    )
    ledger.store_transaction(t, stored)
    return Applied(stored, record)
