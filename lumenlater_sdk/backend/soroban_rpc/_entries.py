"""Ledger entries: accounts, and the contracts' data as deployed (SOROBAN.md §7).

The engine keys its storage its own way (``bill:1``, ``shares:G…``); this maps
those keys to the deployed ledger keys and assembles the deployed entries from
them: bnpl_core's persistent entries one by one, and each contract's instance
entry with its storage map (lp_token's ``balances`` as one map, USDC's balances as
``Balance(address)`` keys).
"""

from __future__ import annotations

import hashlib
from typing import Any

from stellar_sdk import Address, Keypair, StrKey, xdr

from ..chain import CONTRACTS
from ..chain.local import RpcLedger
from ..chain.soroban import data_key, decode_data_key, encode_data_value
from ._jsonrpc import INVALID_PARAMS, RpcError

__all__ = ["get_ledger_entries"]

_ENGINE_KEY = {
    "BillCounter": "bill_counter",
    "Bill": "bill",
    "UserBills": "user_bills",
    "MerchantData": "merchant",
}


def _account_entry(ledger: RpcLedger, account_id: str) -> tuple[xdr.LedgerEntryData, int] | None:
    account = ledger.account(account_id)
    if account is None:
        return None
    entry = xdr.AccountEntry(
        account_id=Keypair.from_public_key(account_id).xdr_account_id(),
        balance=xdr.Int64(account.balance),
        seq_num=xdr.SequenceNumber(xdr.Int64(account.sequence)),
        num_sub_entries=xdr.Uint32(0),
        inflation_dest=None,
        flags=xdr.Uint32(0),
        home_domain=xdr.String32(b""),
        thresholds=xdr.Thresholds(bytes([1, 0, 0, 0])),
        signers=[],
        ext=xdr.AccountEntryExt(0),
    )
    return xdr.LedgerEntryData(xdr.LedgerEntryType.ACCOUNT, account=entry), account.last_modified


def _sorted_map(pairs: list[tuple[xdr.SCVal, xdr.SCVal]]) -> xdr.SCMap:
    # Soroban orders map keys by value; these keys are one ScVal type per map
    # (Symbols, or Vecs starting with a Symbol), whose XDR bytes sort the same way
    # for the Symbols and DataKeys used here (length-prefixed, so shorter first).
    def order(pair: tuple[xdr.SCVal, xdr.SCVal]) -> Any:
        return _scval_order(pair[0])

    return xdr.SCMap([xdr.SCMapEntry(k, v) for k, v in sorted(pairs, key=order)])


def _scval_order(v: xdr.SCVal) -> Any:
    if v.type == xdr.SCValType.SCV_SYMBOL:
        assert v.sym is not None
        return (v.type.value, v.sym.sc_symbol)
    if v.type == xdr.SCValType.SCV_VEC:
        assert v.vec is not None
        return (v.type.value, tuple(_scval_order(x) for x in v.vec.sc_vec))
    if v.type == xdr.SCValType.SCV_ADDRESS:
        return (v.type.value, v.to_xdr_bytes())
    return (v.type.value, v.to_xdr_bytes())


def _instance_storage(ledger: RpcLedger, contract: str) -> list[tuple[xdr.SCVal, xdr.SCVal]]:
    if contract == "bnpl_core":
        # Its instance holds its config alone: read by key, not with the rest of its
        # state (every bill and user of the history).
        config = ledger.value(contract, "config")
        state = {} if config is None else {"config": config}
    else:
        state = ledger.state(contract, "")
    pairs: list[tuple[xdr.SCVal, xdr.SCVal]] = []

    def put(name: str, value: Any, *key_args: Any) -> None:
        pairs.append(
            (data_key(contract, name, *key_args), encode_data_value(contract, name, value))
        )

    if contract == "bnpl_core":
        if "config" in state:
            put("Config", state["config"])
    elif contract == "lp_token":
        for name in ("admin", "asset", "bnpl_core", "metadata", "index", "supply", "borrowed"):
            if name in state:
                put(name, state[name])
        balances = {k.split(":", 1)[1]: int(v) for k, v in state.items() if k.startswith("shares:")}
        put("balances", balances)
        allowances = {
            tuple(k.split(":", 1)[1].split(":", 1)): int(v)
            for k, v in state.items()
            if k.startswith("allowance:")
        }
        put("allowance", allowances)
    else:
        # The engine keeps each USDC value under its own key; the deployed token keeps them
        # as DataKey entries of its instance storage (SOROBAN.md §7).
        for engine_key, name in _USDC_SINGLE.items():
            if engine_key in state:
                put(name, state[engine_key])
        for key, value in state.items():
            kind, _, rest = key.partition(":")
            if kind in _USDC_PER_ADDRESS:
                put(_USDC_PER_ADDRESS[kind], value, rest)
            elif kind == "allowance":
                owner, _, spender = rest.partition(":")
                put("Allowance", int(value), owner, spender)
    return pairs


_USDC_SINGLE = {
    "admin": "Admin",
    "metadata": "Metadata",
    "total_supply": "TotalSupply",
    "mint_limit": "MintLimit",
}
_USDC_PER_ADDRESS = {"balance": "Balance", "last_mint": "LastMint", "daily_minted": "DailyMinted"}


def _contract_entry(
    ledger: RpcLedger, key: xdr.LedgerKeyContractData
) -> xdr.LedgerEntryData | None:
    if key.durability != xdr.ContractDataDurability.PERSISTENT:
        return None
    contract_id = Address.from_xdr_sc_address(key.contract).address
    names = {ledger.gateway.contract_id(n): n for n in CONTRACTS}
    contract = names.get(contract_id)
    if contract is None:
        return None
    if key.key.type == xdr.SCValType.SCV_LEDGER_KEY_CONTRACT_INSTANCE:
        wasm = hashlib.sha256(f"lumenlater sandbox wasm {contract}".encode()).digest()
        val = xdr.SCVal(
            xdr.SCValType.SCV_CONTRACT_INSTANCE,
            instance=xdr.SCContractInstance(
                xdr.ContractExecutable(
                    xdr.ContractExecutableType.CONTRACT_EXECUTABLE_WASM, wasm_hash=xdr.Hash(wasm)
                ),
                _sorted_map(_instance_storage(ledger, contract)),
            ),
        )
    else:
        if contract != "bnpl_core":
            return None  # lp_token and USDC keep everything in their instance entry
        try:
            name, values = decode_data_key(contract, key.key)
        except (TypeError, ValueError):
            return None
        engine = _ENGINE_KEY.get(name)
        if engine is None:
            return None
        engine_key = engine if not values else f"{engine}:{values[0]}"
        value = ledger.value(contract, engine_key)
        if value is None:
            return None
        val = encode_data_value(contract, name, value)
    return xdr.LedgerEntryData(
        xdr.LedgerEntryType.CONTRACT_DATA,
        contract_data=xdr.ContractDataEntry(
            xdr.ExtensionPoint(0), key.contract, key.key, key.durability, val
        ),
    )


def get_ledger_entries(ledger: RpcLedger, params: dict[str, Any]) -> dict[str, Any]:
    """``getLedgerEntries``: accounts and contract data; unknown keys are left out."""
    keys = params.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise RpcError(INVALID_PARAMS, "keys must be a list of base64 LedgerKeys")
    if len(keys) > 200:
        raise RpcError(INVALID_PARAMS, "at most 200 keys per request")
    latest, _ = ledger.latest()
    entries = []
    for text in keys:
        try:
            key = xdr.LedgerKey.from_xdr(text)
        except Exception:
            raise RpcError(INVALID_PARAMS, "invalid LedgerKey XDR", text) from None
        modified = latest
        data: xdr.LedgerEntryData | None = None
        if key.type == xdr.LedgerEntryType.ACCOUNT and key.account is not None:
            raw = key.account.account_id.account_id.ed25519
            assert raw is not None
            account_id = StrKey.encode_ed25519_public_key(raw.uint256)
            found = _account_entry(ledger, account_id)
            if found is not None:
                data, modified = found
        elif key.type == xdr.LedgerEntryType.CONTRACT_DATA and key.contract_data is not None:
            data = _contract_entry(ledger, key.contract_data)
        if data is not None:
            entries.append(
                {
                    "key": text,
                    "xdr": data.to_xdr(),
                    "lastModifiedLedgerSeq": modified,
                    "liveUntilLedgerSeq": latest + 1_000_000
                    if key.type != xdr.LedgerEntryType.ACCOUNT
                    else None,
                }
            )
    return {"entries": entries, "latestLedger": latest}
