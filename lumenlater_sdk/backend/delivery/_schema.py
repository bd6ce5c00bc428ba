"""Tables of the "delivery" component: endpoints, their secrets, the outbox and the attempt log."""

from __future__ import annotations

from ..db import Database, Migration, migrate

__all__ = ["COMPONENT", "MIGRATIONS", "install"]

COMPONENT = "delivery"

# ``seq`` gives every row a total, insertion-ordered key: ``created`` is whole
# seconds, so "newest first" pagination needs a tie-breaker.
_V1_SQLITE = """
CREATE TABLE webhook_endpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    url TEXT NOT NULL,
    enabled_events TEXT NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    livemode INTEGER NOT NULL DEFAULT 0,
    created BIGINT NOT NULL,
    failing_since BIGINT
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id, seq);
CREATE TABLE webhook_endpoint_secrets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX webhook_endpoint_secrets_endpoint ON webhook_endpoint_secrets (endpoint_id);
CREATE TABLE webhook_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    cycle_attempts INTEGER NOT NULL DEFAULT 0,
    cycle_started_ms BIGINT,
    next_attempt_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    lock_token TEXT,
    created BIGINT NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_ms);
CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint_id, status);
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    next_attempt_at BIGINT,
    created BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)
"""

_V1_POSTGRESQL = _V1_SQLITE.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")

# Fair claiming (``_fair``) walks the endpoints that have pending rows, one index seek
# each, and counts each endpoint's leased rows: the partial index holds only rows
# being sent (or left by a worker that died), so both cost nothing per backlog row.
_V2 = """
CREATE INDEX webhook_outbox_pending ON webhook_outbox (status, endpoint_id, next_attempt_ms);
CREATE INDEX webhook_outbox_leased ON webhook_outbox (endpoint_id) WHERE lock_token IS NOT NULL
"""

# What each attempt sent and got back, for the dashboard and the deliveries list: the
# signature header (the body is the event's stored payload, the other headers follow
# from the row), the answer's kept headers (a JSON object) and its body's first 2 KiB.
_V3 = """
ALTER TABLE webhook_deliveries ADD COLUMN request_signature TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN response_headers TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN response_body TEXT
"""

# An endpoint's attempt log is listed newest first by id (all of it, or one event's):
# both read along an index in that order, however long the log grew.
_V4 = """
DROP INDEX webhook_deliveries_endpoint;
CREATE INDEX webhook_deliveries_endpoint_id ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_endpoint_event ON webhook_deliveries (endpoint_id, event_id, id)
"""

# Retention (services/retention.py) deletes the attempt log's rows past their window,
# oldest first, a batch at a time: read along this index, however long the log grew.
_V5 = "CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created)"

# Fair claiming's reads (``_fair``) all name ``status = 'pending'``: an index of the
# pending rows alone stays the size of the backlog however many delivered and failed
# rows the outbox keeps (the old one held every row, and PostgreSQL, its statistics
# saying pending rows are rare, read a whole backlog to find its first endpoint). It
# still leads with status, so SQLite (no statistics) sees the same equality as in the
# old one and prefers it to webhook_outbox_due; seq completes the claim order
# (next_attempt_ms, seq), so an endpoint's rows come in that order without a sort of
# its backlog. The leased rows' index gains status for the same reason: SQLite counted
# an endpoint's leases along webhook_outbox_endpoint, reading its whole backlog.
_V6 = """
CREATE INDEX webhook_outbox_pending_due
  ON webhook_outbox (status, endpoint_id, next_attempt_ms, seq) WHERE status = 'pending';
DROP INDEX webhook_outbox_pending;
CREATE INDEX webhook_outbox_leased_status
  ON webhook_outbox (endpoint_id, status) WHERE lock_token IS NOT NULL;
DROP INDEX webhook_outbox_leased
"""

# PostgreSQL leaves out of a partial index's conditions what its predicate implies: in
# webhook_outbox_pending_due, ``status = 'pending'`` narrowed nothing, so each of a
# claim's seeks by endpoint_id (its second column) read the whole pending index:
# a claim cost O(backlog) per endpoint (483 ms with 16,670 pending rows of 20
# endpoints: delivery crawled at ~100 rows/s behind bench/history.py's fill). There
# the pending rows' index leads with endpoint_id. SQLite keeps the one that leads with
# status (it matches the equality against the column, as 6 says).
_V7_POSTGRESQL = """
CREATE INDEX webhook_outbox_pending_endpoint
  ON webhook_outbox (endpoint_id, next_attempt_ms, seq) WHERE status = 'pending';
DROP INDEX webhook_outbox_pending_due
"""

MIGRATIONS: list[Migration] = [
    Migration(1, "webhook delivery tables", _V1_SQLITE, postgresql=_V1_POSTGRESQL),
    Migration(2, "fair claiming indexes", _V2),
    Migration(3, "what each delivery attempt sent and got back", _V3),
    Migration(4, "attempt logs listed along an index", _V4),
    Migration(5, "attempt logs pruned oldest first along an index", _V5),
    Migration(6, "claims read an index of the pending rows alone", _V6),
    Migration(7, "PostgreSQL: the pending rows' index leads with endpoint_id", "", _V7_POSTGRESQL),
]
"""The component's schema steps, applied by :func:`install`."""


def install(db: Database) -> int:
    """Create or upgrade the delivery tables; return how many migrations ran."""
    return migrate(db, COMPONENT, MIGRATIONS)
