"""Secrets at rest: Stellar seeds and webhook signing secrets, sealed under ``secret_key``.

A sealed value is ``"v2:" + base64(nonce + AES-256-GCM ciphertext and tag)``, under
a key derived from ``secret_key`` with HKDF-SHA256. Values written by older versions
(PyNaCl's XSalsa20-Poly1305, no version prefix) still open, and are re-sealed on start
(:mod:`~lumenlater_sdk.backend.services.sealing`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .._extras import install_hint

__all__ = [
    "MIN_DISTINCT_BYTES",
    "MIN_SECRET_BYTES",
    "SEALED_PREFIX",
    "SealError",
    "SecretBox",
    "check_secret_key",
    "hash_key",
    "is_legacy",
]

MIN_SECRET_BYTES = 32
"""The shortest ``secret_key`` accepted: 256 bits for a 256-bit key."""
MIN_DISTINCT_BYTES = 8
"""Fewer distinct byte values than this is a placeholder ("k" * 32), not a key."""
SEALED_PREFIX = "v2:"
"""What every value sealed by this version starts with."""

_NONCE_BYTES = 12
_SEAL_INFO = b"lumenlater/secretbox/v2/aes-256-gcm"
_MAC_INFO = b"lumenlater/secretbox/v2/hmac-sha256"
# Bound into every tag: a v2 value only opens as a sealed secret of this box, never
# as some other AES-GCM ciphertext that happens to share the derived key.
_AAD = b"lumenlater sealed secret v2"
_LEGACY_SEAL_PREFIX = b"lumenlater-seal:"
_KEY_HELP = "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"


class SealError(ValueError):
    """A sealed value that does not open: tampered with, truncated, or sealed under another key."""


def hash_key(api_key: str) -> str:
    """The stored form of an API key: hex SHA-256 (keys are high-entropy, so no salt)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def check_secret_key(secret_key: str | bytes) -> bytes:
    """*secret_key* as bytes, or :class:`ValueError` saying why it is too weak to seal with.

    It must be at least :data:`MIN_SECRET_BYTES` long with at least
    :data:`MIN_DISTINCT_BYTES` distinct byte values (the message never shows the key).
    """
    raw = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(
            f"secret_key is too short: {len(raw)} bytes; at least {MIN_SECRET_BYTES} bytes"
            f" are required; {_KEY_HELP}"
        )
    distinct = len(set(raw))
    if distinct < MIN_DISTINCT_BYTES:
        raise ValueError(
            f"secret_key is too weak: only {distinct} distinct byte values; at least"
            f" {MIN_DISTINCT_BYTES} distinct byte values are required (a random key, not a"
            f" pattern); {_KEY_HELP}"
        )
    return raw


def is_legacy(sealed: str) -> bool:
    """Whether *sealed* is in the pre-v2 format: base64 with no version prefix."""
    # Standard base64 never contains ":", and every versioned format does.
    return ":" not in sealed


def _derive(raw: bytes, info: bytes) -> bytes:
    # No salt: the input is already a uniformly random key of >= 256 bits, and the
    # distinct info labels are what keep the sealing and MAC keys independent.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)


class SecretBox:
    """Authenticated encryption (AES-256-GCM) and a MAC under the backend's ``secret_key``.

    Raises :class:`ValueError` at construction if the key is short or weak
    (:func:`check_secret_key`).
    """

    def __init__(self, secret_key: str | bytes) -> None:
        raw = check_secret_key(secret_key)
        self._aead = AESGCM(_derive(raw, _SEAL_INFO))
        self._mac_key = _derive(raw, _MAC_INFO)
        self._legacy_key = hashlib.sha256(_LEGACY_SEAL_PREFIX + raw).digest()

    def seal(self, plaintext: str) -> str:
        """Encrypt *plaintext*; the result is ASCII (``v2:`` + base64), safe for a TEXT column."""
        # A random 96-bit nonce per value: collisions stay negligible far beyond the
        # number of seeds and signing secrets a backend will ever seal under one key.
        nonce = os.urandom(_NONCE_BYTES)
        body = self._aead.encrypt(nonce, plaintext.encode(), _AAD)
        return SEALED_PREFIX + base64.b64encode(nonce + body).decode("ascii")

    def open(self, sealed: str) -> str:
        """Decrypt what :meth:`seal` (or an older version) produced.

        Raises :class:`SealError` if the value was tampered with, is truncated, is in
        an unknown format or was sealed under another ``secret_key``.
        """
        if is_legacy(sealed):
            return _open_legacy(self._legacy_key, sealed)
        if not sealed.startswith(SEALED_PREFIX):
            raise SealError(f"unknown sealed-value format {sealed.split(':', 1)[0]!r}")
        try:
            blob = base64.b64decode(sealed[len(SEALED_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise SealError("sealed value is not valid base64") from None
        if len(blob) <= _NONCE_BYTES:
            raise SealError("sealed value is truncated")
        try:
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _AAD)
        except InvalidTag:
            raise SealError(
                "sealed value failed authentication: tampered with, or sealed under another"
                " secret_key"
            ) from None
        return plain.decode()

    def mac(self, message: str) -> str:
        """A short keyed tag of *message* (e.g. the hosted page's form token): 32 hex chars."""
        return hmac.new(self._mac_key, message.encode(), hashlib.sha256).hexdigest()[:32]


def _open_legacy(key: bytes, sealed: str) -> str:
    # PyNaCl is needed only for values written before v2; importing it here keeps it
    # off the path of every backend whose values have all been re-sealed.
    try:
        import nacl.exceptions
        import nacl.secret
    except ImportError as exc:  # pragma: no cover - pynacl is in the backend extra
        raise SealError(
            "a value sealed in the legacy (pre-v2) format needs PyNaCl to open: "
            + install_hint("backend")
        ) from exc
    try:
        blob = base64.b64decode(sealed, validate=True)
        return nacl.secret.SecretBox(key).decrypt(blob).decode()
    except (binascii.Error, ValueError, nacl.exceptions.CryptoError):
        raise SealError(
            "legacy sealed value failed authentication: tampered with, or sealed under"
            " another secret_key"
        ) from None
