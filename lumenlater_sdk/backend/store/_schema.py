"""The backend's own tables (the chain engine keeps its ``chain_`` tables apart)."""

from __future__ import annotations

from ..db import Migration
from ._created_ranges import BILLS, EVENTS, SESSIONS, WIDTHS, spans_backfill, spans_table
from .rollups import BACKFILL, COUNTERS

__all__ = ["COMPONENT", "MIGRATIONS"]

COMPONENT = "backend"

_V1 = """
CREATE TABLE merchants (
  id TEXT PRIMARY KEY, business_name TEXT NOT NULL, status TEXT NOT NULL,
  seed_encrypted TEXT NOT NULL, livemode INTEGER NOT NULL, created BIGINT NOT NULL);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
  kind TEXT NOT NULL, livemode INTEGER NOT NULL, key_hash TEXT NOT NULL UNIQUE,
  hint TEXT NOT NULL, created BIGINT NOT NULL);
CREATE TABLE bills (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, bill_number BIGINT NOT NULL,
  customer TEXT NOT NULL, amount BIGINT NOT NULL, currency TEXT NOT NULL,
  status TEXT NOT NULL, order_id TEXT, description TEXT, metadata TEXT NOT NULL,
  created BIGINT NOT NULL, paid_at BIGINT, repaid_at BIGINT, liquidated_at BIGINT,
  cancelled_at BIGINT, repaid_amount BIGINT, overdue_notified INTEGER NOT NULL DEFAULT 0,
  session_id TEXT, contract_id TEXT NOT NULL, tx_hash TEXT, ledger BIGINT,
  livemode INTEGER NOT NULL);
CREATE UNIQUE INDEX bills_number ON bills (contract_id, bill_number);
CREATE INDEX bills_merchant ON bills (merchant_id, id);
CREATE TABLE checkout_sessions (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, amount BIGINT NOT NULL,
  currency TEXT NOT NULL, line_items TEXT NOT NULL, order_id TEXT, description TEXT,
  customer TEXT, bill_id TEXT, success_url TEXT NOT NULL, cancel_url TEXT NOT NULL,
  status TEXT NOT NULL, payment_status TEXT NOT NULL, client_secret TEXT NOT NULL,
  expires_at BIGINT NOT NULL, completed_at BIGINT, metadata TEXT NOT NULL,
  created BIGINT NOT NULL, livemode INTEGER NOT NULL);
CREATE INDEX sessions_merchant ON checkout_sessions (merchant_id, id);
CREATE INDEX sessions_open ON checkout_sessions (status, expires_at);
CREATE TABLE events (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, type TEXT NOT NULL,
  created BIGINT NOT NULL, livemode INTEGER NOT NULL, payload TEXT NOT NULL,
  object_id TEXT);
CREATE INDEX events_merchant ON events (merchant_id, id);
CREATE TABLE idempotency_keys (
  merchant_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL,
  state TEXT NOT NULL, status_code INTEGER, response TEXT, created DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (merchant_id, idem_key));
CREATE TABLE wallets (
  id TEXT PRIMARY KEY, merchant_id TEXT, name TEXT NOT NULL, address TEXT NOT NULL,
  seed_encrypted TEXT NOT NULL, created BIGINT NOT NULL);
CREATE TABLE backend_state (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE chain_events_seen (cursor BIGINT PRIMARY KEY)
"""

_V2 = """
CREATE TABLE ledger_lines (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, type TEXT NOT NULL, bill_id TEXT,
  amount BIGINT NOT NULL, fee BIGINT NOT NULL, net BIGINT NOT NULL,
  created BIGINT NOT NULL, tx_hash TEXT);
CREATE INDEX ledger_lines_merchant ON ledger_lines (merchant_id, id);
CREATE INDEX bills_paid ON bills (merchant_id, paid_at);
CREATE INDEX events_object ON events (object_id)
"""

# The claim's owner token fences completion: see store/idempotency.py.
_V3 = "ALTER TABLE idempotency_keys ADD COLUMN owner TEXT"

_BILL_COLUMNS = (
    "id, merchant_id, bill_number, customer, amount, currency, status, order_id,"
    " description, metadata, created, paid_at, repaid_at, liquidated_at, cancelled_at,"
    " repaid_amount, overdue_notified, session_id, contract_id, tx_hash, ledger, livemode"
)

# Self custody: a merchant the backend holds no key for (seed_encrypted is empty), and
# bills that wait for the merchant's own authorization before they exist on chain (no
# bill_number yet). SQLite cannot drop NOT NULL, so there the bills table is rebuilt.
_AUTHORIZATIONS = """
CREATE TABLE bill_authorizations (
  bill_id TEXT PRIMARY KEY, address TEXT NOT NULL, contract_id TEXT NOT NULL,
  function TEXT NOT NULL, entry_xdr TEXT NOT NULL, nonce TEXT NOT NULL,
  expiration_ledger BIGINT NOT NULL, network_passphrase TEXT NOT NULL)
"""
_V4_SQLITE = f"""
ALTER TABLE merchants ADD COLUMN custody TEXT NOT NULL DEFAULT 'managed';
CREATE TABLE bills_v4 (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, bill_number BIGINT,
  customer TEXT NOT NULL, amount BIGINT NOT NULL, currency TEXT NOT NULL,
  status TEXT NOT NULL, order_id TEXT, description TEXT, metadata TEXT NOT NULL,
  created BIGINT NOT NULL, paid_at BIGINT, repaid_at BIGINT, liquidated_at BIGINT,
  cancelled_at BIGINT, repaid_amount BIGINT, overdue_notified INTEGER NOT NULL DEFAULT 0,
  session_id TEXT, contract_id TEXT NOT NULL, tx_hash TEXT, ledger BIGINT,
  livemode INTEGER NOT NULL);
INSERT INTO bills_v4 ({_BILL_COLUMNS}) SELECT {_BILL_COLUMNS} FROM bills;
DROP TABLE bills;
ALTER TABLE bills_v4 RENAME TO bills;
CREATE UNIQUE INDEX bills_number ON bills (contract_id, bill_number);
CREATE INDEX bills_merchant ON bills (merchant_id, id);
CREATE INDEX bills_paid ON bills (merchant_id, paid_at);
{_AUTHORIZATIONS}"""
_V4_POSTGRESQL = f"""
ALTER TABLE merchants ADD COLUMN custody TEXT NOT NULL DEFAULT 'managed';
ALTER TABLE bills ALTER COLUMN bill_number DROP NOT NULL;
{_AUTHORIZATIONS}"""

# A self-custody merchant's enrollment: the unsigned enroll_merchant entry it was handed
# (one per merchant, replaced when it asks again), until its signed entry is relayed.
_V5 = """
CREATE TABLE merchant_authorizations (
  merchant_id TEXT PRIMARY KEY, address TEXT NOT NULL, contract_id TEXT NOT NULL,
  function TEXT NOT NULL, entry_xdr TEXT NOT NULL, nonce TEXT NOT NULL,
  expiration_ledger BIGINT NOT NULL, network_passphrase TEXT NOT NULL,
  merchant_info_id TEXT NOT NULL)
"""

# Embedded checkout: the origins that may frame a merchant's hosted page (JSON lists;
# a session's NULL means "the account's").
_V6 = """
ALTER TABLE merchants ADD COLUMN embed_origins TEXT NOT NULL DEFAULT '[]';
ALTER TABLE checkout_sessions ADD COLUMN embed_origins TEXT
"""

# Shoppers who sign in their own wallet: a sandbox wallet marked external (funded, its
# seed handed out once and not kept: seed_encrypted is empty), and the transaction the
# hosted page prepared for a session's shopper to sign (one per session, replaced when
# the page prepares again), which the signed envelope must be.
_V7 = """
ALTER TABLE wallets ADD COLUMN external INTEGER NOT NULL DEFAULT 0;
CREATE TABLE prepared_transactions (
  session_id TEXT PRIMARY KEY, bill_id TEXT NOT NULL, xdr TEXT NOT NULL,
  hash TEXT NOT NULL, network_passphrase TEXT NOT NULL, source TEXT NOT NULL,
  contract TEXT NOT NULL, contract_id TEXT NOT NULL, function TEXT NOT NULL,
  sequence BIGINT NOT NULL, fee BIGINT NOT NULL, max_time BIGINT NOT NULL,
  created BIGINT NOT NULL)
"""

# Built-in wallets per merchant: each merchant pays with its own copies of ``approve``,
# ``decline`` and ``limited`` (``builtin`` names the one a row copies), so no merchant
# can spend another's borrowing power; at most one copy of each per merchant.
_V8 = """
ALTER TABLE wallets ADD COLUMN builtin TEXT;
CREATE UNIQUE INDEX wallets_builtin ON wallets (merchant_id, builtin)
"""

# Refused payment attempts on the hosted page or in the widget (payment.failed), counted
# by analytics per merchant and time.
_V9 = """
CREATE TABLE payment_failures (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, session_id TEXT NOT NULL, bill_id TEXT,
  customer TEXT, amount BIGINT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
  created BIGINT NOT NULL, livemode INTEGER NOT NULL);
CREATE INDEX payment_failures_merchant ON payment_failures (merchant_id, created)
"""

# API keys managed through /v1/api_keys: a name, the end of a rolled key's grace
# (expires_at) and revocation; a test key is also kept sealed (sealed_key) so that it
# can be shown again. Live keys stay hash-only (sealed_key NULL).
_V10 = """
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN sealed_key TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;
CREATE INDEX api_keys_merchant ON api_keys (merchant_id, id)
"""

# The request log (dashboard, ``lumenlater logs tail``): one row per authenticated API
# request, written in batches by each process's buffer and pruned to the newest rows per
# merchant. ``id`` sorts by time, so it is the tail's cursor.
_V11 = """
CREATE TABLE request_logs (
  id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
  route TEXT NOT NULL, status INTEGER NOT NULL, request_id TEXT NOT NULL,
  idempotency_key TEXT, latency_ms DOUBLE PRECISION NOT NULL, livemode INTEGER NOT NULL,
  created BIGINT NOT NULL);
CREATE INDEX request_logs_merchant ON request_logs (merchant_id, id)
"""

# The dashboard's one-time sign-in links (``lumenlater dashboard``): only a hash of the
# token is kept; a link is deleted when used, and expired ones when the next is made.
_V12 = """
CREATE TABLE dashboard_links (
  token_hash TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, expires_at BIGINT NOT NULL,
  created BIGINT NOT NULL)
"""

# A dashboard session is looked up by its token's hash on every page, so that signing
# out (``revoked``) ends it on the server and not only in the browser.
_V13 = """
CREATE TABLE dashboard_sessions (
  token_hash TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, created BIGINT NOT NULL,
  expires_at BIGINT NOT NULL, revoked_at BIGINT)
"""

# Lists and hot queries read along an index whatever the history (checked by
# tests/backend/test_query_plans.py): each list filter is an equality followed by
# ``id`` (keyset order, newest first), a created range has its own index, and the
# time sweeps read due rows in (time, id) order. ``sessions_open`` and ``events_object``
# give way to versions ending in the order their queries read. ``bills_overdue_due``
# holds only paid bills not yet announced overdue; its constant leading columns make
# SQLite, which counts the equalities an index matches, prefer it to
# ``bills_status_created`` (which would pass over every overdue bill still unpaid).
_V14 = """
CREATE INDEX bills_merchant_status ON bills (merchant_id, status, id);
CREATE INDEX bills_merchant_customer ON bills (merchant_id, customer, id);
CREATE INDEX bills_merchant_order ON bills (merchant_id, order_id, id);
CREATE INDEX bills_merchant_created ON bills (merchant_id, created, id);
CREATE INDEX bills_status_created ON bills (status, created, id);
CREATE INDEX bills_overdue_due ON bills (status, overdue_notified, created, id)
  WHERE status = 'paid' AND overdue_notified = 0;
CREATE INDEX sessions_merchant_status ON checkout_sessions (merchant_id, status, id);
CREATE INDEX sessions_merchant_order ON checkout_sessions (merchant_id, order_id, id);
DROP INDEX sessions_open;
CREATE INDEX sessions_due ON checkout_sessions (status, expires_at, id);
CREATE INDEX events_merchant_type ON events (merchant_id, type, id);
DROP INDEX events_object;
CREATE INDEX events_object ON events (object_id, id)
"""

# The created range of GET /v1/checkout/sessions and GET /v1/events, as
# bills_merchant_created serves the bills' one.
_V15 = """
CREATE INDEX sessions_merchant_created ON checkout_sessions (merchant_id, created, id);
CREATE INDEX events_merchant_created ON events (merchant_id, created, id)
"""

# Retention (services/retention.py) deletes idempotency keys past their 24 h and the
# request log past its window, oldest first, a batch at a time: each batch reads along
# one of these, however many rows are kept.
_V17 = """
CREATE INDEX idempotency_keys_created ON idempotency_keys (created);
CREATE INDEX request_logs_created ON request_logs (created)
"""

# Analytics from hourly rollups (store/rollups.py), kept by the writes they count and
# filled here from every existing row; the parts of a window that are not whole hours
# read payment lines along (merchant_id, type, created).
_ROLLUP_COUNTERS = ",\n  ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in COUNTERS)
_V16 = f"""
CREATE TABLE analytics_hourly (
  merchant_id TEXT NOT NULL, hour BIGINT NOT NULL,
  {_ROLLUP_COUNTERS},
  PRIMARY KEY (merchant_id, hour));
CREATE INDEX ledger_lines_type_created ON ledger_lines (merchant_id, type, created);
{BACKFILL}
"""

# Bill lists that stay flat (store/bills.py, store/_created_ranges.py). A paid bill the
# overdue sweep announced (overdue_notified = 1) is overdue for good, so
# ``status=overdue`` reads those in id order (bills_merchant_paid), and only the sweep's
# backlog along ``created`` (bills_merchant_unswept); ``status=paid`` reads the
# unannounced ones (bills_merchant_paid again), not every overdue bill. Their constant
# ``status`` and ``overdue_notified`` columns make SQLite, which counts the equalities
# an index matches, prefer them to bills_merchant_status and the sweep's
# bills_overdue_due (as in 14). A created range with many bills reads in id order
# between the first and the last id of the bills of the hours and days it covers
# (bill_created_spans: per merchant, span width in seconds and start; kept by
# bills.insert_bill/update_bill at COMMIT, filled here).
_V18 = f"""
CREATE INDEX bills_merchant_paid ON bills (merchant_id, status, overdue_notified, id)
  WHERE status = 'paid';
CREATE INDEX bills_merchant_unswept ON bills (merchant_id, status, overdue_notified, created, id)
  WHERE status = 'paid' AND overdue_notified = 0;
{spans_table(BILLS)};
{spans_backfill(BILLS, WIDTHS[:2])}
"""

# Spans of 32 days beside the hours and days of 18: a range years wide reads one row a
# month between its ends, not one a day.
_V19 = spans_backfill(BILLS, WIDTHS[2:])

# Wallets grow with a merchant's shoppers (an external wallet per shopper who signed in
# its own): the look-ups by name (store/wallets.find_wallet; by id it is the primary
# key) and by address (customer_wallet, on every hosted page of a bill) read the rows
# of that name or address, a few per merchant, not the merchant's every wallet along
# wallets_builtin.
_V20 = """
CREATE INDEX wallets_name ON wallets (name, merchant_id);
CREATE INDEX wallets_address ON wallets (address, merchant_id)
"""

# Analytics' overdue count (store/metrics._paid_in_grace) reads the bills of the last
# grace period still paid: the unannounced ones along bills_merchant_unswept, the
# announced ones along this (none from the grace period on unless the figures are
# asked at an earlier time than the sweep's). Only the overdue sweep adds to it (a
# bill's insert and payment do not match it): no cost on POST /v1/bills or a payment.
# The constant leading columns as in 18 for SQLite; not on PostgreSQL, which leaves the
# columns a partial index's predicate fixes out of a read's conditions, and bounds a
# B-tree read only by conditions on leading columns without a gap.
_V21 = """
CREATE INDEX bills_merchant_notified ON bills (merchant_id, status, overdue_notified, created)
  WHERE status = 'paid' AND overdue_notified = 1
"""
_V21_POSTGRESQL = """
CREATE INDEX bills_merchant_notified ON bills (merchant_id, created)
  WHERE status = 'paid' AND overdue_notified = 1
"""

# PostgreSQL: bills_merchant_paid (18) without the status its predicate fixes. PostgreSQL
# leaves that column out of a read's conditions, and a B-tree read is bounded only by
# conditions on leading columns without a gap: ``status=paid`` read the merchant's every
# announced overdue bill still unpaid before its first unannounced one (at 50k bills of
# bench/history.py, 54 shared buffers for a page; now 14). SQLite keeps the column (see
# 18); the keys' order is the same. (bills_merchant_unswept has the same gap, but
# rebuilt as (merchant_id, created, id) PostgreSQL's generic plan of status=paid read
# the merchant's whole grace period along it and sorted: tests/backend/test_query_plans.)
_V22_POSTGRESQL = """
DROP INDEX bills_merchant_paid;
CREATE INDEX bills_merchant_paid ON bills (merchant_id, overdue_notified, id)
  WHERE status = 'paid'
"""

# PostgreSQL: the sweep's backlog and the announced bills by created in one index of paid
# bills, apart on overdue_notified as a key column rather than a predicate, in place of
# bills_merchant_unswept and bills_merchant_notified (whose predicates fixed it, and
# PostgreSQL leaves such a column out of a read's conditions: ``status=overdue`` and the
# analytics' not-yet-overdue count read every bill of the merchant still paid, the
# grace period's and the backlog, 256 shared buffers at 50k bills of bench/history.py
# for none). Its rows are the two indexes' rows together, so a payment and an
# announcement each write one entry as before. ``status=paid`` keeps to
# bills_merchant_paid, which has the same rows and predicate and gives id order: a
# (merchant_id, created, id) index of the unswept bills alone was a smaller index the
# generic plan preferred, reading the grace period and sorting it.
_V23_POSTGRESQL = """
CREATE INDEX bills_merchant_paid_created ON bills (merchant_id, overdue_notified, created, id)
  WHERE status = 'paid';
DROP INDEX bills_merchant_unswept;
DROP INDEX bills_merchant_notified
"""

# Created ranges of events and checkout sessions as bills read theirs (18, 19): in id
# order between the first and the last id of the rows of the spans the range covers.
# Along (merchant_id, created, id) (15) and sorted, a wide range of events read every
# event of the merchant's history in it: a second at 100k bills of bench/history.py.
_V24 = ";\n".join(f"{spans_table(r)};\n{spans_backfill(r)}" for r in (EVENTS, SESSIONS))

MIGRATIONS = [
    Migration(1, "core tables", _V1),
    Migration(2, "merchant ledger lines for analytics", _V2),
    Migration(3, "owner token of an idempotency claim", _V3),
    Migration(
        4,
        "self custody: merchants without a key, bills awaiting authorization",
        _V4_SQLITE,
        _V4_POSTGRESQL,
    ),
    Migration(5, "self custody: a merchant's pending enrollment", _V5),
    Migration(6, "embedded checkout: embed_origins of accounts and sessions", _V6),
    Migration(7, "shoppers' own wallets: external wallets, prepared transactions", _V7),
    Migration(8, "built-in wallets per merchant", _V8),
    Migration(9, "refused payment attempts", _V9),
    Migration(10, "API keys: names, expiry, revocation, sealed test keys", _V10),
    Migration(11, "request log", _V11),
    Migration(12, "dashboard sign-in links", _V12),
    Migration(13, "dashboard sessions", _V13),
    Migration(14, "indexes for list filters and time sweeps", _V14),
    Migration(15, "created ranges of sessions and events", _V15),
    Migration(16, "hourly analytics rollups, filled from existing rows", _V16),
    Migration(17, "expired idempotency keys and old request logs pruned along an index", _V17),
    Migration(18, "overdue and paid lists apart; the ids of each hour's and day's bills", _V18),
    Migration(19, "the ids of each 32 days' bills", _V19),
    Migration(20, "wallets looked up by name and by address along an index", _V20),
    Migration(21, "paid bills announced overdue, by created", _V21, _V21_POSTGRESQL),
    Migration(22, "PostgreSQL: paid bills by announcement and id, no status", "", _V22_POSTGRESQL),
    Migration(23, "PostgreSQL: paid bills by announcement and created", "", _V23_POSTGRESQL),
    Migration(24, "the ids of each hour's, day's and 32 days' events and sessions", _V24),
]
