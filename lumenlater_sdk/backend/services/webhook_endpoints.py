"""Webhook endpoints: create, read, update, delete, rotate secrets, the attempt log, resend.

Every function is scoped to *merchant_id*: another merchant's endpoint is
:class:`~.errors.NotFound`. Signing secrets are sealed with ``ctx.box``; the
outbox they feed is the delivery engine's (:mod:`lumenlater_sdk.backend.delivery`).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from ...types import EVENT_TYPES
from .._ids import new_id, new_secret
from ..db import Row, Tx
from ..delivery import (
    AddressNotAllowed,
    cancel_pending,
    check_public_host,
    forget_endpoint,
    matches,
    requeue,
)
from ..paging import PageRequest
from ..store import events as event_store
from ..store import webhook_endpoints as endpoint_store
from .context import ServiceContext
from .errors import InvalidRequest, NotFound
from .objects import delivery_object, endpoint_object
from .validation import check_metadata, check_url, invalid_field, merge_metadata

__all__ = [
    "DEFAULT_EXPIRE_OLD_AFTER",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_EXPIRE_OLD_AFTER",
    "UNSET",
    "active_secrets",
    "create_endpoint",
    "delete_endpoint",
    "list_deliveries",
    "list_endpoints",
    "ping_target",
    "resend_event",
    "retrieve_endpoint",
    "rotate_secret",
    "update_endpoint",
]

UNSET: Any = object()
"""Marks an update argument that was not given (``None`` may be a real value)."""

MAX_EXPIRE_OLD_AFTER = 7 * 86400
"""The longest a rotated-away secret keeps signing (seconds)."""
DEFAULT_EXPIRE_OLD_AFTER = 86400
MAX_DESCRIPTION_LENGTH = 5000


def _invalid(message: str, param: str, code: str = "parameter_invalid") -> InvalidRequest:
    return InvalidRequest(message, code=code, param=param)


def _url(ctx: ServiceContext, url: Any) -> str:
    """A valid endpoint URL; in live mode also one whose host is public.

    Live mode resolves the host (blocking: services run off the event loop) and
    refuses loopback, private, link-local... addresses with ``url_not_allowed``. A
    name that does not resolve is accepted, its DNS may come later; the delivery
    worker checks the addresses again on every connection, which is what stops a
    name that changes to an internal address afterwards.
    """
    try:
        checked = check_url(url)
    except ValueError as exc:
        raise invalid_field("url", exc) from None
    if ctx.config.livemode:
        host = urlsplit(checked).hostname or ""
        try:
            check_public_host(host)
        except AddressNotAllowed as exc:
            raise _invalid(
                f"Invalid url: {exc}. Live webhooks are sent to public addresses only.",
                "url",
                code="url_not_allowed",
            ) from None
    return checked


def _events(events: Any) -> list[str]:
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


def _description(description: Any) -> str | None:
    if description is not None and (
        not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH
    ):
        raise _invalid(
            f"description must be a string of at most {MAX_DESCRIPTION_LENGTH} characters",
            "description",
        )
    return description


def _metadata(metadata: Any, base: dict[str, str] | None = None) -> dict[str, str]:
    try:
        if base is not None:
            return merge_metadata(base, metadata)
        return check_metadata({} if metadata is None else metadata)
    except ValueError as exc:
        raise invalid_field("metadata", exc) from None


def _load(tx: Tx, merchant_id: str, endpoint_id: str, *, lock: bool = False) -> Row:
    row = endpoint_store.get_endpoint(tx, merchant_id, endpoint_id, lock=lock)
    if row is None:
        raise NotFound(f"No such webhook endpoint: '{endpoint_id}'", param="id")
    return row


def _now() -> float:
    # Wall-clock time, as the delivery worker reads it (secrets expire by it), not
    # ledger time.
    return time.time()


def create_endpoint(
    ctx: ServiceContext,
    merchant_id: str,
    *,
    url: Any,
    enabled_events: Any,
    description: Any = None,
    metadata: Any = None,
    livemode: bool = False,
) -> dict[str, Any]:
    """A new enabled endpoint; the returned object carries its ``secret`` (only now)."""
    now = int(_now())
    row: Row = {
        "id": new_id("we"),
        "merchant_id": merchant_id,
        "url": _url(ctx, url),
        "enabled_events": json.dumps(_events(enabled_events)),
        "description": _description(description),
        "metadata": json.dumps(_metadata(metadata)),
        "status": "enabled",
        "disabled_reason": None,
        "livemode": int(livemode),
        "created": now,
        "failing_since": None,
    }
    secret = new_secret("whsec", 32)
    with ctx.db.transaction() as tx:
        endpoint_store.insert_endpoint(tx, row)
        endpoint_store.insert_secret(tx, row["id"], ctx.box.seal(secret), now)
    return endpoint_object(row, secret)


def retrieve_endpoint(ctx: ServiceContext, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
    """One endpoint (without its secret)."""
    with ctx.db.transaction(write=False) as tx:
        return endpoint_object(_load(tx, merchant_id, endpoint_id))


def list_endpoints(
    ctx: ServiceContext, merchant_id: str, page: PageRequest
) -> tuple[list[dict[str, Any]], bool]:
    """The merchant's endpoints, newest first."""
    with ctx.db.transaction(write=False) as tx:
        result = endpoint_store.list_endpoints(tx, merchant_id, page)
    return [endpoint_object(r) for r in result.rows], result.has_more


def update_endpoint(
    ctx: ServiceContext,
    merchant_id: str,
    endpoint_id: str,
    *,
    url: Any = UNSET,
    enabled_events: Any = UNSET,
    disabled: Any = UNSET,
    description: Any = UNSET,
    metadata: Any = UNSET,
) -> dict[str, Any]:
    """Change an endpoint. ``disabled=True`` stops deliveries; ``False`` resumes them.

    ``metadata`` is merged into the stored one; an empty value removes its key.
    """
    changes: dict[str, Any] = {}
    if url is not UNSET:
        changes["url"] = _url(ctx, url)
    if enabled_events is not UNSET:
        changes["enabled_events"] = json.dumps(_events(enabled_events))
    if description is not UNSET:
        changes["description"] = _description(description)
    if disabled is not UNSET and not isinstance(disabled, bool):
        raise _invalid("disabled must be true or false", "disabled")
    with ctx.db.transaction() as tx:
        row = _load(tx, merchant_id, endpoint_id, lock=True)
        if metadata is not UNSET:
            merged = _metadata(metadata, base=json.loads(row["metadata"]))
            changes["metadata"] = json.dumps(merged)
        if disabled is True and row["status"] != "disabled":
            changes.update(status="disabled", disabled_reason=None)
        elif disabled is False and row["status"] != "enabled":
            changes.update(status="enabled", disabled_reason=None, failing_since=None)
        endpoint_store.update_endpoint(tx, endpoint_id, changes)
        if changes.get("status") == "disabled":
            cancel_pending(tx, endpoint_id)
        row = _load(tx, merchant_id, endpoint_id)
    return endpoint_object(row)


def delete_endpoint(ctx: ServiceContext, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
    """Remove an endpoint; nothing more is delivered to it."""
    with ctx.db.transaction() as tx:
        _load(tx, merchant_id, endpoint_id, lock=True)
        endpoint_store.delete_endpoint(tx, endpoint_id)
        forget_endpoint(tx, endpoint_id)
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


def rotate_secret(
    ctx: ServiceContext,
    merchant_id: str,
    endpoint_id: str,
    *,
    expire_old_after: Any = DEFAULT_EXPIRE_OLD_AFTER,
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
    now = int(_now())
    secret = new_secret("whsec", 32)
    with ctx.db.transaction() as tx:
        row = _load(tx, merchant_id, endpoint_id, lock=True)
        endpoint_store.expire_secrets(tx, endpoint_id, at=now + expire_old_after, now=now)
        endpoint_store.insert_secret(tx, endpoint_id, ctx.box.seal(secret), now)
    return endpoint_object(row, secret)


def active_secrets(ctx: ServiceContext, merchant_id: str, endpoint_id: str) -> list[str]:
    """The plaintext secrets deliveries are signed with now, newest first (for tests/CLI)."""
    with ctx.db.transaction(write=False) as tx:
        _load(tx, merchant_id, endpoint_id)
        rows = endpoint_store.active_secrets(tx, endpoint_id, int(_now()))
    return [ctx.box.open(r["ciphertext"]) for r in rows]


def list_deliveries(
    ctx: ServiceContext,
    merchant_id: str,
    endpoint_id: str,
    page: PageRequest,
    *,
    event: str | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """The endpoint's attempt log, newest first."""
    with ctx.db.transaction(write=False) as tx:
        _load(tx, merchant_id, endpoint_id)
        result = endpoint_store.list_deliveries(tx, endpoint_id, page, event)
    return [delivery_object(r) for r in result.rows], result.has_more


def ping_target(tx: Tx, merchant_id: str) -> dict[str, Any]:
    """The endpoint a ``webhook_endpoint.ping`` is about: the newest enabled one.

    Raises :class:`~.errors.InvalidRequest` (400) when the merchant has none to ping.
    """
    row = endpoint_store.latest_enabled_endpoint(tx, merchant_id)
    if row is None:
        raise InvalidRequest(
            "Cannot trigger 'webhook_endpoint.ping': this account has no enabled webhook"
            " endpoint. Create one (POST /v1/webhook_endpoints) or enable one first.",
            code="webhook_endpoint_missing",
            param="type",
        )
    return endpoint_object(row)


def resend_event(
    ctx: ServiceContext, merchant_id: str, event_id: str, *, endpoint: Any = None
) -> int:
    """Queue the event again for *endpoint*, or for every enabled endpoint that wants it.

    Returns how many deliveries were queued. A disabled endpoint named
    explicitly is refused: enable it first.
    """
    if endpoint is not None and not isinstance(endpoint, str):
        raise _invalid("endpoint must be a webhook endpoint id", "endpoint")
    now = _now()
    with ctx.db.transaction() as tx:
        event_type = event_store.get_event_type(tx, merchant_id, event_id)
        if event_type is None:
            raise NotFound(f"No such event: '{event_id}'", param="id")
        if endpoint is not None:
            row = _load(tx, merchant_id, endpoint)
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
                for r in endpoint_store.enabled_endpoints(tx, merchant_id)
                if matches(json.loads(r["enabled_events"]), event_type)
            ]
        return requeue(
            tx, event_id=event_id, endpoint_ids=targets, merchant_id=merchant_id, now=now
        )
