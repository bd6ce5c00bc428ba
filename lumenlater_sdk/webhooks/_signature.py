"""HMAC-SHA256 signatures of webhook bodies (DESIGN §4).

``X-LumenLater-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`` where each hex is
``HMAC-SHA256(key=secret as UTF-8, msg=f"{t}." + raw body)``. One ``v1`` per
active secret lets a receiver keep working while a secret is rotated.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence

from ._errors import SignatureVerificationError

__all__ = ["SIGNATURE_HEADER", "Payload", "Secrets", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-LumenLater-Signature"
"""The HTTP header carrying the signature."""

DEFAULT_TOLERANCE = 300

Payload = bytes | bytearray | memoryview | str
"""A raw webhook body; ``str`` is encoded as UTF-8."""

Secrets = str | Sequence[str]
"""One ``whsec_…`` secret, or several (all accepted, e.g. during rotation)."""

# A Unix timestamp with more digits than this is not a time anyone will sign at; the
# limit also keeps int() away from its (ValueError-raising) huge-number guard.
_MAX_TIMESTAMP_DIGITS = 12

# One global lookup instead of a global plus an attribute lookup, per delivery. (The
# hmac calls stay spelled out: tests/test_security_lint.py looks for them.)
_now = time.time


def _as_bytes(payload: Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return bytes(payload)


def _keys(secret: Secrets) -> list[bytes]:
    if isinstance(secret, str):
        return [secret.encode("utf-8")]
    keys = [s.encode("utf-8") for s in secret]
    if not keys:
        raise ValueError("at least one webhook secret is required")
    return keys


def _digest_hex(key: bytes, timestamp: int, body: bytes) -> str:
    # OpenSSL's one-shot HMAC is the cheapest Python offers; one concatenation is
    # cheaper than a second update() call.
    return hmac.digest(key, b"%d." % timestamp + body, "sha256").hex()


def sign(payload: Payload, secret: Secrets, timestamp: int | None = None) -> str:
    """The ``X-LumenLater-Signature`` header value for ``payload``.

    With a list of secrets the header carries one ``v1=`` entry per secret, in order
    (what the delivery worker sends while a secret is being rotated).
    ``timestamp`` defaults to now, in whole Unix seconds.
    """
    t = int(time.time()) if timestamp is None else int(timestamp)
    body = _as_bytes(payload)
    entries = ",".join(f"v1={_digest_hex(key, t, body)}" for key in _keys(secret))
    return f"t={t},{entries}"


def _fail(message: str, reason: str) -> SignatureVerificationError:
    return SignatureVerificationError(message, reason=reason)


def parse_header(header: object) -> tuple[int, list[str]]:
    """Split a signature header into its timestamp and ``v1`` signatures.

    Raises only :class:`SignatureVerificationError`, whatever ``header`` is. Entries of
    other schemes (``v0=``, a future ``v2=``) are ignored so new schemes can be added.
    """
    if isinstance(header, (bytes, bytearray)):
        header = bytes(header).decode("latin-1")
    if header is None or (isinstance(header, str) and not header.strip()):
        raise _fail(f"No {SIGNATURE_HEADER} header", "missing_header")
    if not isinstance(header, str):
        raise _fail(f"Malformed {SIGNATURE_HEADER} header: not a string", "malformed_header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        value = value.strip()
        if not sep or not name:
            raise _fail(
                f"Malformed {SIGNATURE_HEADER} header: expected 'key=value' items",
                "malformed_header",
            )
        if name == "t":
            if timestamp is not None:
                raise _fail(
                    f"Malformed {SIGNATURE_HEADER} header: more than one t=", "malformed_header"
                )
            if not (value.isascii() and value.isdigit()) or len(value) > _MAX_TIMESTAMP_DIGITS:
                raise _fail(
                    f"Malformed {SIGNATURE_HEADER} header: t= is not a Unix timestamp",
                    "malformed_header",
                )
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise _fail(f"Malformed {SIGNATURE_HEADER} header: no t= timestamp", "malformed_header")
    if not signatures:
        raise _fail(f"Malformed {SIGNATURE_HEADER} header: no v1= signature", "malformed_header")
    return timestamp, signatures


def verify_signature(
    payload: Payload,
    header: str | None,
    secret: Secrets,
    tolerance: float | None = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> None:
    """Check that ``header`` signs exactly these raw ``payload`` bytes; raise if not.

    Any ``v1`` entry matching any of the secrets is enough. The timestamp may be at
    most ``tolerance`` seconds old or in the future (``None`` turns the check off);
    ``now`` replaces the clock. Raises :class:`SignatureVerificationError`.
    """
    # The hot path is the header LumenLater sends with one active secret,
    # "t=<digits>,v1=<64 hex digits>", for a bytes body and one str secret. The digits
    # are what lies between "t=" and the last 68 characters (",v1=" and the hex); the
    # header rebuilt from them and the expected HMAC is compared whole, which checks the
    # "t=" and ",v1=" as well: one slice, where a partition makes a tuple and three
    # strings. float(), not int(): int() builds an argument tuple, and float() of at
    # most 12 digits is exact. Anything else (several v1 entries, spaces, other schemes,
    # a mismatch, a time outside the tolerance) goes on to parse_header, which also
    # gives each refusal its reason.
    try:
        digits = header[2:-68]  # type: ignore[index]
        if digits.isdigit() and len(digits) <= _MAX_TIMESTAMP_DIGITS:
            # The secret is encoded per call (about 20 ns): no copy of it outlives the call.
            expected = hmac.digest(
                secret.encode(),  # type: ignore[union-attr]
                (digits + ".").encode() + payload,  # type: ignore[operator]
                "sha256",
            ).hex()
            if hmac.compare_digest(f"t={digits},v1={expected}", header) and (  # type: ignore[type-var]
                tolerance is None
                or abs(float(digits) - (_now() if now is None else now)) <= tolerance
            ):
                return
    except (TypeError, AttributeError):
        # Not that shape: a str body (bytes + str), a list of secrets (no .encode), a
        # header that is not a str or not ASCII (compare_digest refuses non-ASCII str).
        # A try costs nothing until it raises; the type() checks it replaces cost
        # about 0.2 us a call.
        pass
    timestamp, candidates = parse_header(header)
    if not _matches(_keys(secret), timestamp, _as_bytes(payload), candidates):
        raise _no_match()
    _check_timestamp(timestamp, tolerance, now)


def _no_match() -> SignatureVerificationError:
    return _fail(
        "No signature in the header matches the payload for the given secret(s)",
        "no_matching_signature",
    )


def _check_timestamp(timestamp: int, tolerance: float | None, now: float | None) -> None:
    if tolerance is not None:
        current = time.time() if now is None else now
        if timestamp < current - tolerance:
            raise _fail(
                f"Timestamp too old: signed {current - timestamp:.0f} s ago "
                f"(tolerance {tolerance} s)",
                "timestamp_too_old",
            )
        if timestamp > current + tolerance:
            raise _fail(
                f"Timestamp in the future: {timestamp - current:.0f} s ahead "
                f"(tolerance {tolerance} s)",
                "timestamp_in_future",
            )


def _matches(keys: Sequence[bytes], timestamp: int, body: bytes, candidates: list[str]) -> bool:
    # Every comparison runs (no early exit between candidates) only within
    # compare_digest; which entry matched is not secret, the expected value is.
    message = b"%d." % timestamp + body
    for key in keys:
        expected = hmac.digest(key, message, "sha256").hex()
        for candidate in candidates:
            # compare_digest refuses non-ASCII str; such an entry cannot match anyway.
            if candidate.isascii() and hmac.compare_digest(expected, candidate):
                return True
    return False
