"""Turning a verified webhook body into a typed event, fast.

The body is parsed once by pydantic-core straight from bytes into the event class for
its ``type``. The type is peeked with a regex first; the peek is only a guess (a
nested object could hold a ``"type"`` key), so every guess is confirmed by the
class's ``Literal`` type field, and a wrong one falls back to the generic path.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from ..types.event import EVENT_CLASSES, BaseEvent, Event
from ._errors import InvalidPayloadError, SignatureVerificationError
from ._request import SecretResolver, WebhookRequest, is_resolver, resolved_keys
from ._signature import DEFAULT_TOLERANCE, Payload, Secrets, _as_bytes, verify_signature

__all__ = ["construct_event", "parse_event_payload"]

_TYPE_PEEK = re.compile(rb'"type"\s*:\s*"([^"\\]{1,200})"')
_CLASSES_BY_BYTES: dict[bytes, type[BaseEvent]] = {
    name.encode(): cls for name, cls in EVENT_CLASSES.items()
}


def parse_event_payload(payload: Payload) -> BaseEvent:
    """Parse an (already verified) event body into its typed class, or :class:`Event`.

    Raises :class:`InvalidPayloadError` when the body is not an event.
    """
    body = _as_bytes(payload)
    match = _TYPE_PEEK.search(body)
    guessed = _CLASSES_BY_BYTES.get(match.group(1)) if match else None
    if guessed is not None:
        try:
            return guessed.model_validate_json(body)
        except ValidationError:
            pass  # a wrong guess, or a broken body: the generic path tells which
    try:
        event = Event.model_validate_json(body)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise InvalidPayloadError(
                "The webhook body is not JSON", reason="invalid_json"
            ) from exc
        raise InvalidPayloadError(
            f"The webhook body is not a LumenLater event: {_faults(exc)}"
        ) from exc
    cls = EVENT_CLASSES.get(event.type)
    if cls is None:
        return event
    try:
        return cls.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidPayloadError(
            f"The webhook body is not a valid {event.type!r} event: {_faults(exc)}"
        ) from exc


def _faults(exc: ValidationError, most: int = 5) -> str:
    """Where the body is wrong and how, without echoing any of its values (they end up
    in logs, and a body may hold personal data)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg'].lower()}" for e in errors[:most]
    ]
    if len(errors) > most:
        parts.append(f"and {len(errors) - most} more")
    return "; ".join(parts)


def construct_event(
    payload: Payload,
    header: str | None,
    secret: Secrets | SecretResolver,
    tolerance: float | None = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
    request: WebhookRequest | None = None,
) -> BaseEvent:
    """Verify ``header`` against the raw ``payload`` and return the typed event.

    The class is chosen by ``type`` (``BillPaidEvent`` for ``"bill.paid"``, …); a type
    this SDK does not know yet gives a generic :class:`Event`. Raises
    :class:`SignatureVerificationError` if the signature does not verify and
    :class:`InvalidPayloadError` if the signed body is not an event.

    ``secret`` may be a (non-async) resolver, called with ``request`` (required then):
    the same function a multi-merchant :class:`WebhookApp` takes. When it returns no
    secret the error's ``reason`` is ``"no_secret"``.
    """
    if is_resolver(secret):
        if request is None:
            raise TypeError(
                "construct_event with a secret resolver needs request=WebhookRequest(…)"
            )
        keys = resolved_keys(secret(request))
        if keys is None:
            raise SignatureVerificationError(
                "No webhook secret is known for this URL", reason="no_secret"
            )
        secret = keys
    body = _as_bytes(payload)
    verify_signature(body, header, secret, tolerance, now=now)  # type: ignore[arg-type]
    return parse_event_payload(body)
