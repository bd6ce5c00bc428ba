"""Schemathesis hooks for the OpenAPI fuzz (loaded with ``SCHEMATHESIS_HOOKS``).

The document states every rule of one field that OpenAPI can state. What it cannot
state is taught here, and only for the requests Schemathesis calls valid (negative
cases go out untouched, so the server must still refuse them):

- a Stellar account id carries a checksum: the ``stellar-account-id`` format makes
  real ones (and pattern-made ones in valid cases are replaced by real ones);
- JSON Schema's ``integer`` admits ``4.0``, the API takes integers written as such
  (no float ever becomes money): whole floats are written as integers;
- ``starting_after`` and ``ending_before`` exclude each other: the second is dropped;
- a metrics window runs forwards over at most 400 intervals: ``end`` is moved;
- a reused ``Idempotency-Key`` replays its first answer (even for an object deleted
  since): each valid request gets a key of its own;
- a trigger's ``overrides`` name only the object its ``type`` makes (a ``bill`` or a
  ``checkout_session``): the others are dropped;
- a session's ``amount`` equals the sum of its ``line_items`` when both are sent, and
  every line and the sum stay within the amount cap: the lines are kept small and
  the amount set to their sum.

And whatever the mode, the run's own API key (id in ``LUMENLATER_FUZZ_KEY_ID``) is
never rolled or revoked: the fuzzer would lock itself out (a valid thing to ask, and
the server allows it while the account keeps another secret key).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from typing import Any

import schemathesis
from hypothesis import strategies as st
from stellar_sdk import StrKey

from lumenlater_sdk.backend.http._fields import ADDRESS_PATTERN
from lumenlater_sdk.backend.routes.analytics import MAX_TIME
from lumenlater_sdk.backend.services.events_api import made_by
from lumenlater_sdk.backend.services.validation import MAX_AMOUNT

schemathesis.openapi.format(
    "stellar-account-id",
    st.binary(min_size=32, max_size=32).map(StrKey.encode_ed25519_public_key),
)

_ADDRESS = re.compile(ADDRESS_PATTERN)
_UNIT = {"day": 86_400, "week": 7 * 86_400, "month": 31 * 86_400}


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _number(value: Any) -> int | None:
    """A query value as the server reads it (text or a number), or ``None``."""
    try:
        return int(str(value))
    except ValueError:
        return None


def _window(query: dict[str, Any]) -> None:
    start, end = _number(query.get("start")), _number(query.get("end"))
    if start is None:
        return
    span = 300 * _UNIT.get(str(query.get("interval", "day")), _UNIT["day"])
    if end is None or not 0 < end - start <= span:
        start = min(start, MAX_TIME - 86_400)
        query["start"], query["end"] = start, start + 86_400


def _addresses(value: Any) -> Any:
    """A pattern-only Stellar address (the coverage phase ignores formats) made real."""
    if (
        isinstance(value, str)
        and _ADDRESS.match(value)
        and not StrKey.is_valid_ed25519_public_key(value)
    ):
        return StrKey.encode_ed25519_public_key(hashlib.sha256(value.encode()).digest())
    if isinstance(value, dict):
        return {k: _addresses(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_addresses(v) for v in value]
    return value


def _session(body: dict[str, Any]) -> None:
    lines = body.get("line_items")
    if not lines:
        if body.get("amount") is None:
            body["amount"] = 10_000_000
        return
    cap = MAX_AMOUNT // len(lines)
    for line in lines:
        line["unit_amount"] = max(1, min(line["unit_amount"], cap // line["quantity"]))
    if "amount" in body:
        body["amount"] = sum(li["quantity"] * li["unit_amount"] for li in lines)


def _trigger(body: dict[str, Any]) -> None:
    overrides = body.get("overrides")
    if isinstance(overrides, dict) and isinstance(body.get("type"), str):
        made = made_by(body["type"])
        body["overrides"] = {k: v for k, v in overrides.items() if k == made}


def _own_key(key: str) -> str:
    """*key* made this request's own: a key used again replays its first answer, even
    for an object deleted since (Stripe's rule), which the resource checks would take
    for a lost object."""
    return f"{key[:200]}-{uuid.uuid4().hex}"


_KEY_OPS = ("POST /v1/api_keys/{id}/roll", "POST /v1/api_keys/{id}/revoke")


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """Bring a valid case within the cross-field rules above (see the module)."""
    own_key = os.environ.get("LUMENLATER_FUZZ_KEY_ID")
    if case.operation.label in _KEY_OPS and (case.path_parameters or {}).get("id") == own_key:
        case.path_parameters["id"] = "key_of_another_run"
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if isinstance(case.body, dict | list):
        case.body = _addresses(_integral(case.body))
    if case.headers and case.headers.get("Idempotency-Key"):
        case.headers["Idempotency-Key"] = _own_key(case.headers["Idempotency-Key"])
    if isinstance(case.query, dict):
        if "starting_after" in case.query:
            case.query.pop("ending_before", None)
        if case.operation.label == "GET /v1/analytics/metrics":
            _window(case.query)
    if case.operation.label == "POST /v1/checkout/sessions" and isinstance(case.body, dict):
        _session(case.body)
    if case.operation.label == "POST /v1/test_helpers/events/trigger" and isinstance(
        case.body, dict
    ):
        _trigger(case.body)
    return case


# Refusals that say the input itself is wrong; any other 400 is about the state of
# the objects involved (a bill already paid, a wallet that does not exist).
INPUT_CODES = frozenset(
    {
        "parameter_invalid",
        "parameter_missing",
        "parameter_unknown",
        "invalid_json",
        "unsupported_media_type",
    }
)


@schemathesis.check
def valid_input_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the document calls valid is never refused for its input.

    ``positive_data_acceptance`` runs too, with 400 among its expected statuses (the
    API answers 400 for a state refusal, as Stripe does); this check holds every 400
    to a code that is not about the input.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    if code in INPUT_CODES or code is None:
        raise AssertionError(f"A schema-valid request was refused for its input: {code}")
    return None
