"""The webhook-endpoint services on a bare delivery database (no chain, no merchants)."""

from __future__ import annotations

from typing import Any

from delivery_support import SECRET_KEY

from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.db import Database
from lumenlater_sdk.backend.paging import PageRequest
from lumenlater_sdk.backend.services import webhook_endpoints
from lumenlater_sdk.backend.services.context import ServiceContext


def endpoint_context(db: Database) -> ServiceContext:
    """Just enough of a ServiceContext for the endpoint services: they use the database
    and the sealing key, never the chain."""
    return ServiceContext(
        config=BackendConfig(secret_key=SECRET_KEY),
        db=db,
        chain=None,  # type: ignore[arg-type]
        box=SecretBox(SECRET_KEY),
        contract_id="",
    )


class Endpoints:
    """:mod:`~lumenlater_sdk.backend.services.webhook_endpoints` bound to one database."""

    def __init__(self, db: Database) -> None:
        self.ctx = endpoint_context(db)

    def create(self, merchant_id: str, **fields: Any) -> dict[str, Any]:
        return webhook_endpoints.create_endpoint(self.ctx, merchant_id, **fields)

    def retrieve(self, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
        return webhook_endpoints.retrieve_endpoint(self.ctx, merchant_id, endpoint_id)

    def update(self, merchant_id: str, endpoint_id: str, **changes: Any) -> dict[str, Any]:
        return webhook_endpoints.update_endpoint(self.ctx, merchant_id, endpoint_id, **changes)

    def delete(self, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
        return webhook_endpoints.delete_endpoint(self.ctx, merchant_id, endpoint_id)

    def rotate_secret(self, merchant_id: str, endpoint_id: str, **kw: Any) -> dict[str, Any]:
        return webhook_endpoints.rotate_secret(self.ctx, merchant_id, endpoint_id, **kw)

    def deliveries(self, merchant_id: str, endpoint_id: str) -> list[dict[str, Any]]:
        """The whole attempt log (up to 100), newest first."""
        rows, _ = webhook_endpoints.list_deliveries(
            self.ctx, merchant_id, endpoint_id, PageRequest(limit=100)
        )
        return rows
