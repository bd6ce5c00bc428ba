"""Turning a verified webhook body into a typed event, fast.

The body is parsed once by pydantic-core straight from bytes into the event class for
its ``type``: one validator holds every typed event class as a union tagged by
``type``, so pydantic-core picks the class from the parsed top-level ``type`` (the
value the class's own ``Literal`` field then validates). A body it refuses (a type
this SDK does not know yet, no ``type``, a broken body) takes the generic path, which
gives a plain :class:`Event` or says what is wrong. :func:`peek_id_type` reads the
event's id and type for routing without building the typed event.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import SchemaValidator, core_schema

from ..types.event import EVENT_CLASSES, BaseEvent, Event, TypedEvent
from ._errors import InvalidPayloadError, SignatureVerificationError
from ._request import SecretResolver, WebhookRequest, is_resolver, resolved_keys
from ._signature import DEFAULT_TOLERANCE, Payload, Secrets, _as_bytes, verify_signature

__all__ = [
    "CANONICAL",
    "construct_event",
    "guess_id_type",
    "parse_event_payload",
    "parse_typed",
    "peek_id_type",
]

_VALIDATORS: dict[str, Any] = {
    # The model's pydantic-core validator: calling it skips model_validate_json's
    # Python wrapper (about 0.4 us a call) and gives the same instance.
    name: cls.__pydantic_validator__
    for name, cls in EVENT_CLASSES.items()
}

# Every typed event class in one pydantic-core validator that dispatches on the parsed
# top-level "type" (a tagged union), so the class is chosen while the body is parsed:
# no Python-side search of the body for its type (about 1 us a call at 1 KB) and no
# guess to confirm. The tag is the value the class's own Literal field sees (escapes
# decoded, a repeated key's last value); each class validates exactly as on its own.
_TYPED: Any = TypeAdapter(Annotated[TypedEvent, Field(discriminator="type")]).validator

# The event's top-level "id" and "type" as strings, every other key skipped: the same
# JSON parser (and the same rules: escapes decoded, a repeated key's last value) as the
# typed parse, so routing on it agrees with the event the handlers get.
_HEAD = SchemaValidator(
    core_schema.typed_dict_schema(
        {
            "id": core_schema.typed_dict_field(core_schema.str_schema()),
            "type": core_schema.typed_dict_field(core_schema.str_schema()),
        }
    )
)


# How LumenLater writes an event: compact JSON, id, object and type first. A match is
# the event's id and type unless a later top-level key repeats "id" or "type" (the
# last counts), which only peek_id_type, reading the whole body, can rule out.
CANONICAL = re.compile(
    rb'\{"id":"([\x21\x23-\x5b\x5d-\x7e]{1,255})","object":"event",'
    rb'"type":"([\x21\x23-\x5b\x5d-\x7e]{1,255})",'
)


def guess_id_type(body: bytes) -> tuple[str, str] | None:
    """The id and type at the start of a body written as LumenLater writes events: a
    guess in well under a microsecond, to be confirmed (see :func:`peek_id_type`)."""
    match = CANONICAL.match(body)
    if match is None:
        return None
    event_id, event_type = match.groups()
    return event_id.decode("ascii"), event_type.decode("ascii")


def peek_id_type(body: bytes) -> tuple[str, str] | None:
    """The id and type of an event body without the typed parse; ``None`` if the body
    is not a JSON object with string ``id`` and ``type`` (the full parse says why)."""
    try:
        head = _HEAD.validate_json(body)
    except ValueError:  # pydantic-core's ValidationError is one
        return None
    return head["id"], head["type"]


def parse_event_payload(payload: Payload) -> BaseEvent:
    """Parse an (already verified) event body into its typed class, or :class:`Event`.

    Raises :class:`InvalidPayloadError` when the body is not an event.
    """
    body = payload if type(payload) is bytes else _as_bytes(payload)
    try:
        return _TYPED.validate_json(body)  # type: ignore[no-any-return]
    except ValidationError:
        pass  # a type this SDK does not know, or a broken body: the generic path tells which
    return _parse_generic(body)


def parse_typed(body: bytes, event_type: str) -> BaseEvent:
    """:func:`parse_event_payload` when the type is already read (by
    :func:`guess_id_type` or :func:`peek_id_type`): straight to that type's class,
    the generic path if the body proves not to be one."""
    validator = _VALIDATORS.get(event_type)
    if validator is not None:
        try:
            return validator.validate_json(body)  # type: ignore[no-any-return]
        except ValidationError:
            pass
    return _parse_generic(body)


def _parse_generic(body: bytes) -> BaseEvent:
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
    if type(secret) is not str and is_resolver(secret):
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
    body = payload if type(payload) is bytes else _as_bytes(payload)
    verify_signature(body, header, secret, tolerance, now=now)  # type: ignore[arg-type]
    try:
        return _TYPED.validate_json(body)  # type: ignore[no-any-return]
    except ValidationError:
        pass
    return _parse_generic(body)
