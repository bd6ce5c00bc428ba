"""Schema upgrades from an older database, and the events/trigger test helper."""

from __future__ import annotations

from backend_helpers import SECRET_KEY, Api

from lumenlater_sdk.backend import Backend, BackendConfig
from lumenlater_sdk.backend.db import connect, migrate
from lumenlater_sdk.backend.store import COMPONENT, MIGRATIONS


def test_database_from_first_migration_upgrades(db_url: str) -> None:
    with connect(db_url) as db:
        assert migrate(db, COMPONENT, MIGRATIONS[:1]) == 1
    backend = Backend(BackendConfig(database_url=db_url, secret_key=SECRET_KEY))
    try:
        with backend.db.transaction(write=False) as tx:
            versions = {
                r["version"]
                for r in tx.fetchall(
                    "SELECT version FROM schema_migrations WHERE component = ?", (COMPONENT,)
                )
            }
            assert versions == {m.version for m in MIGRATIONS}
            assert tx.fetchall("SELECT * FROM ledger_lines") == []
        assert backend.create_merchant("Upgraded").secret_key.startswith("sk_test_")
    finally:
        backend.close()


def test_trigger_each_event_type(api1: Api) -> None:
    for event_type in (
        "bill.created",
        "bill.paid",
        "bill.repaid",
        "bill.cancelled",
        "checkout.session.completed",
        "checkout.session.expired",
        "payment.failed",
        "bill.overdue",
        "bill.liquidated",
        "bill.expired",
    ):
        ev = api1.ok("POST", "/v1/test_helpers/events/trigger", json={"type": event_type})
        assert ev["type"] == event_type and ev["id"].startswith("evt_"), event_type
        assert api1.ok("GET", f"/v1/events/{ev['id']}") == ev
    r = api1.post("/v1/test_helpers/events/trigger", {"type": "nope"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "type"
    only = api1.ok("GET", "/v1/events", params={"type": "bill.liquidated"})["data"]
    assert [e["type"] for e in only] == ["bill.liquidated"]
