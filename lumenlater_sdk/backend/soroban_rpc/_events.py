"""``getEvents``: the contracts' events with Stellar's ids, filters and cursor paging."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from stellar_sdk import StrKey

from ..chain.local import LedgerEvent, RpcLedger, contract_event
from ._jsonrpc import INVALID_PARAMS, RpcError

__all__ = ["event_id", "get_events"]

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
TX_ORDER = 1  # one transaction per sandbox ledger
OP_INDEX = 0


def _toid(ledger: int, tx_order: int, op: int) -> int:
    return (ledger << 32) | (tx_order << 12) | op


def _paging_token(toid: int, index: int) -> str:
    return f"{toid:019d}-{index:010d}"


def event_id(ledger: int, index: int) -> str:
    """Stellar's event id: the operation's TOID, ``-``, the event's index, zero-padded."""
    return _paging_token(_toid(ledger, TX_ORDER, OP_INDEX), index)


def _parse_cursor(cursor: Any) -> tuple[int, int]:
    # -> (ledger, index of the last event seen there; -1: nothing of that ledger seen yet)
    if not isinstance(cursor, str):
        raise RpcError(INVALID_PARAMS, "cursor must be a string")
    toid_text, _, index_text = cursor.partition("-")
    try:
        toid, index = int(toid_text), int(index_text or "0")
    except ValueError:
        raise RpcError(INVALID_PARAMS, "invalid cursor", cursor) from None
    if toid < 0 or index < 0:
        raise RpcError(INVALID_PARAMS, "invalid cursor", cursor)
    ledger, tx_order = toid >> 32, (toid >> 12) & 0xFFFFF
    return ledger, (index if tx_order else -1)


def _filters(raw: Any) -> list[tuple[set[str] | None, list[list[str]] | None]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 5:
        raise RpcError(INVALID_PARAMS, "filters must be a list of at most 5 filters")
    out: list[tuple[set[str] | None, list[list[str]] | None]] = []
    for f in raw:
        if not isinstance(f, dict):
            raise RpcError(INVALID_PARAMS, "a filter must be an object")
        kind = f.get("type")
        if kind not in (None, "contract", "system", "diagnostic"):
            raise RpcError(INVALID_PARAMS, "filter type must be contract, system or diagnostic")
        if kind in ("system", "diagnostic"):
            continue  # no such events are stored: the filter matches nothing
        ids = f.get("contractIds")
        if ids is not None and (
            not isinstance(ids, list)
            or not all(isinstance(i, str) and StrKey.is_valid_contract(i) for i in ids)
        ):
            raise RpcError(INVALID_PARAMS, "contractIds must be C… contract ids")
        topics = f.get("topics")
        if topics is not None and (
            not isinstance(topics, list)
            or not all(isinstance(t, list) and all(isinstance(s, str) for s in t) for t in topics)
        ):
            raise RpcError(INVALID_PARAMS, 'topics must be lists of base64 ScVals or "*"')
        out.append((set(ids) if ids else None, topics))
    if raw and not out:
        out.append((set(), None))  # only system/diagnostic filters: nothing matches
    return out


def _matches(
    filters: list[tuple[set[str] | None, list[list[str]] | None]],
    contract_id: str,
    topics: list[str],
) -> bool:
    if not filters:
        return True
    for ids, topic_filters in filters:
        if ids is not None and contract_id not in ids:
            continue
        if topic_filters is None or not topic_filters:
            return True
        for pattern in topic_filters:
            if len(pattern) == len(topics) and all(
                p in ("*", t) for p, t in zip(pattern, topics, strict=True)
            ):
                return True
    return False


def _info(found: LedgerEvent) -> dict[str, Any]:
    e = found.event
    xdr_event = contract_event(e)
    assert xdr_event.body.v0 is not None
    closed = datetime.fromtimestamp(e.timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "contract",
        "ledger": e.ledger,
        "ledgerClosedAt": closed,
        "contractId": e.contract_id,
        "id": event_id(e.ledger, found.index),
        "pagingToken": event_id(e.ledger, found.index),
        "operationIndex": OP_INDEX,
        "transactionIndex": TX_ORDER,
        "txHash": e.tx_hash,
        "inSuccessfulContractCall": True,
        "topic": [t.to_xdr() for t in xdr_event.body.v0.topics],
        "value": xdr_event.body.v0.data.to_xdr(),
    }


def get_events(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """Events from ``startLedger`` (or after ``pagination.cursor``) matching ``filters``."""
    latest, close = ledger.latest()
    pagination = params.get("pagination") or {}
    if not isinstance(pagination, dict):
        raise RpcError(INVALID_PARAMS, "pagination must be an object")
    limit = pagination.get("limit") or DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
        raise RpcError(INVALID_PARAMS, f"limit must be between 1 and {MAX_LIMIT}")
    start, end = params.get("startLedger"), params.get("endLedger")
    cursor = pagination.get("cursor")
    if cursor is not None:
        if start is not None:
            raise RpcError(INVALID_PARAMS, "startLedger and cursor cannot both be set")
        from_ledger, index = _parse_cursor(cursor)
    else:
        if isinstance(start, bool) or not isinstance(start, int) or start <= 0:
            raise RpcError(INVALID_PARAMS, "startLedger must be a positive integer")
        if start > latest:
            raise RpcError(
                INVALID_PARAMS, f"startLedger must be at most the latest ledger ({latest})"
            )
        from_ledger, index = start, -1
    if end is not None and (
        isinstance(end, bool) or not isinstance(end, int) or end <= from_ledger
    ):
        raise RpcError(INVALID_PARAMS, "endLedger must be after startLedger")
    stop = end if end is not None else latest + 1
    filters = _filters(params.get("filters"))
    events: list[dict[str, Any]] = []
    last = _paging_token(_toid(stop, 0, 0), 0)  # before every event of ledger *stop*
    for found in ledger.events_from(from_ledger, index):
        if found.event.ledger >= stop:
            break
        info = _info(found)
        if _matches(filters, info["contractId"], info["topic"]):
            events.append(info)
            if len(events) == limit:
                last = info["id"]
                break
    return {
        "events": events,
        "cursor": last,
        "latestLedger": latest,
        "oldestLedger": 1,
        "latestLedgerCloseTime": str(close),
        "oldestLedgerCloseTime": str(ledger.ledger_time(1) or close),
    }
