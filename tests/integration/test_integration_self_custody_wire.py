"""Self custody on the wire (``/v1/bills/{id}/authorize``), spoken as any language would:
plain HTTP and stellar-sdk's own signing. The SDK's signer is tested in
``test_integration_custody.py``."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from stellar_sdk import Keypair, xdr
from stellar_sdk.auth import authorize_entry

from lumenlater_sdk.backend.chain.soroban import contract_invocation
from lumenlater_sdk.backend.testing import SandboxHandle

USDC = 10_000_000


@dataclasses.dataclass
class Shop:
    http: httpx.Client
    key: Keypair
    merchant_id: str


@pytest.fixture
def shop(sb: SandboxHandle) -> Iterator[Shop]:
    key = Keypair.random()
    creds = sb.create_self_custody_merchant(key)
    with httpx.Client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {creds.secret_key}"}, timeout=30
    ) as http:
        yield Shop(http, key, creds.merchant_id)


def post(shop: Shop, path: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    return shop.http.post(path, json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def customer(shop: Shop) -> str:
    wallets = shop.http.get("/v1/test_helpers/wallets").json()["data"]
    return str(next(w["address"] for w in wallets if w["name"] == "approve"))


def pending_bill(shop: Shop, amount: int = 20 * USDC, order_id: str = "ORD-1") -> dict[str, Any]:
    made = post(
        shop, "/v1/bills", {"customer": customer(shop), "amount": amount, "order_id": order_id}
    )
    assert made.status_code == 200, made.text
    bill: dict[str, Any] = made.json()
    return bill


def sign(bill: dict[str, Any], signer: Keypair) -> str:
    auth = bill["authorization"]
    signed = authorize_entry(
        auth["entry_xdr"], signer, auth["signature_expiration_ledger"], auth["network_passphrase"]
    )
    return str(signed.to_xdr())


def authorize(shop: Shop, bill: dict[str, Any], signed: str) -> httpx.Response:
    return post(shop, f"/v1/bills/{bill['id']}/authorize", {"signed_entry_xdr": signed})


def invalid(r: httpx.Response) -> bool:
    return error(r)[:2] == (400, "authorization_invalid")


def error(r: httpx.Response) -> tuple[int, str, str | None]:
    e = r.json()["error"]
    return r.status_code, e["code"], e["param"]


def test_a_self_custody_bill_waits_for_the_merchants_signature(
    sb: SandboxHandle, shop: Shop
) -> None:
    account = shop.http.get("/v1/account").json()
    assert account["custody"] == "self" and account["id"] == shop.key.public_key
    bill = pending_bill(shop)
    assert bill["status"] == "requires_authorization" and bill["chain"] is None
    auth = bill["authorization"]
    info = shop.http.get("/v1/chain").json()
    assert auth["object"] == "chain_authorization"
    assert auth["address"] == shop.key.public_key and auth["function"] == "create_bill"
    assert auth["contract_id"] == info["contracts"]["bnpl_core"]
    assert auth["network_passphrase"] == info["network_passphrase"]
    assert isinstance(auth["nonce"], str) and int(auth["nonce"]) >= 0
    assert auth["signature_expiration_ledger"] > info["latest_ledger"]
    entry = xdr.SorobanAuthorizationEntry.from_xdr(auth["entry_xdr"])
    assert entry.credentials.address is not None
    assert entry.credentials.address.nonce.int64 == int(auth["nonce"])
    expected = contract_invocation(
        auth["contract_id"],
        "bnpl_core",
        "create_bill",
        [shop.key.public_key, bill["customer"], bill["amount"], "ORD-1"],
    )
    assert entry.root_invocation.to_xdr_bytes() == expected.to_xdr_bytes()
    # Nothing happened on chain, so nothing was announced.
    assert shop.http.get("/v1/events").json()["data"] == []
    assert shop.http.get(f"/v1/bills/{bill['id']}").json() == bill
    listed = shop.http.get("/v1/bills", params={"status": "requires_authorization"}).json()
    assert [b["id"] for b in listed["data"]] == [bill["id"]]

    done = post(
        shop, f"/v1/bills/{bill['id']}/authorize", {"signed_entry_xdr": sign(bill, shop.key)}
    )
    assert done.status_code == 200, done.text
    created = done.json()
    assert created["status"] == "created" and created["authorization"] is None
    assert created["chain"]["contract_id"] == auth["contract_id"]
    number = created["chain"]["bill_number"]
    on_chain = sb.backend.gateway.read("bnpl_core", "get_bill", [number])
    assert (on_chain["merchant"], on_chain["principal"]) == (shop.key.public_key, 20 * USDC)
    assert [e["type"] for e in shop.http.get("/v1/events").json()["data"]] == ["bill.created"]
    # It pays like any bill.
    paid = post(shop, f"/v1/test_helpers/bills/{bill['id']}/pay", {"wallet": "approve"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text


def test_only_the_merchants_signature_over_this_bill_is_accepted(
    sb: SandboxHandle, shop: Shop
) -> None:
    bill = pending_bill(shop, order_id="ORD-2")
    path = f"/v1/bills/{bill['id']}/authorize"
    # Signed by another key.
    assert error(post(shop, path, {"signed_entry_xdr": sign(bill, Keypair.random())})) == (
        400,
        "authorization_invalid",
        "signed_entry_xdr",
    )
    # The merchant's own signature over different arguments (another amount).
    auth = bill["authorization"]
    entry = xdr.SorobanAuthorizationEntry.from_xdr(auth["entry_xdr"])
    entry.root_invocation = contract_invocation(
        auth["contract_id"],
        "bnpl_core",
        "create_bill",
        [shop.key.public_key, bill["customer"], 1, "ORD-2"],
    )
    other = authorize_entry(
        entry, shop.key, auth["signature_expiration_ledger"], auth["network_passphrase"]
    ).to_xdr()
    assert error(post(shop, path, {"signed_entry_xdr": other}))[:2] == (
        400,
        "authorization_invalid",
    )
    # The right invocation signed for another network.
    wrong_net = authorize_entry(
        auth["entry_xdr"],
        shop.key,
        auth["signature_expiration_ledger"],
        "Test SDF Network ; September 2015",
    ).to_xdr()
    assert error(post(shop, path, {"signed_entry_xdr": wrong_net}))[:2] == (
        400,
        "authorization_invalid",
    )
    # Another expiration than the one handed out.
    later = authorize_entry(
        auth["entry_xdr"],
        shop.key,
        auth["signature_expiration_ledger"] + 1,
        auth["network_passphrase"],
    ).to_xdr()
    assert error(post(shop, path, {"signed_entry_xdr": later}))[:2] == (
        400,
        "authorization_invalid",
    )
    for junk in ["", "bm90IHhkcg==", "%%%"]:
        got = post(shop, path, {"signed_entry_xdr": junk})
        assert got.status_code == 400 and got.json()["error"]["param"] == "signed_entry_xdr", (
            got.text
        )
    # None of that reached the chain or the events.
    assert shop.http.get(f"/v1/bills/{bill['id']}").json()["status"] == "requires_authorization"
    assert shop.http.get("/v1/events").json()["data"] == []

    # The real one, then a replay of it.
    good = sign(bill, shop.key)
    key = str(uuid.uuid4())
    first = post(shop, path, {"signed_entry_xdr": good}, key)
    assert first.status_code == 200, first.text
    assert post(shop, path, {"signed_entry_xdr": good}, key).json() == first.json()  # same key
    assert error(post(shop, path, {"signed_entry_xdr": good})) == (
        400,
        "bill_not_awaiting_authorization",
        None,
    )
    # The entry of one bill does not authorize another.
    second = pending_bill(shop, order_id="ORD-2")
    assert invalid(authorize(shop, second, good))
    bills = shop.http.get("/v1/bills").json()["data"]
    assert sorted(b["status"] for b in bills) == ["created", "requires_authorization"]


def test_a_pending_bill_can_be_cancelled_and_is_not_payable(shop: Shop) -> None:
    bill = pending_bill(shop, order_id="ORD-3")
    refused = post(shop, f"/v1/test_helpers/bills/{bill['id']}/pay", {"wallet": "approve"})
    assert error(refused)[:2] == (400, "bill_requires_authorization")
    cancelled = post(shop, f"/v1/bills/{bill['id']}/cancel", {})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["authorization"] is None
    late = post(
        shop, f"/v1/bills/{bill['id']}/authorize", {"signed_entry_xdr": sign(bill, shop.key)}
    )
    assert error(late)[:2] == (400, "bill_not_awaiting_authorization")


def test_a_managed_merchant_is_unchanged(sb: SandboxHandle) -> None:
    with httpx.Client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.secret_key}"}, timeout=30
    ) as http:
        assert http.get("/v1/account").json()["custody"] == "managed"
        approve = customer(Shop(http, Keypair.random(), sb.merchant_id))
        made = http.post("/v1/bills", json={"customer": approve, "amount": 5 * USDC}).json()
        assert made["status"] == "created" and made["authorization"] is None
        assert made["chain"]["bill_number"] > 0


def _strings(sb: SandboxHandle) -> Iterator[str]:
    """Every text value stored by the backend (and, on SQLite, its files' raw bytes)."""
    db = sb.backend.db
    with db.transaction(write=False) as tx:
        if sb.config.database_url.startswith("sqlite"):
            tables = [
                r["name"]
                for r in tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
        else:
            tables = [
                r["table_name"]
                for r in tx.fetchall(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
            ]
        for table in tables:
            for row in tx.fetchall(f'SELECT * FROM "{table}"'):
                yield from (str(v) for v in row.values())
    if sb.config.database_url.startswith("sqlite:///"):
        base = Path(sb.config.database_url.removeprefix("sqlite:///"))
        for path in base.parent.glob(base.name + "*"):
            yield path.read_bytes().decode("latin-1")


def test_no_merchant_secret_is_stored_or_logged(
    sb: SandboxHandle, shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bill = pending_bill(shop, order_id="ORD-4")
    done = post(
        shop, f"/v1/bills/{bill['id']}/authorize", {"signed_entry_xdr": sign(bill, shop.key)}
    )
    assert done.status_code == 200, done.text
    assert (
        post(shop, f"/v1/test_helpers/bills/{bill['id']}/pay", {"wallet": "approve"}).status_code
        == 200
    )
    assert post(shop, f"/v1/test_helpers/bills/{bill['id']}/repay", {}).status_code == 200
    raw_seed = shop.key.raw_secret_key()
    forms = {shop.key.secret, raw_seed.hex(), raw_seed.decode("latin-1")}
    import base64

    forms.add(base64.b64encode(raw_seed).decode())
    for text in _strings(sb):
        assert not any(form in text for form in forms)
    assert not any(form in caplog.text for form in forms)
