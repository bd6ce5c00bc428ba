"""API keys: issuing, authenticating, listing, showing again, rolling and revoking.

Every key is stored by its hash. A test key is also sealed with ``ctx.box`` so that it
can be shown again (``reveal``); a live key is never kept in a form that opens, so it
is shown once, when it is made. Times are the backend's wall clock
(``ctx.config.clock``), not ledger time: moving the sandbox clock never expires a key.

Every function is scoped to *merchant_id*: another merchant's key is
:class:`~.errors.NotFound`. Key changes of one merchant are serialised on its row, so
two revocations at once cannot leave it without a working secret key.
"""

from __future__ import annotations

import hmac
from typing import Any

from .._crypto import hash_key
from .._ids import new_id, new_secret
from ..db import Row, Tx
from ..paging import PageRequest
from ..store import api_keys as key_store
from ..store import merchants as merchant_store
from .context import Principal, ServiceContext
from .errors import Conflict, InvalidRequest, NotFound, ServiceError
from .validation import text_problem

__all__ = [
    "KEY_TYPES",
    "MAX_EXPIRES_IN",
    "MAX_NAME_LENGTH",
    "KeyRefused",
    "api_key_object",
    "authenticate",
    "create_key",
    "expired_message",
    "issue_key",
    "key_status",
    "list_keys",
    "merchant_keys",
    "retrieve_key",
    "revoke_key",
    "roll_key",
]

KEY_TYPES = ("secret", "publishable")
MAX_NAME_LENGTH = 100
MAX_EXPIRES_IN = 7 * 86400
"""The longest a rolled key keeps working beside its successor (seconds)."""
_PREFIX = {"secret": "sk", "publishable": "pk"}


class KeyRefused(ServiceError):
    """401: a key of this backend that no longer works (``api_key_expired``,
    ``api_key_revoked``)."""

    kind = "authentication"


def _now(ctx: ServiceContext) -> int:
    return int(ctx.config.clock())


def key_status(row: Row, now: int) -> str:
    """``active``, ``expiring`` (rolled, still working until ``expires_at``),
    ``expired`` or ``revoked``."""
    if row["revoked_at"] is not None:
        return "revoked"
    expires_at = row["expires_at"]
    if expires_at is None:
        return "active"
    return "expired" if int(expires_at) <= now else "expiring"


def api_key_object(row: Row, now: int, secret: str | None = None) -> dict[str, Any]:
    """A key as the API shows it; ``secret`` only when given (made now, or revealed)."""
    obj: dict[str, Any] = {
        "id": row["id"],
        "object": "api_key",
        "type": row["kind"],
        "livemode": bool(row["livemode"]),
        "name": row["name"],
        "hint": str(row["hint"])[-4:],
        "created": int(row["created"]),
        "expires_at": None if row["expires_at"] is None else int(row["expires_at"]),
        "revoked_at": None if row["revoked_at"] is None else int(row["revoked_at"]),
        "status": key_status(row, now),
    }
    if secret is not None:
        obj["secret"] = secret
    return obj


def issue_key(
    ctx: ServiceContext,
    tx: Tx,
    merchant_id: str,
    *,
    kind: str,
    livemode: bool,
    now: int,
    name: str | None = None,
) -> tuple[Row, str]:
    """A new key of the merchant, stored in *tx*: its row and the key itself (test keys
    are sealed beside the hash; live keys are kept as the hash alone)."""
    key = new_secret(f"{_PREFIX[kind]}_{'live' if livemode else 'test'}")
    row: Row = {
        "id": new_id("key"),
        "merchant_id": merchant_id,
        "kind": kind,
        "livemode": int(livemode),
        "hint": key[:8] + "…" + key[-4:],
        "name": name,
        "created": now,
        "expires_at": None,
        "revoked_at": None,
        "sealed_key": None if livemode else ctx.box.seal(key),
    }
    key_store.insert_key(
        tx,
        key_id=row["id"],
        merchant_id=merchant_id,
        kind=kind,
        livemode=livemode,
        key_hash=hash_key(key),
        hint=row["hint"],
        created=now,
        name=name,
        sealed_key=row["sealed_key"],
    )
    return row, key


def authenticate(ctx: ServiceContext, api_key: str) -> Principal | None:
    """The principal behind *api_key*; ``None`` if it is not a key of this backend;
    :class:`KeyRefused` if it was one and was revoked or has expired."""
    if not api_key.startswith(("sk_", "pk_")) or len(api_key) > 200:
        return None
    digest = hash_key(api_key)
    with ctx.db.reads() as tx:  # one statement: PostgreSQL needs no BEGIN and COMMIT
        row = key_store.find_key(tx, digest)
    # The lookup is by hash; compare again in constant time so a collation quirk
    # or truncation in the index can never admit a different key.
    if row is None or not hmac.compare_digest(str(row["key_hash"]), digest):
        return None
    if row["revoked_at"] is not None:
        raise KeyRefused(
            "This API key was revoked; use another key of the account.", code="api_key_revoked"
        )
    expires_at = None if row["expires_at"] is None else int(row["expires_at"])
    if expires_at is not None and expires_at <= _now(ctx):
        raise KeyRefused(expired_message(expires_at), code="api_key_expired")
    return Principal(
        merchant_id=row["merchant_id"],
        kind=row["kind"],
        livemode=bool(row["livemode"]),
        key_id=row["id"],
        expires_at=expires_at,
    )


def expired_message(expires_at: int) -> str:
    """What an expired key is told."""
    return f"This API key expired at {expires_at} (it was rolled); use the key that replaced it."


def _name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(
            f"name must be a string of at most {MAX_NAME_LENGTH} characters",
            code="parameter_invalid",
            param="name",
        )
    problem = text_problem(name)
    if problem:
        raise InvalidRequest(f"Invalid name: {problem}", code="parameter_invalid", param="name")
    return name


def _load(tx: Tx, merchant_id: str, key_id: str, *, lock: bool = False) -> Row:
    row = key_store.get_key(tx, merchant_id, key_id, lock=lock)
    if row is None:
        raise NotFound(f"No such API key: '{key_id}'", param="id")
    return row


def _lock_merchant(tx: Tx, merchant_id: str) -> None:
    # One key change of a merchant at a time: the "last secret key" rule reads them all.
    if merchant_store.get_merchant(tx, merchant_id, lock=True) is None:
        raise NotFound("No such account")


def create_key(
    ctx: ServiceContext, merchant_id: str, *, type: Any, name: Any = None, livemode: bool
) -> dict[str, Any]:
    """``POST /v1/api_keys``: a new key of *type*; the answer carries the key (``secret``)."""
    if type not in KEY_TYPES:
        raise InvalidRequest(
            "type must be 'secret' or 'publishable'", code="parameter_invalid", param="type"
        )
    checked = _name(name)
    now = _now(ctx)
    with ctx.db.transaction() as tx:
        _lock_merchant(tx, merchant_id)
        row, key = issue_key(
            ctx, tx, merchant_id, kind=type, livemode=livemode, now=now, name=checked
        )
    return api_key_object(row, now, key)


def list_keys(
    ctx: ServiceContext, merchant_id: str, page: PageRequest
) -> tuple[list[dict[str, Any]], bool]:
    """The merchant's keys (all of them, revoked and expired included), newest first."""
    now = _now(ctx)
    with ctx.db.transaction(write=False) as tx:
        result = key_store.list_keys(tx, merchant_id, page)
    return [api_key_object(r, now) for r in result.rows], result.has_more


def retrieve_key(
    ctx: ServiceContext, merchant_id: str, key_id: str, *, reveal: bool = False
) -> dict[str, Any]:
    """One key; with *reveal*, a test key together with the key itself.

    A live key is refused (``api_key_not_revealable``): it is kept as a hash only. So is
    a revoked key (its sealed copy is erased) and a test key made before keys were kept
    sealed (roll it to get one that can be shown again).
    """
    now = _now(ctx)
    with ctx.db.transaction(write=False) as tx:
        row = _load(tx, merchant_id, key_id)
    if not reveal:
        return api_key_object(row, now)
    if row["livemode"]:
        reason = "live keys are stored as a hash only and are shown once, when made"
    elif row["revoked_at"] is not None:
        reason = "the key was revoked"
    elif row["sealed_key"] is None:
        reason = "the key was made before test keys were kept; roll it for one that can be"
    else:
        return api_key_object(row, now, ctx.box.open(str(row["sealed_key"])))
    raise InvalidRequest(
        f"API key {key_id} cannot be shown again: {reason}.",
        code="api_key_not_revealable",
        param="reveal",
    )


def roll_key(
    ctx: ServiceContext, merchant_id: str, key_id: str, *, expires_in: Any = 0
) -> dict[str, Any]:
    """``POST /v1/api_keys/{id}/roll``: a new key of the same type and name; the old one
    keeps working for *expires_in* seconds (0: it stops now). The answer is the new key,
    with its ``secret``. Only an ``active`` key can be rolled."""
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not 0 <= expires_in <= MAX_EXPIRES_IN
    ):
        raise InvalidRequest(
            f"expires_in must be an integer from 0 to {MAX_EXPIRES_IN} seconds",
            code="parameter_invalid",
            param="expires_in",
        )
    now = _now(ctx)
    with ctx.db.transaction() as tx:
        _lock_merchant(tx, merchant_id)
        old = _load(tx, merchant_id, key_id, lock=True)
        status = key_status(old, now)
        if status != "active":
            raise Conflict(
                f"API key {key_id} is {status}; only an active key can be rolled.",
                code="api_key_inactive",
                param="id",
            )
        key_store.set_expiry(tx, key_id, now + expires_in)
        row, key = issue_key(
            ctx,
            tx,
            merchant_id,
            kind=str(old["kind"]),
            livemode=bool(old["livemode"]),
            now=now,
            name=old["name"],
        )
    ctx.key_epoch.bump()
    return api_key_object(row, now, key)


def revoke_key(ctx: ServiceContext, merchant_id: str, key_id: str) -> dict[str, Any]:
    """``POST /v1/api_keys/{id}/revoke``: the key stops working now, for good.

    Revoking the key of the request itself is allowed (its answer still arrives; the
    next request with it is refused). Revoking a key already revoked answers it as it
    is. The merchant's last secret key that is neither revoked nor expiring is refused
    (``last_secret_key``): without one, nobody could manage the account's keys.
    """
    now = _now(ctx)
    with ctx.db.transaction() as tx:
        _lock_merchant(tx, merchant_id)
        row = _load(tx, merchant_id, key_id, lock=True)
        if row["revoked_at"] is not None:
            return api_key_object(row, now)
        lasting = row["expires_at"] is None
        if (
            row["kind"] == "secret"
            and lasting
            and key_store.count_lasting_secret_keys(tx, merchant_id, bool(row["livemode"])) <= 1
        ):
            raise InvalidRequest(
                f"API key {key_id} is the account's last active secret key; create or roll"
                " to another secret key before revoking it.",
                code="last_secret_key",
                param="id",
            )
        key_store.revoke_key(tx, key_id, now)
        row = _load(tx, merchant_id, key_id)
    ctx.key_epoch.bump()
    return api_key_object(row, now)


def merchant_keys(
    ctx: ServiceContext, merchant_id: str, *, reveal: bool = False
) -> list[dict[str, Any]]:
    """Every key of the merchant, oldest first; with *reveal*, each test key that can be
    shown again carries its ``secret`` (for ``lumenlater keys``)."""
    now = _now(ctx)
    with ctx.db.transaction(write=False) as tx:
        rows = key_store.merchant_keys(tx, merchant_id)
    out = []
    for row in rows:
        secret = None
        if reveal and not row["livemode"] and row["sealed_key"] is not None:
            secret = ctx.box.open(str(row["sealed_key"]))
        out.append(api_key_object(row, now, secret))
    return out
