"""Server-side idempotency (DESIGN §2): a request with an ``Idempotency-Key`` runs as
one :func:`unit` whose writes and stored response commit in one transaction.

Stored responses are sealed like every secret at rest: the answer that creates a
merchant or a webhook endpoint carries its API keys or signing secret.

So a process that dies after that commit has already stored what a retry replays,
and one that dies before it changed nothing. The key is *claimed* first, in a
short transaction of its own, so that a concurrent twin sees the claim and gets
409 ``idempotency_key_in_use``; a claim left by a dead process is taken over after
:data:`STALE_AFTER`, and the owner token on each claim keeps a slow original from
committing after that.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..chain import Sealer
from ..db import Database, JoinedDatabase, Tx
from ..store import idempotency as store
from .errors import ServiceError

__all__ = [
    "Claimed",
    "IdempotencyConflict",
    "Replay",
    "Unit",
    "begin",
    "fingerprint",
    "finish",
    "unit",
]

TTL = 24 * 3600


def _open(box: Sealer, stored: str) -> str:
    # Answers are sealed (an answer may hold a new API key or a webhook secret); rows
    # stored before answers were sealed hold the JSON itself.
    return stored if stored.startswith("{") else box.open(stored)


# A claim older than this is from a process that died mid-request; take it over.
STALE_AFTER = 300


class IdempotencyConflict(ServiceError):
    """409 ``idempotency_key_reused`` or ``idempotency_key_in_use``."""

    kind = "idempotency"


def _in_use() -> IdempotencyConflict:
    return IdempotencyConflict(
        "A request with this Idempotency-Key is still in progress; retry shortly.",
        code="idempotency_key_in_use",
    )


@dataclass(frozen=True)
class Replay:
    """A stored response to send again."""

    status_code: int
    body: bytes


@dataclass(frozen=True)
class Claimed:
    """This request owns the key (as *owner*) until it completes or releases it."""

    merchant_id: str
    key: str
    owner: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the exact body."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def begin(
    db: Database, merchant_id: str, key: str, fp: str, now: float, *, box: Sealer
) -> Claimed | Replay:
    """Claim *key* at wall-clock time *now* in a transaction of its own, or say why the
    request must not run. A stored answer is opened with *box*."""
    owner = secrets.token_hex(8)
    with db.transaction() as tx:
        if store.claim(tx, merchant_id, key, fp, owner, now):
            return Claimed(merchant_id, key, owner)
        row = store.get(tx, merchant_id, key)
        if row is None:
            # Released between our INSERT and SELECT (its request changed nothing): a
            # moment's race, and the client retries `in_use`, whose retry claims it.
            raise _in_use()
        expired = now - float(row["created"]) > TTL
        stale = row["state"] == "running" and now - float(row["created"]) > STALE_AFTER
        if expired or stale:
            # Compare-and-delete on the row we judged: with the row lock only one
            # contender gets here, and without it the owner check still lets only one win.
            if store.release(tx, merchant_id, key, str(row["owner"])) and store.claim(
                tx, merchant_id, key, fp, owner, now
            ):
                return Claimed(merchant_id, key, owner)
            raise _in_use()
        if row["fingerprint"] != fp:
            raise IdempotencyConflict(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
                param="Idempotency-Key",
            )
        if row["state"] == "running":
            raise _in_use()
        return Replay(int(row["status_code"]), _open(box, str(row["response"])).encode())


class Unit:
    """A keyed request's single write transaction, or the stored answer to replay.

    Services run against :attr:`db`, whose every ``transaction()`` joins this one;
    :meth:`complete` stores the response in it, so both commit or neither does.
    """

    def __init__(self, tx: Tx | None, db: Database, got: Claimed | Replay, box: Sealer) -> None:
        self.replay = got if isinstance(got, Replay) else None
        self._box = box
        self.claim = got if isinstance(got, Claimed) else None
        self.db = JoinedDatabase(tx, db) if tx is not None else db
        self.completed = False
        self._tx = tx

    def complete(self, status_code: int, body: bytes) -> None:
        """Record *body* as the answer to the key, inside the unit's transaction."""
        c, tx = self.claim, self._tx
        assert c is not None and tx is not None and isinstance(self.db, JoinedDatabase)
        if self.db.failed:
            raise RuntimeError("a step of this request failed; its writes must not commit")
        sealed = self._box.seal(body.decode())
        if not store.complete(tx, c.merchant_id, c.key, c.owner, status_code, sealed):
            # Our claim was taken over as stale: the new owner's run is the one that counts.
            raise _in_use()
        self.completed = True


@contextmanager
def unit(
    db: Database, merchant_id: str, key: str, fp: str, now: float, *, box: Sealer
) -> Iterator[Unit]:
    """Claim *key* at wall-clock time *now*, then open the request's transaction.

    A refused claim raises :class:`IdempotencyConflict` before anything is yielded;
    a key already answered yields a unit with :attr:`Unit.replay` set and no
    transaction. Otherwise the transaction commits only once :meth:`Unit.complete`
    ran; if the block raises, it rolls back and the caller should :func:`finish`.
    """
    got = begin(db, merchant_id, key, fp, now, box=box)
    if isinstance(got, Replay):
        yield Unit(None, db, got, box)
        return
    with db.transaction() as tx:
        u = Unit(tx, db, got, box)
        yield u
        if not u.completed:
            raise RuntimeError("the request's writes would commit without its response")


def finish(
    db: Database,
    claim: Claimed,
    status_code: int,
    body: bytes,
    *,
    store_it: bool,
    box: Sealer,
) -> None:
    """After a request whose writes were rolled back: store its answer (sealed with
    *box*), or free the key (either only while *claim* still holds it)."""
    with db.transaction() as tx:
        c = claim
        if store_it:
            sealed = box.seal(body.decode())
            store.complete(tx, c.merchant_id, c.key, c.owner, status_code, sealed)
        else:
            store.release_owned(tx, c.merchant_id, c.key, c.owner)
