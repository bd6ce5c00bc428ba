"""First start of a sandbox: the test merchant, its keys and a ready webhook secret."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ._crypto import check_secret_key
from .app import Backend
from .store import events as state

__all__ = ["SandboxCredentials", "ensure_sandbox_merchant", "load_or_create_secret_key"]

DEFAULT_WEBHOOK_URL = "http://127.0.0.1:5000/webhooks/lumenlater"
_STATE_KEY = "sandbox_merchant"


@dataclass(frozen=True)
class SandboxCredentials:
    """Shown once, on first start; only hashes (and sealed secrets) are stored."""

    merchant_id: str
    secret_key: str
    publishable_key: str
    webhook_secret: str | None
    webhook_endpoint: str | None

    def __repr__(self) -> str:
        return f"SandboxCredentials(merchant_id={self.merchant_id!r})"


def load_or_create_secret_key(path: Path) -> bytes:
    """The sandbox's sealing key, created with mode 0600 on first use.

    A key file too short or too weak to seal with raises :class:`ValueError` naming
    the file and what is required.
    """
    path = path.expanduser()
    if path.exists():
        key = path.read_bytes().strip()
        try:
            return check_secret_key(key)
        except ValueError as exc:
            raise ValueError(
                f"the sealing key in {path} is refused: {exc}. The sandbox database is"
                " sealed under it, so start over with a new key file and a fresh database."
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = _new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _new_key() -> bytes:
    # 64 random hex digits all but never repeat fewer than 8 distinct ones; checking
    # anyway means a key this function hands out always opens a SecretBox.
    while True:
        key = secrets.token_hex(32).encode()
        try:
            return check_secret_key(key)
        except ValueError:  # pragma: no cover - probability below 2**-100
            continue


def ensure_sandbox_merchant(
    backend: Backend,
    *,
    webhook_url: str | None = DEFAULT_WEBHOOK_URL,
    business_name: str = "Sandbox Shop",
) -> SandboxCredentials | None:
    """Create the sandbox merchant once; ``None`` if this database already has it."""
    with backend.db.transaction() as tx:
        if state.get_state(tx, _STATE_KEY, lock=True) is not None:
            return None
    creds = backend.create_merchant(business_name)
    endpoint_id = whsec = None
    if webhook_url:
        endpoint = backend.create_webhook_endpoint(creds.merchant_id, webhook_url)
        endpoint_id, whsec = endpoint["id"], endpoint.get("secret")
    with backend.db.transaction() as tx:
        state.set_state(tx, _STATE_KEY, creds.merchant_id)
    return SandboxCredentials(
        creds.merchant_id, creds.secret_key, creds.publishable_key, whsec, endpoint_id
    )
