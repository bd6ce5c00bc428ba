"""``simulateTransaction``, ``sendTransaction`` and ``getTransaction``."""

from __future__ import annotations

from typing import Any

from stellar_sdk import Keypair, xdr

from ..chain import ContractError
from ..chain.local import AuthHost, RpcLedger, StoredTransaction
from ..chain.soroban import encode_result
from ._auth import AuthFailure, check_entries, check_trees, recorded_entries
from ._calls import Call, HostFailure, decode_call, decode_envelope
from ._congestion import Held, congestion
from ._entries import footprint_key
from ._jsonrpc import INVALID_PARAMS, RpcError
from ._xdr import (
    b64,
    contract_event,
    diagnostic,
    failed_result,
    refused_result,
    success_meta,
    success_result,
)

__all__ = ["get_transaction", "send_transaction", "simulate_transaction"]

BASE_FEE = 100
"""Inclusion fee per operation (stroops)."""


def min_resource_fee(read_only: int, read_write: int) -> int:
    """The sandbox's resource fee: fixed, plus a price per footprint entry."""
    return 50_000 + 1_000 * read_only + 5_000 * read_write


def _host_error(e: ContractError) -> str:
    if e.code:
        return f"HostError: Error(Contract, #{e.code})"
    if e.name == "Auth.InvalidAction":
        return "HostError: Error(Auth, InvalidAction)"
    if e.trapped:
        return "HostError: Error(WasmVm, InvalidAction)"
    return "HostError: Error(Value, UnexpectedType)"


def _footprint(ledger: RpcLedger, host: AuthHost) -> xdr.LedgerFootprint:
    writes = {footprint_key(ledger, c, k).to_xdr() for c, k in host.writes}
    reads = {footprint_key(ledger, c, k).to_xdr() for c, k in host.reads}
    reads |= {footprint_key(ledger, c, "").to_xdr() for c in host.called}
    return xdr.LedgerFootprint(
        read_only=[xdr.LedgerKey.from_xdr(k) for k in sorted(reads - writes)],
        read_write=[xdr.LedgerKey.from_xdr(k) for k in sorted(writes)],
    )


def simulate_transaction(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """Run the call without writing: return value, auth entries, footprint, fee."""
    call = decode_call(decode_envelope(params.get("transaction")))
    mode = params.get("authMode")
    if mode not in (None, "enforce", "record", "record_allow_nonroot"):
        raise RpcError(INVALID_PARAMS, "authMode must be enforce, record or record_allow_nonroot")
    latest, _ = ledger.latest()
    enforce = mode == "enforce" or (mode is None and bool(call.auth))
    authorized: frozenset[str] | None = None
    if enforce:
        # Which addresses the entries authorise (signatures are checked on send only).
        authorized = frozenset(
            call.source
            if e.credentials.type == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT
            else _entry_address(e)
            for e in call.auth
        )
    try:
        contract, args = call.engine(ledger)
        result, host, _ = ledger.simulate(contract, call.function, args, authorized=authorized)
        value = encode_result(contract, call.function, result, args=args)
    except HostFailure as e:
        return {"error": str(e), "latestLedger": latest}
    except ContractError as e:
        return {"error": _host_error(e), "events": [], "latestLedger": latest}
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
    return {
        "transactionData": data.to_xdr(),
        "minResourceFee": str(fee),
        "events": diagnostic(events),
        "results": [{"auth": [b64(a) for a in auth], "xdr": value.to_xdr()}],
        "cost": {"cpuInsns": "1000000", "memBytes": "1000000"},
        "latestLedger": latest,
    }


def _entry_address(entry: xdr.SorobanAuthorizationEntry) -> str:
    from stellar_sdk import Address

    creds = entry.credentials.address or entry.credentials.address_v2
    if creds is None:
        return ""
    return Address.from_xdr_sc_address(creds.address).address


def _pending(ledger: RpcLedger, pending: Any) -> Any:
    from ..chain import ContractEvent

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


def _refuse(call: Call, code: xdr.TransactionResultCode, latest: int, close: int) -> dict[str, Any]:
    return {
        "status": "ERROR",
        "hash": call.envelope.hash_hex(),
        "errorResultXdr": refused_result(code).to_xdr(),
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
    }


def _signatures_ok(call: Call) -> xdr.TransactionResultCode | None:
    digest = call.envelope.hash()
    key = Keypair.from_public_key(call.source)
    valid = 0
    for sig in call.envelope.signatures:
        try:
            if sig.signature_hint != key.signature_hint():
                raise ValueError
            key.verify(digest, sig.signature)
            valid += 1
        except Exception:
            return (
                xdr.TransactionResultCode.txBAD_AUTH_EXTRA
                if valid
                else xdr.TransactionResultCode.txBAD_AUTH
            )
    return None if valid == 1 else xdr.TransactionResultCode.txBAD_AUTH


def _busy(call: Call, latest: int, close: int) -> dict[str, Any]:
    return {
        "status": "TRY_AGAIN_LATER",
        "hash": call.envelope.hash_hex(),
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
    }


def _admit(ledger: RpcLedger, call: Call) -> xdr.TransactionResultCode | None:
    """Why the network refuses the envelope before running it, or ``None``."""
    tx = call.envelope.transaction
    _, close = ledger.latest()
    account = ledger.account(call.source)
    if account is None:
        return xdr.TransactionResultCode.txNO_ACCOUNT
    bad_auth = _signatures_ok(call)
    if bad_auth is not None:
        return bad_auth
    if tx.sequence != account.sequence + 1:
        return xdr.TransactionResultCode.txBAD_SEQ
    bounds = tx.preconditions.time_bounds if tx.preconditions else None
    if bounds is not None and bounds.min_time and close < bounds.min_time:
        return xdr.TransactionResultCode.txTOO_EARLY
    if bounds is not None and bounds.max_time and close > bounds.max_time:
        return xdr.TransactionResultCode.txTOO_LATE
    data = tx.soroban_data
    if data is None:
        return xdr.TransactionResultCode.txSOROBAN_INVALID
    fp = data.resources.footprint
    needed = min_resource_fee(len(fp.read_only), len(fp.read_write))
    if data.resource_fee.int64 < needed or tx.fee < data.resource_fee.int64 + BASE_FEE:
        return xdr.TransactionResultCode.txINSUFFICIENT_FEE
    if account.balance < tx.fee:
        return xdr.TransactionResultCode.txINSUFFICIENT_BALANCE
    return None


def send_transaction(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """Check the envelope as the network does, then apply it in a new ledger (or, when a
    test congested the endpoint, answer ``TRY_AGAIN_LATER`` or queue it: see
    :mod:`._congestion`)."""
    call = decode_call(decode_envelope(params.get("transaction")))
    tx_hash = call.envelope.hash_hex()
    latest, close = ledger.latest()
    node = congestion(ledger.gateway)
    if ledger.transaction_record(tx_hash) is not None or node.queued(tx_hash):
        return {
            "status": "DUPLICATE",
            "hash": tx_hash,
            "latestLedger": latest,
            "latestLedgerCloseTime": str(close),
        }
    if node.take_busy() or node.source_queued(call.source):
        return _busy(call, latest, close)
    refused = _admit(ledger, call)
    if refused is not None:
        return _refuse(call, refused, latest, close)
    data = call.envelope.transaction.soroban_data
    assert data is not None  # _admit refuses an envelope without it
    fp = data.resources.footprint

    def apply_later() -> bool:
        # A queued transaction is checked again when its ledger closes, as core does.
        if _admit(ledger, call) is not None:
            return False
        _apply(ledger, call, tx_hash, fp)
        return True

    if not node.offer(Held(tx_hash, call.source, apply_later)):
        _apply(ledger, call, tx_hash, fp)
    latest, close = ledger.latest()
    return {
        "status": "PENDING",
        "hash": tx_hash,
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
    }


def _apply(ledger: RpcLedger, call: Call, tx_hash: str, fp: xdr.LedgerFootprint) -> None:
    tx = call.envelope.transaction
    allowed_rw = {k.to_xdr() for k in fp.read_write}
    allowed = allowed_rw | {k.to_xdr() for k in fp.read_only}

    def within_footprint(host: AuthHost) -> None:
        for c, k in host.reads | {(c, "") for c in host.called}:
            if footprint_key(ledger, c, k).to_xdr() not in allowed:
                raise ContractError(c, 0, "Storage.ExceededLimit", "key outside the footprint")
        for c, k in host.writes:
            if footprint_key(ledger, c, k).to_xdr() not in allowed_rw:
                raise ContractError(c, 0, "Storage.ExceededLimit", "write outside the footprint")

    with ledger.transaction() as t:
        current = ledger.latest(tx=t)[0] + 1
        value: xdr.SCVal | None = None
        try:
            contract, args = call.engine(ledger)
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
            result = success_result(tx.fee, value, events)
            meta = success_meta(value, events)
            status = "SUCCESS"
        except (HostFailure, AuthFailure, ContractError):
            number, created = ledger.close_ledger(t)
            events = []
            result = failed_result(
                tx.fee, xdr.InvokeHostFunctionResultCode.INVOKE_HOST_FUNCTION_TRAPPED
            )
            meta = success_meta(None, [])
            status = "FAILED"
        ledger.charge(t, call.source, tx.sequence, tx.fee, number)
        ledger.store_transaction(
            t,
            StoredTransaction(
                tx_hash,
                number,
                status,
                call.envelope.to_xdr(),
                result.to_xdr(),
                meta.to_xdr(),
                [e.to_xdr() for e in events],
                created,
            ),
        )


def get_transaction(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """A transaction applied through this endpoint: SUCCESS, FAILED or NOT_FOUND."""
    tx_hash = params.get("hash")
    if not isinstance(tx_hash, str) or len(tx_hash) != 64:
        raise RpcError(INVALID_PARAMS, "hash must be a 64-character hex string")
    latest, close = ledger.latest()
    answer: dict[str, Any] = {
        "txHash": tx_hash,
        "latestLedger": latest,
        "latestLedgerCloseTime": str(close),
        "oldestLedger": 1,
        "oldestLedgerCloseTime": str(ledger.ledger_time(1) or close),
    }
    stored = ledger.transaction_record(tx_hash.lower())
    if stored is None:
        return {"status": "NOT_FOUND", **answer}
    return {
        "status": stored.status,
        **answer,
        "applicationOrder": 1,
        "feeBump": False,
        "envelopeXdr": stored.envelope,
        "resultXdr": stored.result,
        "resultMetaXdr": stored.meta,
        "events": {"transactionEventsXdr": [], "contractEventsXdr": [stored.events]},
        "ledger": stored.ledger,
        "createdAt": str(stored.created_at),
    }
