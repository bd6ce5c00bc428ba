"""Request field types shared by the route modules: strict money, addresses, metadata."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from .._strkeys import is_account
from ..services.validation import (
    MAX_AMOUNT,
    MAX_EMBED_ORIGINS,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_URL_LENGTH,
    check_metadata,
    check_origin,
    check_url,
)

__all__ = [
    "Amount",
    "Body",
    "Currency",
    "EmbedOrigins",
    "EmptyBody",
    "ListQuery",
    "Metadata",
    "MetadataChanges",
    "Query",
    "ShortText",
    "StellarAddress",
    "Url",
]


# What the OpenAPI document says of these fields, so a client (and the schema fuzzer)
# knows the server's rules. A URL's or origin's pattern is a plain subset of what
# check_url / check_origin take (DNS names, optional port); the checksum of an address
# is beyond a pattern, hence its own format.
_LABEL = "[a-zA-Z0-9](?:[-a-zA-Z0-9]{0,30}[a-zA-Z0-9])?"
_HOST = f"{_LABEL}(?:[.]{_LABEL}){{0,4}}"
_PORT = "(?::[1-9][0-9]{0,3})?"
URL_PATTERN = f"^[hH][tT][tT][pP][sS]?://{_HOST}{_PORT}(?:/[-a-zA-Z0-9._~!$&'()*+,;=:@%/?#]*)?$"
ORIGIN_PATTERN = f"^[hH][tT][tT][pP][sS]?://{_HOST}{_PORT}$"
ADDRESS_PATTERN = "^G[A-Z2-7]{55}$"


def _address(value: str) -> str:
    if not is_account(value):
        raise ValueError("must be a Stellar account address (G…)")
    return value


# JSON numbers only: 10.0, "10" and true are refused, so no float ever becomes money.
Amount = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT, description="Stroops (1 USDC = 10^7).")]
StellarAddress = Annotated[
    str,
    StringConstraints(min_length=56, max_length=56),
    AfterValidator(_address),
    Field(json_schema_extra={"pattern": ADDRESS_PATTERN, "format": "stellar-account-id"}),
]
# The rules themselves live in services.validation, shared with direct service calls.
_METADATA_SCHEMA: dict[str, Any] = {
    "maxProperties": MAX_METADATA_KEYS,
    "propertyNames": {"minLength": 1, "maxLength": MAX_METADATA_KEY_LENGTH},
}
Metadata = Annotated[
    dict[str, Annotated[str, StringConstraints(max_length=MAX_METADATA_VALUE_LENGTH)]],
    AfterValidator(check_metadata),
    Field(
        description=f"Your own key-value strings (up to {MAX_METADATA_KEYS} keys), kept with "
        "the object and sent back with it and in its events.",
        json_schema_extra=_METADATA_SCHEMA,
    ),
]
MetadataChanges = Annotated[
    dict[str, Annotated[str, StringConstraints(max_length=MAX_METADATA_VALUE_LENGTH)]],
    Field(
        description="Keys to set in the object's metadata (an empty value removes a key); "
        "the others stay.",
        json_schema_extra=_METADATA_SCHEMA,
    ),
]
"""Metadata merged into stored metadata (an empty value removes a key): the service
checks the merged result, so only the shape is checked here."""
Url = Annotated[
    str,
    StringConstraints(max_length=MAX_URL_LENGTH),
    AfterValidator(check_url),
    Field(json_schema_extra={"pattern": URL_PATTERN}),
]
ShortText = Annotated[str, StringConstraints(max_length=500)]
Origin = Annotated[
    str,
    StringConstraints(max_length=300),
    AfterValidator(check_origin),
    Field(
        description="scheme://host[:port], no path (https://shop.example).",
        json_schema_extra={"pattern": ORIGIN_PATTERN},
    ),
]
EmbedOrigins = Annotated[list[Origin], Field(max_length=MAX_EMBED_ORIGINS)]
Currency = Annotated[
    str, StringConstraints(pattern="^usdc$"), Field(description="usdc, the only currency.")
]


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error (``parameter_unknown``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class EmptyBody(Body):
    """A body with no fields (``{}`` or nothing)."""


class Query(BaseModel):
    """Base of query strings: values arrive as text, so numbers are parsed (lax)."""

    model_config = ConfigDict(extra="forbid")


class ListQuery(Query):
    """Pagination shared by every list."""

    limit: Annotated[int, Field(ge=1, le=100)] = Field(
        10, description="Objects per page, 1 to 100 (default 10)."
    )
    starting_after: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="An object's id: the page of older objects after it."
    )
    ending_before: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="An object's id: the page of newer objects before it."
    )


def dump(model: BaseModel | None) -> dict[str, Any]:
    """A model's set fields as a dict."""
    return {} if model is None else model.model_dump(exclude_unset=True)
