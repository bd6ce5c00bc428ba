"""One typed seam to the chain: what a real chain offers, what only a sandbox adds, and
the protocol constants taken from the gateway everywhere.

A backend on a gateway that is not :class:`SandboxControls` (here the local contracts
behind a wrapper offering only :class:`ChainGateway`, as a real network would) keeps
every API that a real chain can serve and refuses the sandbox powers with 403
``sandbox_only``. A backend whose gateway runs with other constants shows them in
every deadline, fee and derived status.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_helpers import SECRET_KEY, Api
from stellar_sdk import Keypair

from lumenlater_sdk._ports import free_port
from lumenlater_sdk._serving import ThreadedServer
from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.app import Backend, create_app
from lumenlater_sdk.backend.chain import (
    SCALE,
    ChainGateway,
    ChainInfo,
    ContractEvent,
    PreparedTransaction,
    ProtocolConstants,
    SandboxControls,
    TxRecord,
)
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.db import Tx, connect
from lumenlater_sdk.backend.services.errors import SandboxOnly
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

DAY = 86_400


# --- the constants --------------------------------------------------------------------


def test_the_default_constants_are_the_deployed_contracts() -> None:
    c = ProtocolConstants()
    assert (c.merchant_fee_rate, c.late_interest_apr, c.max_ltv, c.collateral_ratio) == (
        150_000,
        3_000_000,
        9_000_000,
        11_100_000,
    )
    assert (c.bill_duration, c.grace_period, c.liquidation_after) == (DAY, 14 * DAY, 28 * DAY)
    assert c.fee_rate_bps == 150


def test_constants_read_from_get_protocol_constants() -> None:
    """The deployed contract names 8 constants; the others keep the given defaults."""
    deployed = {
        "COLLATERAL_RATIO": 12_000_000,
        "FEE_TO_INSURANCE_RATIO": 1_000_000,
        "FEE_TO_LP_RATIO": 7_000_000,
        "FEE_TO_TREASURY_RATIO": 2_000_000,
        "GRACE_PERIOD_DAYS": 10,
        "LATE_INTEREST_APR": 2_000_000,
        "MAX_LTV": 8_000_000,
        "MERCHANT_FEE_RATE": 250_000,
        "SOMETHING_NEW": 1,
    }
    base = ProtocolConstants(liquidation_threshold_days=30)
    c = ProtocolConstants.from_contract_map(deployed, defaults=base)
    assert c == ProtocolConstants(
        merchant_fee_rate=250_000,
        late_interest_apr=2_000_000,
        max_ltv=8_000_000,
        collateral_ratio=12_000_000,
        grace_period_days=10,
        liquidation_threshold_days=30,
    )
    assert c.fee_rate_bps == 250
    assert list(c.as_contract_map()) == sorted(deployed.keys() - {"SOMETHING_NEW"})
    assert ProtocolConstants.from_contract_map(c.as_contract_map(), defaults=base) == c
    # The 3 constants compiled into the contract are not read from the map, even if named.
    assert ProtocolConstants.from_contract_map({"LIQUIDATION_PENALTY": 5}) == ProtocolConstants()
    with pytest.raises(ValueError, match="merchant_fee_rate must be a non-negative int"):
        ProtocolConstants.from_contract_map({"MERCHANT_FEE_RATE": -1})


def test_the_local_gateway_reports_its_constants_and_is_a_sandbox(tmp_path: Path) -> None:
    c = ProtocolConstants(grace_period_days=3)
    gw = LocalGateway(
        connect(f"sqlite:///{tmp_path / 'gw.db'}"), constants=c, sealer=SecretBox(SECRET_KEY)
    )
    assert isinstance(gw, ChainGateway) and isinstance(gw, SandboxControls)
    assert gw.constants() is c
    gw.genesis()
    assert gw.read("bnpl_core", "get_protocol_constants")["GRACE_PERIOD_DAYS"] == 3


# --- a backend on other constants -----------------------------------------------------

OTHER = {
    "merchant_fee_rate": 200_000,  # 2 %
    "bill_duration_days": 2,
    "grace_period_days": 7,
    "liquidation_threshold_days": 10,
}


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    db = tmp_path_factory.mktemp("other") / "other.db"
    with run_sandbox(
        f"sqlite:///{db}", run_delivery=False, tick_interval=3600, chain_constants=OTHER
    ) as handle:
        yield handle


@pytest.fixture
def api_other(other: SandboxHandle) -> Iterator[Api]:
    with Api(other.base_url, other.secret_key) as a:
        yield a


def _bill(api: Api, amount: int = 100 * 10_000_000) -> dict[str, Any]:
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    return api.ok("POST", "/v1/bills", json={"customer": customer, "amount": amount})


def test_account_fee_rate_is_the_gateways(api_other: Api) -> None:
    assert api_other.ok("GET", "/v1/account")["fee_rate_bps"] == 200


def test_deadlines_fees_and_derived_statuses_follow_the_gateway(api_other: Api) -> None:
    amount = 100 * 10_000_000
    bill = _bill(api_other, amount)
    created = bill["created"]
    assert bill["expires_at"] == created + 2 * DAY
    paid = api_other.ok(
        "POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "approve"}
    )
    assert paid["grace_period_ends_at"] == created + 7 * DAY
    assert paid["liquidatable_at"] == created + 10 * DAY
    lines = api_other.ok("GET", "/v1/analytics/transactions", params={"bill": bill["id"]})
    assert [line["fee"] for line in lines["data"]] == [amount * 200_000 // SCALE]

    unpaid = _bill(api_other)
    # A day and a second later: expired with the deployed constants, payable here.
    api_other.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": DAY + 1})
    assert api_other.ok("GET", f"/v1/bills/{unpaid['id']}")["status"] == "created"
    now = api_other.ok("GET", "/v1/test_helpers/clock")["now"]
    # Past the 7-day grace period (14 days with the deployed constants): overdue.
    api_other.ok(
        "POST", "/v1/test_helpers/clock/advance", json={"seconds": created + 8 * DAY - now}
    )
    late = api_other.ok("GET", f"/v1/bills/{bill['id']}")
    assert late["status"] == "overdue"
    assert late["late_fee"] == amount * 3_000_000 * 1 // (365 * SCALE)
    assert api_other.ok("GET", f"/v1/bills/{unpaid['id']}")["status"] == "expired"
    overdue = api_other.ok("GET", "/v1/bills", params={"status": "overdue"})["data"]
    assert bill["id"] in [b["id"] for b in overdue]
    expired = api_other.ok("GET", "/v1/bills", params={"status": "expired"})["data"]
    assert unpaid["id"] in [b["id"] for b in expired]
    events = api_other.ok("GET", "/v1/events", params={"type": "bill.overdue"})["data"]
    assert bill["id"] in [e["data"]["object"]["id"] for e in events]
    metrics = api_other.ok(
        # Up to the payment's second: on a loaded machine it may come a second after the
        # bill's, and metrics count a bill's fate by when it was paid.
        "GET",
        "/v1/analytics/metrics",
        params={"start": created - 1, "end": paid["paid_at"] + 1},
    )
    assert metrics["overdue_count"] == 1
    assert metrics["fees"] == amount * 200_000 // SCALE


def test_triggers_wait_for_the_gateways_deadlines(api_other: Api) -> None:
    event = api_other.ok("POST", "/v1/test_helpers/events/trigger", json={"type": "bill.overdue"})
    bill = event["data"]["object"]
    assert bill["status"] == "overdue"
    assert event["created"] == bill["created"] + 7 * DAY + 1
    event = api_other.ok(
        "POST", "/v1/test_helpers/events/trigger", json={"type": "bill.liquidated"}
    )
    assert event["data"]["object"]["status"] == "liquidated"


# --- a backend on a real chain ----------------------------------------------------------


class RealChain(ChainGateway):
    """The local contracts behind only what a real network offers: no sandbox powers."""

    def __init__(self, inner: LocalGateway) -> None:
        self._inner = inner

    def contract_id(self, contract: str) -> str:
        return self._inner.contract_id(contract)

    def invoke(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        signer: Keypair,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        return self._inner.invoke(
            contract, function, args, signer=signer, tx=tx, operation=operation
        )

    def invoke_authorized(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        entry_xdr: str,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        return self._inner.invoke_authorized(
            contract, function, args, entry_xdr=entry_xdr, tx=tx, operation=operation
        )

    def prepare_transaction(
        self,
        contract: str,
        function: str,
        args: Sequence[Any],
        *,
        source: str,
        tx: Tx | None = None,
    ) -> PreparedTransaction:
        return self._inner.prepare_transaction(contract, function, args, source=source, tx=tx)

    def submit_transaction(
        self,
        signed_xdr: str,
        *,
        expected: PreparedTransaction | None = None,
        tx: Tx | None = None,
        operation: str | None = None,
    ) -> TxRecord:
        return self._inner.submit_transaction(
            signed_xdr, expected=expected, tx=tx, operation=operation
        )

    def read(
        self, contract: str, function: str, args: Sequence[Any] = (), *, tx: Tx | None = None
    ) -> Any:
        return self._inner.read(contract, function, args, tx=tx)

    def events_after(
        self, cursor: int, *, limit: int = 100, tx: Tx | None = None
    ) -> list[ContractEvent]:
        return self._inner.events_after(cursor, limit=limit, tx=tx)

    def now(self, *, tx: Tx | None = None) -> int:
        return self._inner.now(tx=tx)

    def latest_ledger(self, *, tx: Tx | None = None) -> int:
        return self._inner.latest_ledger(tx=tx)

    def describe(self) -> ChainInfo:
        return self._inner.describe()

    def constants(self) -> ProtocolConstants:
        return self._inner.constants()


Real = tuple[httpx.Client, Backend, str]


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Real]:
    """A backend on :class:`RealChain`, on a ledger a sandbox backend made (the merchant
    and the built-in wallets exist), served on loopback; a client, the backend and an
    unpaid bill's id."""
    url = f"sqlite:///{tmp_path / 'real.db'}"
    port = free_port()
    cfg = BackendConfig(
        database_url=url,
        secret_key=SECRET_KEY,
        port=port,
        run_delivery=False,
        rate_limit=False,
        log_requests=False,
        tick_interval=3600,
    )
    sandbox = Backend(cfg)
    creds = sandbox.create_merchant("Shop")
    sandbox.close()
    inner = LocalGateway(connect(url), sealer=SecretBox(SECRET_KEY))
    backend = Backend(cfg, gateway=RealChain(inner))
    server = ThreadedServer(create_app(cfg, backend=backend), port, lifespan="on").start()
    client = httpx.Client(
        base_url=cfg.base_url,
        timeout=30,
        headers={"Authorization": f"Bearer {creds.secret_key}"},
    )
    try:
        customer = client.get("/v1/test_helpers/wallets/approve").json()["address"]
        bill = client.post("/v1/bills", json={"customer": customer, "amount": 10_000_000})
        assert bill.status_code == 200, bill.text
        yield client, backend, bill.json()["id"]
    finally:
        client.close()
        server.stop()
        backend.close()


def _sandbox_only(response: Any) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "permission_error",
        "sandbox_only",
        None,
    )
    assert "real chain" in error["message"]


def test_a_real_chain_backend_has_no_sandbox(real: Real) -> None:
    _, backend, _ = real
    assert backend.sandbox is None and backend.genesis is None
    assert backend.ctx.sandbox is None
    assert backend.ctx.constants == ProtocolConstants()
    with pytest.raises(SandboxOnly) as info:
        backend.create_merchant("Another")
    assert str(info.value) == (
        "Enrolling and approving a merchant as the admin is possible only on a sandbox"
        " ledger; this backend runs on a real chain."
    )


def test_a_real_chain_serves_what_a_chain_offers(real: Real) -> None:
    client, backend, bill_id = real
    assert client.get("/v1/account").json()["fee_rate_bps"] == 150
    chain = client.get("/v1/chain").json()
    assert chain["contracts"]["bnpl_core"] == backend.gateway.contract_id("bnpl_core")
    assert chain["latest_ledger"] == backend.gateway.latest_ledger()
    assert client.get("/v1/test_helpers/clock").status_code == 200
    paid = client.post(f"/v1/test_helpers/bills/{bill_id}/pay", json={"wallet": "approve"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    ping = client.post("/v1/test_helpers/events/trigger", json={"type": "webhook_endpoint.ping"})
    assert ping.status_code != 403  # no endpoint here, but not a sandbox power either


def test_sandbox_powers_are_refused_on_a_real_chain(real: Real) -> None:
    client, _, bill_id = real
    _sandbox_only(client.post("/v1/test_helpers/clock/advance", json={"seconds": 60}))
    _sandbox_only(client.post("/v1/test_helpers/wallets", json={"name": "w"}))
    client.post(f"/v1/test_helpers/bills/{bill_id}/pay", json={"wallet": "approve"})
    _sandbox_only(client.post(f"/v1/test_helpers/bills/{bill_id}/repay", json={}))
    _sandbox_only(client.post(f"/v1/test_helpers/bills/{bill_id}/liquidate", json={}))
    for event_type in ("bill.created", "bill.overdue", "checkout.session.completed"):
        _sandbox_only(client.post("/v1/test_helpers/events/trigger", json={"type": event_type}))
    # Refused before anything changed: the bill is still paid, the clock where it was.
    assert client.get(f"/v1/bills/{bill_id}").json()["status"] == "paid"


def test_the_schema_declares_sandbox_only(real: Real) -> None:
    client, _, _ = real
    paths = client.get("/v1/openapi.json").json()["paths"]
    for path in (
        "/v1/test_helpers/clock/advance",
        "/v1/test_helpers/wallets",
        "/v1/test_helpers/bills/{id}/repay",
        "/v1/test_helpers/bills/{id}/liquidate",
        "/v1/test_helpers/events/trigger",
    ):
        assert "403" in paths[path]["post"]["responses"], path


# --- wallet-signed transactions through the relay ----------------------------------------


def test_the_relay_prepares_submits_and_maps_envelope_refusals(tmp_path: Path) -> None:
    """``ctx.chain``'s wallet-signed transactions inside a service's transaction: what
    the gateway refuses arrives as the API's codes."""
    from stellar_sdk import TransactionEnvelope

    from lumenlater_sdk.backend.services.errors import ChainRefused
    from lumenlater_sdk.backend.services.relay import ChainRelay

    with connect(f"sqlite:///{tmp_path / 'relay.db'}") as db:
        gw = LocalGateway(db, sealer=SecretBox(bytes(range(32))))
        gw.genesis()
        merchant, user = Keypair.random(), Keypair.random()
        gw.enroll_and_approve_merchant(merchant, "mi_1")
        gw.fund_wallet(user, usdc=0, lp_deposit=1_000 * 10**7)
        bill = [merchant.public_key, user.public_key, 10 * 10**7, "o-1"]
        bill_id = int(gw.invoke("bnpl_core", "create_bill", bill, signer=merchant).result)
        relay = ChainRelay(gw)

        def sign(xdr_text: str, passphrase: str, *keys: Keypair) -> str:
            env = TransactionEnvelope.from_xdr(xdr_text, passphrase)
            for key in keys:
                env.sign(key)
            return env.to_xdr()

        with db.transaction(write=True) as t:
            with pytest.raises(ChainRefused) as trapped:
                relay.prepare_transaction(
                    "bnpl_core", "pay_bill_bnpl", [bill_id + 1], source=user.public_key, tx=t
                )
            assert trapped.value.code == "contract_trapped"
            p = relay.prepare_transaction(
                "bnpl_core", "pay_bill_bnpl", [bill_id], source=user.public_key, tx=t
            )
            passphrase = p.network_passphrase
            with pytest.raises(ChainRefused) as bad:
                relay.submit_transaction(
                    sign(p.xdr, passphrase, Keypair.random()), expected=p, tx=t
                )
            assert bad.value.code == "invalid_signature"
            env = TransactionEnvelope.from_xdr(p.xdr, passphrase)
            env.transaction.fee += 1
            env.sign(user)
            with pytest.raises(ChainRefused) as mismatch:
                relay.submit_transaction(env.to_xdr(), expected=p, tx=t)
            assert mismatch.value.code == "transaction_mismatch"
            good = sign(p.xdr, passphrase, user)
            record = relay.submit_transaction(good, expected=p, tx=t)
            assert [e.name for e in record.events].count("payment") == 1
            with pytest.raises(ChainRefused) as replay:
                relay.submit_transaction(good, expected=p, tx=t)
            assert replay.value.code == "transaction_duplicate"
        assert gw.read("bnpl_core", "get_bill", [bill_id])["status"] == "Paid"
