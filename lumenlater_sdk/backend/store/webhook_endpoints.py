"""Webhook endpoints, their signing secrets, and reading their attempt log.

The tables belong to the delivery component's schema (``delivery/_schema.py``);
the delivery engine keeps its own SQL for claiming and recording attempts.
"""

from __future__ import annotations

from typing import Any

from ..db import Row, Tx
from ..paging import Page, PageRequest
from ._pagination import fetch_page
from ._rows import update_row

__all__ = [
    "active_secrets",
    "delete_endpoint",
    "enabled_endpoints",
    "expire_secrets",
    "get_delivery",
    "get_endpoint",
    "insert_endpoint",
    "insert_secret",
    "latest_enabled_endpoint",
    "list_deliveries",
    "list_endpoints",
    "update_endpoint",
]

_COLUMNS = (
    "id, merchant_id, url, enabled_events, description, metadata, status, disabled_reason,"
    " livemode, created, failing_since"
)


def insert_endpoint(tx: Tx, row: Row) -> None:
    """Insert one endpoint row (every column of ``_COLUMNS``)."""
    names = list(row)
    tx.execute(
        f"INSERT INTO webhook_endpoints ({', '.join(names)})"
        f" VALUES ({', '.join('?' * len(names))})",
        [row[n] for n in names],
    )


def get_endpoint(tx: Tx, merchant_id: str, endpoint_id: str, *, lock: bool = False) -> Row | None:
    """One of the merchant's endpoints."""
    return tx.fetchone(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE id = ? AND merchant_id = ?"
        + (tx.for_update if lock else ""),
        (endpoint_id, merchant_id),
    )


def list_endpoints(tx: Tx, merchant_id: str, page: PageRequest) -> Page:
    """The merchant's endpoints, newest first."""
    return fetch_page(
        tx, "webhook_endpoints", ["merchant_id = ?"], [merchant_id], page, columns=_COLUMNS
    )


def latest_enabled_endpoint(tx: Tx, merchant_id: str) -> Row | None:
    """The merchant's most recently created endpoint that is enabled, or ``None``."""
    return tx.fetchone(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE merchant_id = ? AND status = 'enabled'"
        " ORDER BY seq DESC LIMIT 1",
        (merchant_id,),
    )


def enabled_endpoints(tx: Tx, merchant_id: str) -> list[Row]:
    """``id`` and ``enabled_events`` of each of the merchant's enabled endpoints."""
    return tx.fetchall(
        "SELECT id, enabled_events FROM webhook_endpoints WHERE merchant_id = ?"
        " AND status = 'enabled'",
        (merchant_id,),
    )


def update_endpoint(tx: Tx, endpoint_id: str, changes: dict[str, Any]) -> None:
    """Set the given columns of one endpoint."""
    update_row(tx, "webhook_endpoints", endpoint_id, changes)


def delete_endpoint(tx: Tx, endpoint_id: str) -> None:
    """Remove an endpoint and its secrets (the attempt log stays)."""
    tx.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
    tx.execute("DELETE FROM webhook_endpoint_secrets WHERE endpoint_id = ?", (endpoint_id,))


def insert_secret(tx: Tx, endpoint_id: str, sealed: str, now: int) -> None:
    """Store a new (encrypted) signing secret that never expires until rotated away."""
    tx.execute(
        "INSERT INTO webhook_endpoint_secrets (endpoint_id, ciphertext, created, expires_at)"
        " VALUES (?, ?, ?, NULL)",
        (endpoint_id, sealed, now),
    )


def expire_secrets(tx: Tx, endpoint_id: str, *, at: int, now: int) -> None:
    """Make every still-active secret of the endpoint expire at *at* (or earlier if it did)."""
    tx.execute(
        "UPDATE webhook_endpoint_secrets SET expires_at = ? WHERE endpoint_id = ?"
        " AND (expires_at IS NULL OR expires_at > ?)",
        (at, endpoint_id, at),
    )
    tx.execute(
        "DELETE FROM webhook_endpoint_secrets WHERE endpoint_id = ? AND expires_at <= ?",
        (endpoint_id, now - 86400),
    )


def active_secrets(tx: Tx, endpoint_id: str, now: int) -> list[Row]:
    """The endpoint's sealed secrets still in use, newest first."""
    return tx.fetchall(
        "SELECT ciphertext, expires_at FROM webhook_endpoint_secrets WHERE endpoint_id = ?"
        " AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq DESC",
        (endpoint_id, now),
    )


def list_deliveries(tx: Tx, endpoint_id: str, page: PageRequest, event_id: str | None) -> Page:
    """The attempt log of one endpoint, newest first."""
    where: list[str] = ["endpoint_id = ?"]
    params: list[Any] = [endpoint_id]
    if event_id:
        where.append("event_id = ?")
        params.append(event_id)
    return fetch_page(
        tx,
        "webhook_deliveries",
        where,
        params,
        page,
        columns="id, event_id, endpoint_id, attempt, status_code, error, duration_ms,"
        " next_attempt_at, created, request_signature, response_headers, response_body",
    )


def get_delivery(tx: Tx, endpoint_id: str, delivery_id: str) -> Row | None:
    """One attempt of the endpoint's delivery log."""
    return tx.fetchone(
        "SELECT id, event_id, endpoint_id, attempt, status_code, error, duration_ms,"
        " next_attempt_at, created, request_signature, response_headers, response_body"
        " FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?",
        (delivery_id, endpoint_id),
    )
