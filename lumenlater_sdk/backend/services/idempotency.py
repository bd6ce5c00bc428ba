"""Server-side idempotency (DESIGN §2): a request with an ``Idempotency-Key`` runs as
one :func:`unit` whose claim on the key, writes and stored response commit in one
transaction.

Stored responses are sealed like every secret at rest: the answer that creates a
merchant or a webhook endpoint carries its API keys or signing secret.

So a process that dies after that commit has already stored what a retry replays,
and one that dies before it (killed, a database error, a full disk, a lock
timeout) changed nothing and left nothing behind: the retry runs at once. While
the request runs, its key is held by a lock that lives exactly as long as it does
(:mod:`..store.key_locks`: an advisory lock of the request's transaction on
PostgreSQL, a lock on a file beside the database on SQLite), so a concurrent twin
on any backend process gets 409 ``idempotency_key_in_use``, and only then.

Two requests are the same when their method, path and JSON body are: key order
and whitespace do not count (:func:`fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .._json_text import canonical
from ..chain import Sealer
from ..db import Database, JoinedDatabase, Row, Tx
from ..store import idempotency as store
from ..store import key_locks
from .errors import ServiceError

__all__ = [
    "Claimed",
    "Fingerprint",
    "IdempotencyConflict",
    "Replay",
    "Unit",
    "fingerprint",
    "unit",
]

TTL = 24 * 3600

# Releases before this one committed a claim on its own before running the request;
# such a claim still "running" is taken over once it is this old (its process may
# still run it: they did not hold a lock this release can see).
STALE_AFTER = 300

_SAVEPOINT = "idempotent_request"


def _open(box: Sealer, stored: str) -> str:
    # Answers are sealed (an answer may hold a new API key or a webhook secret); rows
    # stored before answers were sealed hold the JSON itself.
    return stored if stored.startswith("{") else box.open(stored)


class IdempotencyConflict(ServiceError):
    """409 ``idempotency_key_reused`` or ``idempotency_key_in_use``."""

    kind = "idempotency"


def _in_use() -> IdempotencyConflict:
    return IdempotencyConflict(
        "A request with this Idempotency-Key is still in progress; retry shortly.",
        code="idempotency_key_in_use",
    )


def _reused() -> IdempotencyConflict:
    return IdempotencyConflict(
        "This Idempotency-Key was used with a different request.",
        code="idempotency_key_reused",
        param="Idempotency-Key",
    )


@dataclass(frozen=True)
class Replay:
    """A stored response to send again, byte for byte."""

    status_code: int
    body: bytes


@dataclass(frozen=True)
class Claimed:
    """This request owns the key (as *owner*) until its transaction ends."""

    merchant_id: str
    key: str
    owner: str


@dataclass(frozen=True)
class Fingerprint:
    """What makes two requests "the same" (:func:`fingerprint`)."""

    canonical: str
    """Method, path and the body as canonical JSON: what new claims store."""
    exact: str
    """Method, path and the exact body bytes, as releases before canonical
    fingerprints stored it, so that a retry spanning an upgrade still replays."""

    def matches(self, stored: str) -> bool:
        """Whether a stored fingerprint is this request's."""
        return stored in (self.canonical, self.exact)


def _canonical(body: bytes, parsed: Any = None) -> bytes:
    if parsed is not None:
        value = parsed
    elif not body.strip():
        return b"{}"  # the API reads no body as an empty object
    else:
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return body  # not JSON: only the same bytes are the same request
    # ASCII escapes, so that "é" and "\u00e9" (and lone surrogates) encode alike.
    return canonical(value).encode()


def fingerprint(method: str, path: str, body: bytes, *, parsed: Any = None) -> Fingerprint:
    """The request's method, path and body; a JSON body counts by its value (parsed,
    keys sorted, compact), so whitespace and key order make no difference.

    *parsed* is the body's JSON value when the caller has read it already (the API's
    strict reader accepts only bodies that plain ``json.loads`` reads to the same
    value), so it is not parsed twice."""
    head = method.encode() + b" " + path.encode() + b"\n"
    return Fingerprint(
        canonical=hashlib.sha256(head + _canonical(body, parsed)).hexdigest(),
        exact=hashlib.sha256(head + body).hexdigest(),
    )


def _answer(row: Row, fp: Fingerprint, box: Sealer) -> Replay:
    """The stored answer of a completed *row*, if it is this request's."""
    if not fp.matches(str(row["fingerprint"])):
        raise _reused()
    return Replay(int(row["status_code"]), _open(box, str(row["response"])).encode())


def _claim(
    tx: Tx, merchant_id: str, key: str, fp: Fingerprint, now: float, box: Sealer
) -> Claimed | Replay:
    """Under the key's lock: a claim inside *tx*, or the answer to replay."""
    owner = secrets.token_hex(8)
    # Not committed until the request's answer is: a request that never commits
    # leaves no claim behind. An older release's process that claims the key at this
    # moment waits for this transaction (PostgreSQL) or the write lock (SQLite).
    guard = key_locks.lock_condition(tx, merchant_id, key)
    if store.claim(tx, merchant_id, key, fp.canonical, owner, now, guard=guard):
        return Claimed(merchant_id, key, owner)  # the usual case, in one statement
    # Either the key's lock or its row was taken; asking for a lock held already is
    # granted again, so this tells the two apart.
    if not key_locks.try_lock_in(tx, merchant_id, key):
        raise _in_use()
    row = store.get(tx, merchant_id, key)
    if row is None:  # an older release's claim, released since the INSERT: retry
        raise _in_use()
    age = now - float(row["created"])
    legacy_running = row["state"] == "running"
    if age > TTL or (legacy_running and age > STALE_AFTER):
        if store.release(tx, merchant_id, key, row["owner"]) and store.claim(
            tx, merchant_id, key, fp.canonical, owner, now
        ):
            return Claimed(merchant_id, key, owner)
        raise _in_use()
    if legacy_running:
        if not fp.matches(str(row["fingerprint"])):
            raise _reused()
        raise _in_use()
    return _answer(row, fp, box)  # answered since the unlocked look


class Unit:
    """A keyed request's single write transaction, or the stored answer to replay.

    Services run against :attr:`db`, whose every ``transaction()`` joins this one;
    :meth:`complete` (or :meth:`refuse`) stores the response in it, so both commit
    or neither does.
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
        if isinstance(self.db, JoinedDatabase) and self.db.failed:
            raise RuntimeError("a step of this request failed; its writes must not commit")
        self._store(status_code, body)

    def refuse(self, status_code: int, body: bytes) -> None:
        """The request was refused (a 4xx, say): roll back everything it wrote and keep
        *body* as the key's answer, still under the key's lock, so no twin runs between."""
        assert self._tx is not None
        self._tx.rollback_to(_SAVEPOINT)
        self._store(status_code, body)

    def _store(self, status_code: int, body: bytes) -> None:
        c, tx = self.claim, self._tx
        assert c is not None and tx is not None
        sealed = self._box.seal(body.decode())
        store.complete(tx, c.merchant_id, c.key, c.owner, status_code, sealed)
        self.completed = True


@contextmanager
def unit(
    db: Database, merchant_id: str, key: str, fp: Fingerprint, now: float, *, box: Sealer
) -> Iterator[Unit]:
    """Claim *key* at wall-clock time *now* for one transaction, the request's.

    A refused claim raises :class:`IdempotencyConflict` before anything is yielded
    (``idempotency_key_in_use`` only while a live request holds the key);
    a key already answered yields a unit with :attr:`Unit.replay` set and no claim.
    Otherwise the transaction commits only once :meth:`Unit.complete` or
    :meth:`Unit.refuse` ran; if the block raises, it rolls back and the key is
    free again, with nothing stored for it.
    """
    # Held first, so that on SQLite a twin is told at once instead of queueing for
    # the write lock behind the request that holds it.
    with key_locks.held(db, merchant_id, key) as free:
        if not free:
            # Someone holds the key: a request still running, or a twin replaying its
            # answer (answers are final: a replay reads it without the lock).
            got: Claimed | Replay = _stored_answer(db, merchant_id, key, fp, now, box)
        else:
            # No look before this: a new key (the usual case) is claimed in the
            # transaction's first statement, and an answered one is found by it.
            with db.transaction() as tx:
                got = _claim(tx, merchant_id, key, fp, now, box)
                if isinstance(got, Claimed):
                    tx.savepoint(_SAVEPOINT)
                    u = Unit(tx, db, got, box)
                    yield u
                    if not u.completed:
                        raise RuntimeError("the request's writes would commit without its response")
                    return
    yield Unit(None, db, got, box)


def _stored_answer(
    db: Database, merchant_id: str, key: str, fp: Fingerprint, now: float, box: Sealer
) -> Replay:
    """The answer stored for *key*, read without its lock; 409 in use if there is none."""
    with db.reads() as tx:
        row = store.get(tx, merchant_id, key, lock=False)
    if row is None or row["state"] != "done" or now - float(row["created"]) > TTL:
        raise _in_use()
    return _answer(row, fp, box)
