"""Secrets at rest: Stellar seeds are sealed with a key derived from ``secret_key``."""

from __future__ import annotations

import base64
import hashlib
import hmac

import nacl.secret
import nacl.utils

__all__ = ["SecretBox", "hash_key"]


def hash_key(api_key: str) -> str:
    """The stored form of an API key: hex SHA-256 (keys are high-entropy, so no salt)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


class SecretBox:
    """Authenticated encryption (XSalsa20-Poly1305) under the backend's secret key."""

    def __init__(self, secret_key: str | bytes) -> None:
        raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
        if len(raw) < 16:
            raise ValueError("secret_key must be at least 16 bytes")
        self._key = hashlib.sha256(b"lumenlater-seal:" + raw).digest()
        self._mac_key = hashlib.sha256(b"lumenlater-mac:" + raw).digest()
        self._box = nacl.secret.SecretBox(self._key)

    def seal(self, plaintext: str) -> str:
        """Encrypt *plaintext*; the result is ASCII, safe for a TEXT column."""
        nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
        return base64.b64encode(self._box.encrypt(plaintext.encode(), nonce)).decode()

    def open(self, sealed: str) -> str:
        """Decrypt what :meth:`seal` produced (raises if it was tampered with)."""
        return self._box.decrypt(base64.b64decode(sealed)).decode()

    def mac(self, message: str) -> str:
        """A short keyed tag of *message* (e.g. the hosted page's form token)."""
        return hmac.new(self._mac_key, message.encode(), hashlib.sha256).hexdigest()[:32]
