"""Secrets at rest: the v2 sealed format, the secret-key rule, and migrating legacy values."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nacl.secret
import nacl.utils
import pytest
from backend_helpers import SECRET_KEY, Api
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lumenlater_sdk.backend import Backend, BackendConfig
from lumenlater_sdk.backend._crypto import (
    _AAD,
    _MAC_INFO,
    _SEAL_INFO,
    SEALED_PREFIX,
    SealError,
    SecretBox,
    _derive,
)
from lumenlater_sdk.backend.bootstrap import load_or_create_secret_key
from lumenlater_sdk.backend.db import Database
from lumenlater_sdk.backend.services.sealing import reseal_legacy
from lumenlater_sdk.backend.services.wallets import create_wallet
from lumenlater_sdk.backend.testing import run_sandbox
from lumenlater_sdk.cli import _sandbox as sandbox_command
from lumenlater_sdk.cli import build_parser
from lumenlater_sdk.webhooks import verify_signature

# Every column that holds SecretBox.seal output, as (table, key column, sealed column).
SEALED = (
    ("merchants", "id", "seed_encrypted"),
    ("wallets", "id", "seed_encrypted"),
    ("webhook_endpoint_secrets", "seq", "ciphertext"),
)

WEAK_OR_SHORT = [
    pytest.param("b" * 32, "too weak: only 1 distinct", id="one-byte-repeated"),
    pytest.param("k" * 64, "too weak: only 1 distinct", id="long-but-one-byte"),
    pytest.param("0123" * 8, "too weak: only 4 distinct", id="short-pattern"),
    pytest.param(b"\x00\x01" * 20, "too weak: only 2 distinct", id="bytes-pattern"),
    pytest.param("abcdefghijklmnopqrstuvwxyz01234", "too short: 31 bytes", id="31-bytes"),
    pytest.param("", "too short: 0 bytes", id="empty"),
]


def legacy_seal(secret_key: str | bytes, plaintext: str) -> str:
    """What the PyNaCl SecretBox of earlier versions stored for *plaintext*."""
    raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = hashlib.sha256(b"lumenlater-seal:" + raw).digest()
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    return base64.b64encode(nacl.secret.SecretBox(key).encrypt(plaintext.encode(), nonce)).decode()


def sealed_values(db: Database) -> dict[tuple[str, str], str]:
    """``(table, row key) -> sealed value`` for every sealed column of *db*."""
    out: dict[tuple[str, str], str] = {}
    with db.transaction(write=False) as tx:
        for table, key, column in SEALED:
            for row in tx.fetchall(f"SELECT {key} AS k, {column} AS v FROM {table}"):
                out[(table, str(row["k"]))] = row["v"]
    return out


def rewrite_as_legacy(db: Database, plaintexts: dict[tuple[str, str], str]) -> None:
    """Replace every sealed value with the legacy sealing of the same plaintext."""
    columns = {table: (key, column) for table, key, column in SEALED}
    with db.transaction() as tx:
        for (table, row_key), plain in plaintexts.items():
            key, column = columns[table]
            tx.execute(
                f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                (legacy_seal(SECRET_KEY, plain), int(row_key) if key == "seq" else row_key),
            )


def config(db_url: str) -> BackendConfig:
    return BackendConfig(
        database_url=db_url, secret_key=SECRET_KEY, run_delivery=False, tick_interval=3600
    )


@contextmanager
def started(db_url: str) -> Iterator[Backend]:
    backend = Backend(config(db_url))
    try:
        yield backend
    finally:
        backend.close()


class Receiver:
    """A loopback HTTP server keeping the body and signature header of each POST."""

    def __init__(self) -> None:
        self.hits: list[tuple[bytes, str]] = []
        self.arrived = threading.Event()
        hits, arrived = self.hits, self.arrived

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hits.append((body, self.headers.get("X-LumenLater-Signature", "")))
                arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the sealed format ---------------------------------------------------------------


def test_round_trip() -> None:
    box = SecretBox(SECRET_KEY)
    for plain in ["", "S" + "A" * 55, "whsec_" + secrets.token_urlsafe(32), "ünïcødé ✓"]:
        sealed = box.seal(plain)
        assert box.open(sealed) == plain
        assert SecretBox(SECRET_KEY.encode()).open(sealed) == plain  # str and bytes keys agree


def test_version_prefix_and_ascii_layout() -> None:
    sealed = SecretBox(SECRET_KEY).seal("hello")
    assert SEALED_PREFIX == "v2:" and sealed.startswith("v2:")
    assert sealed.isascii()
    blob = base64.b64decode(sealed[3:], validate=True)
    assert len(blob) == 12 + len("hello") + 16  # nonce, ciphertext, GCM tag


def test_nonces_are_unique() -> None:
    box = SecretBox(SECRET_KEY)
    sealed = [box.seal("same plaintext") for _ in range(2000)]
    nonces = {base64.b64decode(s[3:])[:12] for s in sealed}
    assert len(nonces) == len(sealed)
    assert len(set(sealed)) == len(sealed)


def test_flipping_any_byte_is_detected() -> None:
    box = SecretBox(SECRET_KEY)
    blob = base64.b64decode(box.seal("S" + "B" * 55)[3:])
    for i in range(len(blob)):  # nonce, ciphertext and tag alike
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(SealError, match="failed authentication: tampered with"):
            box.open("v2:" + base64.b64encode(bytes(bad)).decode())


def test_truncated_unknown_or_foreign_values_are_refused() -> None:
    box = SecretBox(SECRET_KEY)
    sealed = box.seal("secret seed")
    with pytest.raises(SealError, match="truncated"):
        box.open("v2:" + base64.b64encode(b"\x00" * 12).decode())
    with pytest.raises(SealError, match="failed authentication"):
        box.open(sealed[:-4])
    with pytest.raises(SealError, match="not valid base64"):
        box.open("v2:***")
    with pytest.raises(SealError, match="unknown sealed-value format 'v9'"):
        box.open("v9:" + sealed[3:])
    with pytest.raises(SealError, match="sealed under another secret_key"):
        SecretBox(secrets.token_hex(32)).open(sealed)


def test_associated_data_is_bound() -> None:
    box = SecretBox(SECRET_KEY)
    nonce = b"\x07" * 12
    # Same key and nonce, other associated data: an AES-GCM ciphertext, not a sealed value.
    foreign = box._aead.encrypt(nonce, b"secret seed", b"some other purpose")
    with pytest.raises(SealError, match="failed authentication"):
        box.open("v2:" + base64.b64encode(nonce + foreign).decode())


def test_mac_keeps_its_format_and_is_keyed() -> None:
    box = SecretBox(SECRET_KEY)
    tag = box.mac("pay:cs_123")
    assert len(tag) == 32 and all(c in "0123456789abcdef" for c in tag)
    assert box.mac("pay:cs_123") == tag and box.mac("pay:cs_124") != tag
    assert SecretBox(secrets.token_hex(32)).mac("pay:cs_123") != tag


def test_sealing_and_mac_keys_are_derived_apart() -> None:
    raw = SECRET_KEY.encode()
    seal_key, mac_key = _derive(raw, _SEAL_INFO), _derive(raw, _MAC_INFO)
    assert seal_key != mac_key and raw not in (seal_key, mac_key)
    box = SecretBox(SECRET_KEY)
    blob = base64.b64decode(box.seal("x")[3:])
    assert AESGCM(seal_key).decrypt(blob[:12], blob[12:], _AAD) == b"x"
    assert box.mac("m") == hmac.new(mac_key, b"m", hashlib.sha256).hexdigest()[:32]


# --- the secret-key rule ---------------------------------------------------------------


@pytest.mark.parametrize(("key", "reason"), WEAK_OR_SHORT)
def test_weak_or_short_secret_is_refused(key: str | bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        SecretBox(key)
    message = str(caught.value)
    assert (
        "at least 32 bytes are required" in message
        or "at least 8 distinct byte values are required" in message
    )
    assert "secrets.token_hex(32)" in message


def test_backend_refuses_a_weak_secret_at_start(tmp_path: Path) -> None:
    cfg = BackendConfig(database_url=f"sqlite:///{tmp_path / 'weak.db'}", secret_key="k" * 32)
    with pytest.raises(ValueError, match="secret_key is too weak: only 1 distinct byte values"):
        Backend(cfg)


def test_strong_secrets_are_accepted() -> None:
    for key in [SECRET_KEY, secrets.token_hex(32), secrets.token_bytes(32), "01234567" * 4]:
        box = SecretBox(key)
        assert box.open(box.seal("x")) == "x"


def test_sandbox_key_file_is_created_strong_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "home" / "secret.key"
    key = load_or_create_secret_key(path)
    assert len(key) == 64 and (path.stat().st_mode & 0o777) == 0o600
    assert load_or_create_secret_key(path) == key
    SecretBox(key)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"k" * 32 + b"\n", "too weak"), (b"0123456789abcdef\n", "too short: 16 bytes")],
)
def test_weak_sandbox_key_file_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=reason) as caught:
        load_or_create_secret_key(path)
    assert str(path) in str(caught.value)


def test_sandbox_command_explains_a_refused_key_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"0123" * 8)
    args = build_parser().parse_args(["sandbox", "--secret-key-file", str(path)])
    with pytest.raises(SystemExit, match=r"^lumenlater sandbox: the sealing key in .* too weak"):
        sandbox_command.backend_config(args)


# --- legacy values and their migration -----------------------------------------------


def test_legacy_values_still_open() -> None:
    sealed = legacy_seal(SECRET_KEY, "S" + "C" * 55)
    assert ":" not in sealed
    assert SecretBox(SECRET_KEY).open(sealed) == "S" + "C" * 55
    blob = bytearray(base64.b64decode(sealed))
    blob[-1] ^= 0x01
    with pytest.raises(SealError, match="legacy sealed value failed authentication"):
        SecretBox(SECRET_KEY).open(base64.b64encode(bytes(blob)).decode())


def test_legacy_database_migrates_on_start(db_url: str) -> None:
    with Receiver() as receiver:
        with started(db_url) as backend:
            merchant = backend.create_merchant("Sealed Before")
            create_wallet(backend.ctx, merchant.merchant_id, "shopper", None)
            endpoint = backend.create_webhook_endpoint(
                merchant.merchant_id, receiver.url, ["bill.created"]
            )
            box = backend.ctx.box
            plain = {k: box.open(v) for k, v in sealed_values(backend.db).items()}
            assert {table for table, _ in plain} == {table for table, _, _ in SEALED}
            rewrite_as_legacy(backend.db, plain)
            legacy = sealed_values(backend.db)
            assert all(":" not in v for v in legacy.values())

        with started(db_url) as backend:
            migrated = sealed_values(backend.db)
        assert migrated.keys() == plain.keys()
        assert all(v.startswith("v2:") for v in migrated.values())
        assert {k: box.open(v) for k, v in migrated.items()} == plain

        with started(db_url) as backend:  # a second start changes nothing
            assert sealed_values(backend.db) == migrated

        delivery = {"poll_interval": 0.1, "timeout": 5.0}
        with (
            run_sandbox(
                db_url,
                secret_key=SECRET_KEY,
                webhook_url=None,
                tick_interval=3600,
                delivery=delivery,
            ) as sb,
            Api(sb.base_url, merchant.secret_key) as api,
        ):
            shopper = api.ok("GET", "/v1/test_helpers/wallets/shopper")["address"]
            bill = api.ok("POST", "/v1/bills", json={"customer": shopper, "amount": 10_000_000})
            paid = api.ok(
                "POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "shopper"}
            )
            assert paid["status"] == "paid"
            assert receiver.arrived.wait(30), "bill.created was not delivered"
        body, signature = receiver.hits[0]
        verify_signature(body, signature, endpoint["secret"])
        assert bill["id"].encode() in body


def test_reseal_counts_once_and_is_all_or_nothing(db_url: str) -> None:
    with started(db_url) as backend:
        merchant = backend.create_merchant("Counted")
        backend.create_webhook_endpoint(merchant.merchant_id, "http://127.0.0.1:9/hooks")
        box = backend.ctx.box
        plain = {k: box.open(v) for k, v in sealed_values(backend.db).items()}
        rewrite_as_legacy(backend.db, plain)

        # One legacy value sealed under another key: nothing may change.
        seq = next(k for t, k in plain if t == "webhook_endpoint_secrets")
        with backend.db.transaction() as tx:
            tx.execute(
                "UPDATE webhook_endpoint_secrets SET ciphertext = ? WHERE seq = ?",
                (legacy_seal(secrets.token_hex(32), "whsec_x"), int(seq)),
            )
        before = sealed_values(backend.db)
        with pytest.raises(SealError, match=f"webhook_endpoint_secrets.ciphertext of row {seq}"):
            reseal_legacy(backend.db, box)
        assert sealed_values(backend.db) == before

        with backend.db.transaction() as tx:
            tx.execute(
                "UPDATE webhook_endpoint_secrets SET ciphertext = ? WHERE seq = ?",
                (legacy_seal(SECRET_KEY, plain[("webhook_endpoint_secrets", seq)]), int(seq)),
            )
        assert reseal_legacy(backend.db, box) == len(plain)
        assert reseal_legacy(backend.db, box) == 0
        assert {k: box.open(v) for k, v in sealed_values(backend.db).items()} == plain
