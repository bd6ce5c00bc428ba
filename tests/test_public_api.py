"""The public surface: explicit ``__all__`` everywhere, and DESIGN.md §5's names present."""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "lumenlater_sdk",
    "lumenlater_sdk.errors",
    "lumenlater_sdk.types",
    "lumenlater_sdk.resources",
    "lumenlater_sdk.checkout",
    "lumenlater_sdk.webhooks",
    "lumenlater_sdk.webhooks.testing",
    "lumenlater_sdk.backend.db",
    "lumenlater_sdk.backend.chain",
    "lumenlater_sdk.backend.chain.local",
    "lumenlater_sdk.backend.delivery",
    "lumenlater_sdk.backend.testing",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_explicit_unique_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is in __all__ but missing"
        assert not attr.startswith("_") or attr == "__version__", attr


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_classes_and_functions_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    undocumented = [
        attr
        for attr in module.__all__
        if (inspect.isclass(obj := getattr(module, attr)) or inspect.isfunction(obj))
        and not inspect.getdoc(obj)
    ]
    assert undocumented == []


def test_design_names_of_the_client_and_errors() -> None:
    import lumenlater_sdk
    from lumenlater_sdk import errors

    for n in ("LumenLater", "AsyncLumenLater", "usdc"):
        assert n in lumenlater_sdk.__all__
    tree = {
        "APIError": "LumenLaterError",
        "BadRequestError": "APIError",
        "AuthenticationError": "APIError",
        "PermissionDeniedError": "APIError",
        "NotFoundError": "APIError",
        "ConflictError": "APIError",
        "IdempotencyError": "ConflictError",
        "RateLimitError": "APIError",
        "ChainError": "APIError",
        "InternalServerError": "APIError",
        "APIConnectionError": "LumenLaterError",
        "APITimeoutError": "APIConnectionError",
    }
    for child, parent in tree.items():
        assert issubclass(getattr(errors, child), getattr(errors, parent)), child
        assert getattr(lumenlater_sdk, child) is getattr(errors, child)


def test_design_names_of_webhooks_and_checkout() -> None:
    from lumenlater_sdk import checkout, webhooks

    for n in (
        "WebhookApp",
        "construct_event",
        "verify_signature",
        "sign",
        "SignatureVerificationError",
        "SQLiteEventStore",
        "RedisEventStore",
        "InMemoryEventStore",
        "ProcessLocalStoreWarning",  # issue 14: WebhookApp without store=
        "BillPaidEvent",
        "CheckoutSessionCompletedEvent",
        "Event",
    ):
        assert n in webhooks.__all__, n
    for n in ("redirect_url", "confirm_return", "widget_html"):
        assert n in checkout.__all__, n


def test_the_chain_names() -> None:
    """``client.chain`` (issue 10): the resource pair, its models, the gateway's description."""
    from lumenlater_sdk import AsyncLumenLater, LumenLater, resources, types
    from lumenlater_sdk.backend import chain

    assert {"Chain", "ChainContracts"} <= set(types.__all__)
    assert {"Chains", "AsyncChains"} <= set(resources.__all__)
    assert {"ChainGateway", "ChainInfo"} <= set(chain.__all__)
    assert inspect.isabstract(chain.ChainGateway)
    assert {"describe", "latest_ledger"} <= chain.ChainGateway.__abstractmethods__
    with LumenLater(api_key="sk_test_x") as ll:
        assert isinstance(ll.chain, resources.Chains)
    assert isinstance(AsyncLumenLater(api_key="sk_test_x").chain, resources.AsyncChains)
    sync_sig = inspect.signature(resources.Chains.retrieve)
    assert sync_sig == inspect.signature(resources.AsyncChains.retrieve)
    assert sync_sig.return_annotation == "Chain"
    assert inspect.iscoroutinefunction(resources.AsyncChains.retrieve)


def test_the_self_custody_names() -> None:
    """Issue 11: the signer argument, ``bills.authorize``, the models and the error tree."""
    import lumenlater_sdk
    from lumenlater_sdk import errors, resources, types

    tree = {
        "AuthorizationError": "LumenLaterError",
        "AuthorizationRequiredError": "AuthorizationError",
        "AuthorizationMismatchError": "AuthorizationError",
        "SignerMismatchError": "AuthorizationError",
        "MissingExtraError": "LumenLaterError",
    }
    for child, parent in tree.items():
        assert issubclass(getattr(errors, child), getattr(errors, parent)), child
        assert getattr(lumenlater_sdk, child) is getattr(errors, child)
    assert issubclass(errors.MissingExtraError, ImportError)
    assert not issubclass(errors.AuthorizationError, errors.APIError)  # raised before sending
    assert "ChainAuthorization" in types.__all__
    assert types.Bill.model_fields["authorization"].default is None
    assert types.Account.model_fields["custody"].default == "managed"
    for cls in (lumenlater_sdk.LumenLater, lumenlater_sdk.AsyncLumenLater):
        param = inspect.signature(cls).parameters["stellar_signer"]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY and param.default is None
    sync_sig = inspect.signature(resources.Bills.authorize)
    assert sync_sig == inspect.signature(resources.AsyncBills.authorize)
    assert list(sync_sig.parameters) == ["self", "bill_or_id", "idempotency_key"]
    assert inspect.iscoroutinefunction(resources.AsyncBills.authorize)


def test_no_httpx_type_in_a_public_client_signature() -> None:
    import lumenlater_sdk

    for cls in (lumenlater_sdk.LumenLater, lumenlater_sdk.AsyncLumenLater):
        for _, member in inspect.getmembers(cls, inspect.isfunction):
            text = str(inspect.signature(member))
            assert "httpx" not in text, f"{cls.__name__}.{member.__name__}{text}"
