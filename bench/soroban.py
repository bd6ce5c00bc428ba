"""The ``soroban`` chain gateway under load, beside ``local``, and the RPC endpoint's own rates.

Three servers, each in a child process of its own (this script run with ``--serve``, so
every server has its own interpreter and the load generator none of their CPU), all
on SQLite in a temporary directory, rate limits, access logs, webhook delivery and the
clock tick off, no webhook endpoint:

* **chain**: a sandbox with its Soroban RPC endpoint on (``POST /soroban/rpc``,
  friendbot at ``GET /friendbot``), as the tests' ``tests/soroban_gateway`` start it.
* **soroban backend**: a sandbox with ``chain="soroban"`` pointed at the chain's RPC
  (``run_sandbox(**soroban_options(rpc_url, ...))``, as the tests' ``sandbox_soroban``):
  its merchant enrolls itself and is approved through the chain's ``lumenlater_*``
  methods. The gateway's defaults are used (poll interval 0.5 s): the sandbox's RPC
  applies a transaction when it is sent, so the first ``getTransaction`` already says
  SUCCESS and no poll waits; a real network adds its ledger close time.
* **local backend**: the same API on the embedded ``local`` gateway (``run_sandbox``).

Measurements (fixed duration each, closed loop, ``--concurrency`` threads each with its
own connection; only figures from the same run compare, the machine is shared):

1. ``POST /v1/bills`` (fresh ``Idempotency-Key`` each, 25 USDC to one friendbot-funded
   customer; on ``local`` a genesis wallet) on both backends: req/s, p50, p99, and the
   ratio soroban/local. Each soroban POST is simulate + send + getTransaction (+ the
   events of its transaction) over HTTP; the gateway serialises submissions per source
   account, so POSTs on one backend go to the chain one at a time.
2. The RPC endpoint driven by stellar-sdk's ``SorobanServer`` (one per thread):
   ``getLatestLedger`` round trips (the transport floor), ``simulateTransaction`` of
   USDC ``balance``, and USDC ``mint`` of 1 unit to the caller's own account (each
   thread its own friendbot-funded account and sequence): ``prepare_transaction``
   (one simulate), sign, ``sendTransaction``, then ``getTransaction`` until
   SUCCESS. Ratios against the floor.
3. On the local backend, ``client.bills.create`` through the SDK for a managed merchant
   (one POST) and for a self-custody merchant (POST, the SDK checks the authorization
   entry against the bill and signs it with the merchant's key, POST
   ``/v1/bills/{id}/authorize``, which the backend verifies before it relays), and the
   ratio self/managed.

    python bench/soroban.py [--duration 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from stellar_sdk import Account, Keypair, Network, SorobanServer, TransactionBuilder, scval
from stellar_sdk.soroban_rpc import GetTransactionStatus, SendTransactionStatus

PASSPHRASE = Network.STANDALONE_NETWORK_PASSPHRASE
USDC = 10_000_000


# --- the servers (child processes) ------------------------------------------------------
def _friend(base_url: str) -> Keypair:
    """A new account, funded by the chain's friendbot (10,000 XLM and 10,000 USDC)."""
    kp = Keypair.random()
    r = httpx.get(f"{base_url}/friendbot", params={"addr": kp.public_key}, timeout=30)
    r.raise_for_status()
    return kp


@contextmanager
def _serve_chain(tmp: Path) -> Iterator[dict[str, Any]]:
    from lumenlater_sdk.backend.testing import run_sandbox

    url = f"sqlite:///{tmp / 'chain.db'}"
    with run_sandbox(
        url, webhook_url=None, soroban_rpc=True, run_delivery=False, tick_interval=3600
    ) as sb:
        yield {"base_url": sb.base_url, "contracts": dict(sb.backend.gateway.describe().contracts)}


@contextmanager
def _serve_local(tmp: Path) -> Iterator[dict[str, Any]]:
    from lumenlater_sdk.backend.testing import run_sandbox

    url = f"sqlite:///{tmp / 'local.db'}"
    with run_sandbox(url, webhook_url=None, run_delivery=False, tick_interval=3600) as sb:
        genesis = sb.backend.genesis
        assert genesis is not None
        customer = genesis.wallets["approve"].public_key
        # A self-custody merchant too: the bench's client signs its bills (a test key).
        own = Keypair.random()
        made = sb.create_self_custody_merchant(own, "Bench Own Keys")
        yield {
            "base_url": sb.base_url,
            "key": sb.secret_key,
            "customer": customer,
            "self_key": made.secret_key,
            "self_seed": own.secret,
        }


@contextmanager
def _serve_soroban(tmp: Path, chain: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from lumenlater_sdk.backend.testing import run_sandbox, soroban_options

    options = soroban_options(f"{chain['base_url']}/soroban/rpc", tmp)
    url = f"sqlite:///{tmp / 'soroban.db'}"
    with run_sandbox(
        url, webhook_url=None, run_delivery=False, tick_interval=3600, **options
    ) as sb:
        yield {
            "base_url": sb.base_url,
            "key": sb.secret_key,
            "customer": _friend(chain["base_url"]).public_key,
        }


def _serve(kind: str, out: Path, chain_file: str | None) -> None:
    """Child process: start *kind*, write what the parent needs to *out*, serve until
    stdin closes."""
    tmp = out.parent
    if kind == "chain":
        servers: AbstractContextManager[dict[str, Any]] = _serve_chain(tmp)
    elif kind == "local":
        servers = _serve_local(tmp)
    else:
        assert chain_file is not None
        chain = json.loads(Path(chain_file).read_text())
        servers = _serve_soroban(tmp, chain)
    with servers as info:
        partial = out.with_suffix(".part")
        partial.write_text(json.dumps(info))
        partial.rename(out)
        sys.stdin.read()  # the parent closes our stdin to stop us


@contextmanager
def _child(kind: str, args: argparse.Namespace, chain_file: Path | None = None) -> Iterator[Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"ll-bench-{kind}-"))
    out = tmp / "info.json"
    cmd = [sys.executable, __file__, "--serve", kind, str(out)]
    if chain_file is not None:
        cmd += ["--chain-file", str(chain_file)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not out.exists():
            if proc.poll() is not None:
                sys.exit(f"the {kind} server exited with {proc.returncode}")
            if time.monotonic() > deadline:
                sys.exit(f"the {kind} server did not start")
            time.sleep(0.05)
        yield json.loads(out.read_text()), out
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# --- the load ---------------------------------------------------------------------------
class Stats:
    """Latencies (s) of successful operations and the count of failures, from all threads."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error = ""
        self.elapsed = 0.0
        self._lock = threading.Lock()

    def add(self, latencies: list[float], errors: int, first_error: str) -> None:
        with self._lock:
            self.latencies += latencies
            self.errors += errors
            self.first_error = self.first_error or first_error

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: int) -> float:
        """The *q*-th percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000

    def line(self, label: str) -> str:
        text = (
            f"{label:42} {self.rate:8.1f} /s  p50 {self.pct(50):7.1f} ms  "
            f"p99 {self.pct(99):7.1f} ms  n {len(self.latencies):5}  err {self.errors}"
        )
        return text + (f"  ({self.first_error[:100]})" if self.errors else "")


def _run(concurrency: int, duration: float, make: Callable[[int], Callable[[], None]]) -> Stats:
    """*concurrency* threads, each calling the operation ``make(i)`` returns, for
    *duration* seconds (after each thread's set-up); an exception counts as an error."""
    stats = Stats()
    start: list[float] = []
    ready = threading.Barrier(concurrency, action=lambda: start.append(time.perf_counter()))

    def worker(i: int) -> None:
        op = make(i)
        ready.wait()
        deadline = start[0] + duration
        lat: list[float] = []
        errors, first = 0, ""
        while (t0 := time.perf_counter()) < deadline:
            try:
                op()
            except Exception as exc:
                errors += 1
                first = first or f"{type(exc).__name__}: {exc}"
                continue
            lat.append(time.perf_counter() - t0)
        stats.add(lat, errors, first)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats.elapsed = time.perf_counter() - start[0]
    return stats


def _post_bills(info: dict[str, Any], args: argparse.Namespace, label: str) -> Stats:
    body = {"customer": info["customer"], "amount": 25 * USDC}

    def make(_: int) -> Callable[[], None]:
        client = httpx.Client(
            base_url=info["base_url"],
            timeout=60,
            headers={"Authorization": f"Bearer {info['key']}"},
        )

        def op() -> None:
            r = client.post("/v1/bills", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code} {r.text}")

        return op

    _run(min(args.concurrency, 2), 1.0, make)  # warm-up: connections, caches
    stats = _run(args.concurrency, args.duration, make)
    print(stats.line(label), flush=True)
    return stats


def _sdk_bills(info: dict[str, Any], args: argparse.Namespace, *, own: bool, label: str) -> Stats:
    """``client.bills.create`` through the SDK: a managed merchant (one POST) or a
    self-custody one (POST, the SDK checks and signs the entry, POST .../authorize)."""
    from lumenlater_sdk import LumenLater

    def make(_: int) -> Callable[[], None]:
        if own:
            client = LumenLater(
                api_key=info["self_key"],
                base_url=info["base_url"],
                stellar_signer=Keypair.from_secret(info["self_seed"]),
                timeout=60,
            )
        else:
            client = LumenLater(api_key=info["key"], base_url=info["base_url"], timeout=60)

        def op() -> None:
            bill = client.bills.create(customer=info["customer"], amount=25 * USDC)
            if bill.status != "created":
                raise RuntimeError(bill.status)

        return op

    _run(min(args.concurrency, 2), 1.0, make)
    stats = _run(args.concurrency, args.duration, make)
    print(stats.line(label), flush=True)
    return stats


def _rpc(chain: dict[str, Any], args: argparse.Namespace) -> dict[str, Stats]:
    base = chain["base_url"]
    rpc_url = f"{base}/soroban/rpc"
    usdc = chain["contracts"]["usdc"]
    accounts = [_friend(base) for _ in range(args.concurrency)]
    out: dict[str, Stats] = {}

    def floor(_: int) -> Callable[[], None]:
        server = SorobanServer(rpc_url)

        def op() -> None:
            server.get_latest_ledger()

        return op

    def simulate(i: int) -> Callable[[], None]:
        server, kp = SorobanServer(rpc_url), accounts[i]
        tx = (
            TransactionBuilder(Account(kp.public_key, 0), PASSPHRASE, base_fee=100)
            .append_invoke_contract_function_op(usdc, "balance", [scval.to_address(kp.public_key)])
            .set_timeout(300)
            .build()
        )

        def op() -> None:
            sim = server.simulate_transaction(tx)
            if sim.error is not None:
                raise RuntimeError(sim.error)

        return op

    phases: dict[str, list[float]] = {"prepare": [], "send": [], "get": []}
    phase_lock = threading.Lock()

    def mint(i: int) -> Callable[[], None]:
        server, kp = SorobanServer(rpc_url), accounts[i]
        account = server.load_account(kp.public_key)

        def op() -> None:
            t0 = time.perf_counter()
            tx = (
                TransactionBuilder(account, PASSPHRASE, base_fee=100)
                .append_invoke_contract_function_op(
                    usdc, "mint", [scval.to_address(kp.public_key), scval.to_int128(1)]
                )
                .set_timeout(300)
                .build()
            )
            tx = server.prepare_transaction(tx)
            tx.sign(kp)
            t1 = time.perf_counter()
            sent = server.send_transaction(tx)
            t2 = time.perf_counter()
            if sent.status != SendTransactionStatus.PENDING:
                raise RuntimeError(f"sendTransaction {sent.status}: {sent.error_result_xdr}")
            while True:
                got = server.get_transaction(sent.hash)
                if got.status == GetTransactionStatus.SUCCESS:
                    break
                if got.status != GetTransactionStatus.NOT_FOUND:
                    raise RuntimeError(f"getTransaction {got.status}")
            t3 = time.perf_counter()
            with phase_lock:
                phases["prepare"].append(t1 - t0)
                phases["send"].append(t2 - t1)
                phases["get"].append(t3 - t2)

        return op

    cases: tuple[tuple[str, str, Callable[[int], Callable[[], None]]], ...] = (
        ("floor", "RPC getLatestLedger (transport floor)", floor),
        ("simulate", "RPC simulateTransaction usdc.balance", simulate),
        ("mint", "RPC usdc.mint: prepare+sign+send+get", mint),
    )
    for key, label, make in cases:
        _run(min(args.concurrency, 2), 0.5, make)  # warm-up
        for p in phases.values():
            p.clear()
        out[key] = _run(args.concurrency, args.duration, make)
        print(out[key].line(label), flush=True)
    median = {k: statistics.median(v) * 1000 if v else float("nan") for k, v in phases.items()}
    print(
        f"{'  mint phases, median':42} prepare (simulate) {median['prepare']:.1f} ms, "
        f"sendTransaction {median['send']:.1f} ms, getTransaction to SUCCESS "
        f"{median['get']:.1f} ms",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--chain-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve[0], Path(args.serve[1]), args.chain_file)
        return
    print(
        f"duration {args.duration:g} s per measurement, concurrency {args.concurrency}",
        flush=True,
    )
    with _child("chain", args) as (chain, chain_file):
        with _child("local", args) as (local, _):
            local_stats = _post_bills(local, args, "POST /v1/bills  local gateway")
            managed = _sdk_bills(local, args, own=False, label="bills.create  managed (SDK)")
            own = _sdk_bills(local, args, own=True, label="bills.create  self custody (SDK signs)")
        with _child("soroban", args, chain_file) as (soroban, _):
            soroban_stats = _post_bills(soroban, args, "POST /v1/bills  soroban gateway -> RPC")
        rpc = _rpc(chain, args)
    print(
        f"ratio soroban/local: req/s {soroban_stats.rate / local_stats.rate:.3f}, "
        f"p50 {soroban_stats.pct(50) / local_stats.pct(50):.1f}x, "
        f"p99 {soroban_stats.pct(99) / local_stats.pct(99):.1f}x",
        flush=True,
    )
    print(
        f"ratio self custody/managed bills.create: req/s {own.rate / managed.rate:.3f}, "
        f"p50 {own.pct(50) / managed.pct(50):.1f}x",
        flush=True,
    )
    floor = rpc["floor"]
    for key in ("simulate", "mint"):
        s = rpc[key]
        print(
            f"ratio {key}/getLatestLedger: rate {s.rate / floor.rate:.3f}, "
            f"p50 {s.pct(50) / floor.pct(50):.1f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
