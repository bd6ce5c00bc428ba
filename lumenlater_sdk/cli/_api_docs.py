"""What each parameter of a resource command means, in the words of the OpenAPI
document the backend serves (``GET /v1/openapi.json``).

The command line runs without the backend extra, so it reads the descriptions from
:mod:`._api_docs_data`, which this module writes from the document built in-process
(no server): ``python -m lumenlater_sdk.cli._api_docs`` (needs the backend extra).
``tests/cli/test_cli_api_docs.py`` builds the document again and fails when the two
differ, so ``--help`` never drifts from the API.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["OPERATIONS", "description", "main", "parameter_descriptions"]

OPERATIONS: dict[tuple[str, str], str] = {
    ("account", "get"): "retrieveAccount",
    ("bills", "list"): "listBills",
    ("bills", "get"): "retrieveBill",
    ("bills", "create"): "createBill",
    ("bills", "cancel"): "cancelBill",
    ("chain", "get"): "retrieveChain",
    ("checkout_sessions", "list"): "listCheckoutSessions",
    ("checkout_sessions", "get"): "retrieveCheckoutSession",
    ("checkout_sessions", "create"): "createCheckoutSession",
    ("checkout_sessions", "expire"): "expireCheckoutSession",
    ("events", "list"): "listEvents",
    ("events", "get"): "retrieveEvent",
    ("events", "resend"): "resendEvent",
    ("webhook_endpoints", "list"): "listWebhookEndpoints",
    ("webhook_endpoints", "get"): "retrieveWebhookEndpoint",
    ("webhook_endpoints", "create"): "createWebhookEndpoint",
    ("webhook_endpoints", "update"): "updateWebhookEndpoint",
    ("webhook_endpoints", "delete"): "deleteWebhookEndpoint",
    ("webhook_endpoints", "rotate_secret"): "rotateWebhookEndpointSecret",
    ("webhook_endpoints", "deliveries"): "listWebhookDeliveries",
    ("wallets", "list"): "listTestWallets",
    ("wallets", "get"): "retrieveTestWallet",
    ("wallets", "create"): "createTestWallet",
    ("test_bills", "pay"): "payTestBill",
    ("test_bills", "repay"): "repayTestBill",
    ("test_bills", "liquidate"): "liquidateTestBill",
    ("merchants", "create"): "createTestMerchant",
    ("merchants", "approve"): "approveTestMerchant",
    ("merchants", "suspend"): "suspendTestMerchant",
    ("merchants", "reject"): "rejectTestMerchant",
}
"""``lumenlater RESOURCE ACTION`` → the API operation its SDK method calls."""

# The SDK's idempotency_key is the operation's Idempotency-Key header.
_HEADERS = {"Idempotency-Key": "idempotency_key"}


def description(resource: str, action: str, name: str) -> str:
    """What parameter *name* of ``lumenlater RESOURCE ACTION`` means ("" if the API
    document does not say)."""
    from ._api_docs_data import DESCRIPTIONS

    operation = OPERATIONS.get((resource, action), "")
    return DESCRIPTIONS.get(operation, {}).get(name, "")


def parameter_descriptions(document: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Operation id → {parameter: description} for the operations in :data:`OPERATIONS`:
    the body's properties, the query parameters and the Idempotency-Key header."""
    schemas = document["components"]["schemas"]
    wanted = set(OPERATIONS.values())
    out: dict[str, dict[str, str]] = {}
    for methods in document["paths"].values():
        for op in methods.values():
            if op["operationId"] not in wanted:
                continue
            found: dict[str, str] = {}
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    continue
                name = _HEADERS.get(param["name"], param["name"])
                found[name] = _text(param)
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                schema = _resolve(body["schema"], schemas)
                for name, prop in schema.get("properties", {}).items():
                    found[name] = _text(prop)
            out[op["operationId"]] = {k: v for k, v in sorted(found.items()) if v}
    return dict(sorted(out.items()))


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    return schemas[ref.rsplit("/", 1)[1]] if ref else schema


def _text(schema: Mapping[str, Any]) -> str:
    """A property's description, or that of its one non-null branch (``X | None``)."""
    if schema.get("description"):
        return str(schema["description"])
    for branch in schema.get("anyOf", ()):
        if branch.get("type") != "null" and branch.get("description"):
            return str(branch["description"])
    return ""


def build_document() -> dict[str, Any]:
    """The document ``GET /v1/openapi.json`` serves, built in-process (backend extra)."""
    from ..backend.http import build_openapi
    from ..backend.routes import api_routes

    return build_openapi(api_routes(), server_url="http://127.0.0.1:8787")


def render_data(descriptions: Mapping[str, Mapping[str, str]]) -> str:
    """The source of :mod:`._api_docs_data` holding *descriptions* (as ``ruff format``
    leaves it: one entry a line, trailing commas)."""
    lines = [
        '"""Generated from the OpenAPI document by ``python -m lumenlater_sdk.cli._api_docs``;',
        'do not edit."""',
        "",
        "# ruff: noqa: E501",
        "",
        "DESCRIPTIONS: dict[str, dict[str, str]] = {",
    ]
    for operation, params in sorted(descriptions.items()):
        if not params:
            continue
        lines.append(f"    {json.dumps(operation)}: {{")
        lines += [
            f"        {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},"
            for k, v in sorted(params.items())
        ]
        lines.append("    },")
    return "\n".join([*lines, "}", ""])


DATA_FILE = Path(__file__).with_name("_api_docs_data.py")


def main() -> int:
    """Rewrite :mod:`._api_docs_data` from the document the backend serves."""
    DATA_FILE.write_text(render_data(parameter_descriptions(build_document())), "utf-8")
    print(f"wrote {DATA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
