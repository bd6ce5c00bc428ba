"""Who a key is, and what the account says about its merchant (read from the contract)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.testing import SandboxHandle


def set_chain_status(sb: SandboxHandle, merchant: str, status: str) -> None:
    """The admin changes the merchant's status on chain (as the deployed admin would)."""
    admin = sb.backend.genesis.admin
    sb.backend.gateway.invoke(
        "bnpl_core", "update_merchant_status", [admin.public_key, merchant, status], signer=admin
    )


@pytest.mark.parametrize(
    ("chain_status", "shown"),
    [
        ("Suspended", "suspended"),
        ("Rejected", "rejected"),
        ("Cancelled", "cancelled"),
        ("Pending", "pending"),
        ("Approved", "approved"),
    ],
)
def test_account_status_comes_from_the_contract(
    api: Api, sb: SandboxHandle, chain_status: str, shown: str
) -> None:
    set_chain_status(sb, sb.merchant_id, chain_status)
    account = api.ok("GET", "/v1/account")
    assert account["status"] == shown
    assert account["id"] == sb.merchant_id


def test_a_suspended_merchant_is_shown_suspended_and_cannot_bill(
    api: Api, sb: SandboxHandle
) -> None:
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    set_chain_status(sb, sb.merchant_id, "Suspended")
    assert api.ok("GET", "/v1/account")["status"] == "suspended"
    r = api.post("/v1/bills", {"customer": customer, "amount": 10_000_000})
    assert r.status_code == 400 and r.json()["error"]["code"] == "merchant_not_approved"
    set_chain_status(sb, sb.merchant_id, "Approved")
    assert api.ok("GET", "/v1/account")["status"] == "approved"
    assert api.post("/v1/bills", {"customer": customer, "amount": 10_000_000}).status_code == 200


def test_another_merchants_status_does_not_leak(api: Api, sb: SandboxHandle) -> None:
    other = sb.create_merchant("Other Shop")
    set_chain_status(sb, other.merchant_id, "Suspended")
    assert api.ok("GET", "/v1/account")["status"] == "approved"
    with Api(sb.base_url, other.secret_key) as theirs:
        assert theirs.ok("GET", "/v1/account")["status"] == "suspended"


def test_each_key_authenticates_as_its_own_merchant(api: Api, sb: SandboxHandle) -> None:
    other = sb.create_merchant("Other Shop")
    with Api(sb.base_url, other.secret_key) as theirs:
        for _ in range(2):  # the second time from the key cache
            assert theirs.ok("GET", "/v1/account")["id"] == other.merchant_id
            assert api.ok("GET", "/v1/account")["id"] == sb.merchant_id
            assert theirs.ok("GET", "/v1/account")["business_name"] == "Other Shop"


@pytest.mark.parametrize(
    "key",
    [
        "sk_test_",
        "Bearer",
        "rk_test_abcdef",
        "sk_live_" + "0" * 40,
        "pk_test_" + "0" * 40,
    ],
)
def test_unknown_keys_are_refused(sb: SandboxHandle, key: str) -> None:
    with httpx.Client(base_url=sb.base_url) as c:
        r = c.get("/v1/account", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["type"] == "authentication_error"


def test_a_key_with_one_character_changed_is_refused(sb: SandboxHandle) -> None:
    good = sb.secret_key
    variants = [
        good[:-1] + ("a" if good[-1] != "a" else "b"),
        good + "0",
        good[:-1],
        good.upper(),
        good.replace("sk_", "pk_", 1),
    ]
    with httpx.Client(base_url=sb.base_url) as c:
        assert c.get("/v1/account", headers={"Authorization": f"Bearer {good}"}).status_code == 200
        for key in variants:
            r = c.get("/v1/account", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code in (401, 403), key
            if r.status_code == 403:  # a publishable key of the same merchant is a real key
                pytest.fail(f"a mangled secret key was accepted as another key: {key!r}")


def test_an_overlong_key_is_refused_without_a_lookup(sb: SandboxHandle) -> None:
    with httpx.Client(base_url=sb.base_url) as c:
        r = c.get("/v1/account", headers={"Authorization": "Bearer sk_test_" + "a" * 300})
    assert r.status_code == 401


def test_the_publishable_key_is_a_publishable_principal(sb: SandboxHandle) -> None:
    with Api(sb.base_url, sb.publishable_key) as pk:
        r = pk.get("/v1/account")
    assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"


def test_account_falls_back_to_the_stored_status_when_the_chain_cannot_answer(
    sb: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lumenlater_sdk.backend.chain import ContractError
    from lumenlater_sdk.backend.services import merchants

    ctx = sb.backend.ctx

    def unreachable(*args: object, **kw: object) -> object:
        raise ContractError("bnpl_core", 0, "Unreachable", "relay down")

    monkeypatch.setattr(ctx.chain, "read", unreachable)
    account = merchants.account(ctx, sb.merchant_id)
    assert account["status"] == "approved"  # the mirror kept in the database
    assert account == {
        "object": "account",
        "id": sb.merchant_id,
        "business_name": "Sandbox Shop",
        "status": "approved",
        "custody": "managed",
        "fee_rate_bps": 150,
        "settlement_currency": "usdc",
        "livemode": False,
        "created": account["created"],
        "authorization": None,
        "embed_origins": [],
    }
    assert isinstance(account["created"], int) and account["created"] > 1_600_000_000


def test_an_unknown_merchant_has_no_account(sb: SandboxHandle) -> None:
    from lumenlater_sdk.backend.services import merchants
    from lumenlater_sdk.backend.services.errors import NotFound

    with pytest.raises(NotFound) as info:
        merchants.account(sb.backend.ctx, "G" + "A" * 55)
    assert str(info.value) == "No such account"


def test_a_merchant_made_with_the_defaults_is_a_test_mode_sandbox_shop(sb: SandboxHandle) -> None:
    creds = sb.backend.create_merchant()
    assert creds.business_name == "Sandbox Shop"
    assert creds.secret_key.startswith("sk_test_") and creds.publishable_key.startswith("pk_test_")
    with Api(sb.base_url, creds.secret_key) as api:
        account = api.ok("GET", "/v1/account")
    assert account["business_name"] == "Sandbox Shop" and account["livemode"] is False
    on_chain = sb.backend.gateway.read("bnpl_core", "get_merchant", [creds.merchant_id])
    assert on_chain["status"] == "Approved"
    assert str(on_chain["merchant_info_id"]).startswith("mi_")


def test_a_live_mode_merchant_gets_live_keys(sb: SandboxHandle) -> None:
    creds = sb.backend.create_merchant("Live Shop", livemode=True)
    assert creds.secret_key.startswith("sk_live_") and creds.publishable_key.startswith("pk_live_")
    with Api(sb.base_url, creds.secret_key) as api:
        account = api.ok("GET", "/v1/account")
    assert account["livemode"] is True and account["business_name"] == "Live Shop"
    with Api(sb.base_url, creds.publishable_key) as pk:
        assert pk.get("/v1/account").status_code == 403


def test_keys_are_stored_as_hashes_with_a_short_hint(sb: SandboxHandle) -> None:
    creds = sb.create_merchant("Stored Keys Shop")
    with sb.backend.db.transaction(write=False) as tx:
        rows = tx.fetchall(
            "SELECT id, kind, livemode, key_hash, hint FROM api_keys WHERE merchant_id = ?",
            (creds.merchant_id,),
        )
    by_kind = {row["kind"]: row for row in rows}
    assert set(by_kind) == {"secret", "publishable"}
    for kind, key in (("secret", creds.secret_key), ("publishable", creds.publishable_key)):
        row = by_kind[kind]
        assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
        # Enough to recognise a key in a list, never enough to use it.
        assert row["hint"] == f"{key[:8]}…{key[-4:]}"
        assert str(row["id"]).startswith("key_") and not row["livemode"]
    url = sb.backend.config.database_url
    if url.startswith("sqlite:///"):  # the file itself, write-ahead log included
        path = Path(url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert creds.secret_key.encode() not in raw and creds.publishable_key.encode() not in raw


def test_a_key_of_another_kind_is_not_a_secret_key(sb: SandboxHandle) -> None:
    # Secret routes take exactly a secret key (an allow-list), not "anything but publishable".
    creds = sb.create_merchant("Kinds Shop")
    with sb.backend.db.transaction() as tx:
        tx.execute(
            "UPDATE api_keys SET kind = 'restricted' WHERE merchant_id = ? AND kind = 'secret'",
            (creds.merchant_id,),
        )
    with Api(sb.base_url, creds.secret_key) as api:
        r = api.get("/v1/account")
    assert r.status_code == 403 and r.json()["error"]["code"] == "secret_key_required"
