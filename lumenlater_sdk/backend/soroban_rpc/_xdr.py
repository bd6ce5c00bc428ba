"""XDR the endpoint answers with about its ledgers (headers, close metas, hashes); events,
transaction results and metas are the local ledger's own (``chain.local``)."""

from __future__ import annotations

import hashlib

from stellar_sdk import xdr

from ..chain.local import BASE_FEE

__all__ = [
    "PROTOCOL_VERSION",
    "ledger_close_meta",
    "ledger_hash",
    "ledger_header",
]

PROTOCOL_VERSION = 22
"""The protocol the endpoint speaks: transaction metas are v3 (v4 came with 23)."""

BASE_RESERVE = 5_000_000


def ledger_hash(sequence: int) -> bytes:
    """A stable 32-byte id for a ledger of this sandbox."""
    return hashlib.sha256(f"lumenlater sandbox ledger {sequence}".encode()).digest()


def ledger_header(sequence: int, close_time: int) -> xdr.LedgerHeaderHistoryEntry:
    """The ledger's header (hash-chained by :func:`ledger_hash`; bucket hashes are zero)."""
    zero = xdr.Hash(bytes(32))
    header = xdr.LedgerHeader(
        ledger_version=xdr.Uint32(PROTOCOL_VERSION),
        previous_ledger_hash=xdr.Hash(ledger_hash(sequence - 1)),
        scp_value=xdr.StellarValue(
            tx_set_hash=zero,
            close_time=xdr.TimePoint(xdr.Uint64(close_time)),
            upgrades=[],
            ext=xdr.StellarValueExt(xdr.StellarValueType.STELLAR_VALUE_BASIC),
        ),
        tx_set_result_hash=zero,
        bucket_list_hash=zero,
        ledger_seq=xdr.Uint32(sequence),
        total_coins=xdr.Int64(1_000_000_000_000_000_000),
        fee_pool=xdr.Int64(0),
        inflation_seq=xdr.Uint32(0),
        id_pool=xdr.Uint64(0),
        base_fee=xdr.Uint32(BASE_FEE),
        base_reserve=xdr.Uint32(BASE_RESERVE),
        max_tx_set_size=xdr.Uint32(100),
        skip_list=[zero, zero, zero, zero],
        ext=xdr.LedgerHeaderExt(0),
    )
    return xdr.LedgerHeaderHistoryEntry(
        xdr.Hash(ledger_hash(sequence)), header, xdr.LedgerHeaderHistoryEntryExt(0)
    )


def ledger_close_meta(sequence: int, close_time: int) -> xdr.LedgerCloseMeta:
    """``LedgerCloseMeta`` v0 of the ledger: its header and an empty transaction set."""
    return xdr.LedgerCloseMeta(
        0,
        v0=xdr.LedgerCloseMetaV0(
            ledger_header=ledger_header(sequence, close_time),
            tx_set=xdr.TransactionSet(xdr.Hash(ledger_hash(sequence - 1)), []),
            tx_processing=[],
            upgrades_processing=[],
            scp_info=[],
        ),
    )
