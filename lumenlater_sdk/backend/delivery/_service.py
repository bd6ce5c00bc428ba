"""Webhook endpoints as the API sees them: validation and rules, no HTTP and no SQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ...types import EVENT_TYPES
from .._crypto import SecretBox
from .._ids import new_id, new_secret
from ..db import Database, Row, Tx
from ..services.errors import InvalidRequest, NotFound
from ..store import Page, PageRequest
from . import _store as store
from ._outbox import matches, requeue

__all__ = [
    "UNSET",
    "WebhookEndpointService",
    "delivery_object",
    "endpoint_object",
    "ping_target",
]

UNSET: Any = object()
"""Marks an update argument that was not given (``None`` may be a real value)."""

MAX_EXPIRE_OLD_AFTER = 7 * 86400


def _invalid(message: str, param: str, code: str = "parameter_invalid") -> InvalidRequest:
    return InvalidRequest(message, code=code, param=param)


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise _invalid("url must be a non-empty string", "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid("url must be an absolute http:// or https:// URL", "url")
    if len(url) > 2048:
        raise _invalid("url must be at most 2048 characters", "url")
    return url


def _check_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise _invalid("enabled_events must be a non-empty list of event types", "enabled_events")
    if events == ["*"]:
        return ["*"]
    for e in events:
        if e not in EVENT_TYPES:
            raise _invalid(
                f"unknown event type {e!r} in enabled_events (use '*' or one of: "
                + ", ".join(EVENT_TYPES)
                + ")",
                "enabled_events",
            )
    return list(dict.fromkeys(events))


def _check_description(description: Any) -> str | None:
    if description is not None and (not isinstance(description, str) or len(description) > 5000):
        raise _invalid("description must be a string of at most 5000 characters", "description")
    return description


def _check_metadata(metadata: Any, base: Mapping[str, str] | None = None) -> dict[str, str]:
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise _invalid("metadata must be an object of string keys and values", "metadata")
    merged = dict(base or {})
    for k, v in metadata.items():
        if not isinstance(k, str) or not 1 <= len(k) <= 40:
            raise _invalid("metadata keys must be strings of 1 to 40 characters", "metadata")
        if v == "" and base is not None:
            merged.pop(k, None)  # on update an empty value removes the key
            continue
        if not isinstance(v, str) or len(v) > 500:
            raise _invalid("metadata values must be strings of at most 500 characters", "metadata")
        merged[k] = v
    if len(merged) > 50:
        raise _invalid("metadata may have at most 50 keys", "metadata")
    return merged


def endpoint_object(row: Row, secret: str | None = None) -> dict[str, Any]:
    """The API object of an endpoint row; *secret* only on create and rotate."""
    obj: dict[str, Any] = {
        "id": row["id"],
        "object": "webhook_endpoint",
        "created": int(row["created"]),
        "livemode": bool(row["livemode"]),
        "metadata": json.loads(row["metadata"]),
        "url": row["url"],
        "enabled_events": json.loads(row["enabled_events"]),
        "description": row["description"],
        "status": row["status"],
        "disabled_reason": row["disabled_reason"],
    }
    if secret is not None:
        obj["secret"] = secret
    return obj


def ping_target(tx: Tx, merchant_id: str) -> dict[str, Any]:
    """The endpoint a ``webhook_endpoint.ping`` is about: the newest enabled one.

    Raises :class:`InvalidRequest` (400) when the merchant has none to ping.
    """
    row = store.latest_enabled_endpoint(tx, merchant_id)
    if row is None:
        raise InvalidRequest(
            "Cannot trigger 'webhook_endpoint.ping': this account has no enabled webhook"
            " endpoint. Create one (POST /v1/webhook_endpoints) or enable one first.",
            code="webhook_endpoint_missing",
            param="type",
        )
    return endpoint_object(row)


def delivery_object(row: Row) -> dict[str, Any]:
    """The API object of one attempt-log row."""
    return {
        "id": row["id"],
        "object": "webhook_delivery",
        "event": row["event_id"],
        "endpoint": row["endpoint_id"],
        "attempt": int(row["attempt"]),
        "status_code": row["status_code"],
        "error": row["error"],
        "duration_ms": int(row["duration_ms"]),
        "next_attempt_at": row["next_attempt_at"],
        "created": int(row["created"]),
    }


class WebhookEndpointService:
    """Create, read, update, delete and rotate webhook endpoints; list attempts; resend events.

    Every method is scoped to *merchant_id*: another merchant's id is :class:`NotFound`.
    Signing secrets are sealed with *secret_key* (the backend's ``secret_key``).
    """

    def __init__(
        self,
        db: Database,
        *,
        secret_key: str | bytes | None = None,
        box: SecretBox | None = None,
        clock: Callable[[], float] = time.time,
        livemode: bool = False,
    ) -> None:
        if box is None:
            if secret_key is None:
                raise TypeError("pass secret_key or box")
            box = SecretBox(secret_key)
        self.db = db
        self._box = box
        self._clock = clock
        self._livemode = livemode

    def _load(self, tx: Any, merchant_id: str, endpoint_id: str, *, lock: bool = False) -> Row:
        row = store.get_endpoint(tx, merchant_id, endpoint_id, lock=lock)
        if row is None:
            raise NotFound(f"No such webhook endpoint: '{endpoint_id}'", param="id")
        return row

    def create(
        self,
        merchant_id: str,
        *,
        url: Any,
        enabled_events: Any,
        description: Any = None,
        metadata: Any = None,
    ) -> dict[str, Any]:
        """A new enabled endpoint; the returned object carries its ``secret`` (only now)."""
        now = int(self._clock())
        row: Row = {
            "id": new_id("we"),
            "merchant_id": merchant_id,
            "url": _check_url(url),
            "enabled_events": json.dumps(_check_events(enabled_events)),
            "description": _check_description(description),
            "metadata": json.dumps(_check_metadata(metadata)),
            "status": "enabled",
            "disabled_reason": None,
            "livemode": int(self._livemode),
            "created": now,
            "failing_since": None,
        }
        secret = new_secret("whsec", 32)
        with self.db.transaction() as tx:
            store.insert_endpoint(tx, row)
            store.insert_secret(tx, row["id"], self._box.seal(secret), now)
        return endpoint_object(row, secret)

    def retrieve(self, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
        """One endpoint (without its secret)."""
        with self.db.transaction(write=False) as tx:
            return endpoint_object(self._load(tx, merchant_id, endpoint_id))

    def list_endpoints(self, merchant_id: str, page: PageRequest) -> Page:
        """The merchant's endpoints, newest first, as API objects."""
        with self.db.transaction(write=False) as tx:
            result = store.list_endpoints(tx, merchant_id, page)
        return Page([endpoint_object(r) for r in result.rows], result.has_more)

    def update(
        self,
        merchant_id: str,
        endpoint_id: str,
        *,
        url: Any = UNSET,
        enabled_events: Any = UNSET,
        disabled: Any = UNSET,
        description: Any = UNSET,
        metadata: Any = UNSET,
    ) -> dict[str, Any]:
        """Change an endpoint. ``disabled=True`` stops deliveries; ``False`` resumes them."""
        changes: dict[str, Any] = {}
        if url is not UNSET:
            changes["url"] = _check_url(url)
        if enabled_events is not UNSET:
            changes["enabled_events"] = json.dumps(_check_events(enabled_events))
        if description is not UNSET:
            changes["description"] = _check_description(description)
        if disabled is not UNSET and not isinstance(disabled, bool):
            raise _invalid("disabled must be true or false", "disabled")
        with self.db.transaction() as tx:
            row = self._load(tx, merchant_id, endpoint_id, lock=True)
            if metadata is not UNSET:
                changes["metadata"] = json.dumps(
                    _check_metadata(metadata, base=json.loads(row["metadata"]))
                )
            store.update_endpoint(tx, endpoint_id, changes)
            if disabled is True and row["status"] != "disabled":
                store.disable_endpoint(tx, endpoint_id, None)
            elif disabled is False and row["status"] != "enabled":
                store.update_endpoint(
                    tx,
                    endpoint_id,
                    {"status": "enabled", "disabled_reason": None, "failing_since": None},
                )
            row = self._load(tx, merchant_id, endpoint_id)
        return endpoint_object(row)

    def delete(self, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
        """Remove an endpoint; nothing more is delivered to it."""
        with self.db.transaction() as tx:
            self._load(tx, merchant_id, endpoint_id, lock=True)
            store.delete_endpoint(tx, endpoint_id)
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}

    def rotate_secret(
        self, merchant_id: str, endpoint_id: str, *, expire_old_after: Any = 86400
    ) -> dict[str, Any]:
        """A new secret; the old one(s) stay valid (signed alongside) for *expire_old_after* s."""
        if (
            isinstance(expire_old_after, bool)
            or not isinstance(expire_old_after, int)
            or not 0 <= expire_old_after <= MAX_EXPIRE_OLD_AFTER
        ):
            raise _invalid(
                f"expire_old_after must be an integer from 0 to {MAX_EXPIRE_OLD_AFTER} seconds",
                "expire_old_after",
            )
        now = int(self._clock())
        secret = new_secret("whsec", 32)
        with self.db.transaction() as tx:
            row = self._load(tx, merchant_id, endpoint_id, lock=True)
            store.expire_secrets(tx, endpoint_id, at=now + expire_old_after, now=now)
            store.insert_secret(tx, endpoint_id, self._box.seal(secret), now)
        return endpoint_object(row, secret)

    def active_secrets(self, merchant_id: str, endpoint_id: str) -> list[str]:
        """The plaintext secrets deliveries are signed with now, newest first (for tests/CLI)."""
        with self.db.transaction(write=False) as tx:
            self._load(tx, merchant_id, endpoint_id)
            rows = store.active_secrets(tx, endpoint_id, int(self._clock()))
        return [self._box.open(r["ciphertext"]) for r in rows]

    def list_deliveries(
        self, merchant_id: str, endpoint_id: str, page: PageRequest, *, event: str | None = None
    ) -> Page:
        """The endpoint's attempt log, newest first, as API objects."""
        with self.db.transaction(write=False) as tx:
            self._load(tx, merchant_id, endpoint_id)
            result = store.list_deliveries(tx, endpoint_id, page, event)
        return Page([delivery_object(r) for r in result.rows], result.has_more)

    def resend(self, merchant_id: str, event_id: str, *, endpoint: Any = None) -> int:
        """Queue the event again for *endpoint*, or for every enabled endpoint that wants it.

        Returns how many deliveries were queued. A disabled endpoint named
        explicitly is refused: enable it first.
        """
        if endpoint is not None and not isinstance(endpoint, str):
            raise _invalid("endpoint must be a webhook endpoint id", "endpoint")
        now = self._clock()
        with self.db.transaction() as tx:
            ev = store.event_exists(tx, merchant_id, event_id)
            if ev is None:
                raise NotFound(f"No such event: '{event_id}'", param="id")
            if endpoint is not None:
                row = self._load(tx, merchant_id, endpoint)
                if row["status"] != "enabled":
                    raise _invalid(
                        f"webhook endpoint {endpoint} is disabled; enable it to resend",
                        "endpoint",
                        code="webhook_endpoint_disabled",
                    )
                targets = [endpoint]
            else:
                targets = [
                    r["id"]
                    for r in store.merchant_endpoint_ids(tx, merchant_id)
                    if matches(json.loads(r["enabled_events"]), ev["type"])
                ]
            return requeue(
                tx, event_id=event_id, endpoint_ids=targets, merchant_id=merchant_id, now=now
            )
