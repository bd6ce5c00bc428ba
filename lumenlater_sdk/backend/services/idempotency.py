"""Server-side idempotency (DESIGN §2): claim the key first, store the response after."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from ..db import Database
from ..store import idempotency as store
from .errors import ServiceError

__all__ = ["Claimed", "IdempotencyConflict", "Replay", "begin", "fingerprint", "finish"]

TTL = 24 * 3600
# A claim older than this is from a process that died mid-request; take it over.
STALE_AFTER = 300


class IdempotencyConflict(ServiceError):
    """409 ``idempotency_key_reused`` or ``idempotency_key_in_use``."""

    kind = "idempotency"


@dataclass(frozen=True)
class Replay:
    """A stored response to send again."""

    status_code: int
    body: bytes


@dataclass(frozen=True)
class Claimed:
    """This request owns the key and must :func:`finish` it."""

    merchant_id: str
    key: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the exact body."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def begin(db: Database, merchant_id: str, key: str, fp: str) -> Claimed | Replay:
    """Claim *key* in its own transaction, or say why the request must not run."""
    now = time.time()
    with db.transaction() as tx:
        if store.claim(tx, merchant_id, key, fp, now):
            return Claimed(merchant_id, key)
        row = store.get(tx, merchant_id, key)
        if row is None:  # released between our INSERT and SELECT: try again
            if store.claim(tx, merchant_id, key, fp, now):
                return Claimed(merchant_id, key)
            raise IdempotencyConflict(
                "A request with this key is in progress.", code="idempotency_key_in_use"
            )
        expired = now - float(row["created"]) > TTL
        stale = row["state"] == "running" and now - float(row["created"]) > STALE_AFTER
        if expired or stale:
            store.release(tx, merchant_id, key)
            store.claim(tx, merchant_id, key, fp, now)
            return Claimed(merchant_id, key)
        if row["fingerprint"] != fp:
            raise IdempotencyConflict(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
                param="Idempotency-Key",
            )
        if row["state"] == "running":
            raise IdempotencyConflict(
                "A request with this Idempotency-Key is still in progress; retry shortly.",
                code="idempotency_key_in_use",
            )
        return Replay(int(row["status_code"]), str(row["response"]).encode())


def finish(db: Database, claim: Claimed, status_code: int, body: bytes, *, store_it: bool) -> None:
    """Store the response (or release the key when nothing changed and a retry may work)."""
    with db.transaction() as tx:
        if store_it:
            store.complete(tx, claim.merchant_id, claim.key, status_code, body.decode())
        else:
            store.release(tx, claim.merchant_id, claim.key)
