"""The API resources behind ``client.bills``, ``client.checkout.sessions`` and the rest.

Each resource has a blocking class and an ``Async…`` twin with the same methods.
"""

from .account import Accounts, AsyncAccounts
from .analytics import Analytics, AsyncAnalytics
from .api_keys import ApiKeys, AsyncApiKeys
from .bills import AsyncBills, Bills
from .chain import AsyncChains, Chains
from .checkout import AsyncCheckout, AsyncCheckoutSessions, Checkout, CheckoutSessions
from .events import AsyncEvents, Events
from .test_helpers import (
    AsyncTestBills,
    AsyncTestClocks,
    AsyncTestEvents,
    AsyncTestHelpers,
    AsyncTestMerchants,
    AsyncTestWallets,
    TestBills,
    TestClocks,
    TestEvents,
    TestHelpers,
    TestMerchants,
    TestWallets,
)
from .webhook_endpoints import AsyncWebhookEndpoints, WebhookEndpoints

__all__ = [
    "Accounts",
    "Analytics",
    "ApiKeys",
    "AsyncAccounts",
    "AsyncAnalytics",
    "AsyncApiKeys",
    "AsyncBills",
    "AsyncChains",
    "AsyncCheckout",
    "AsyncCheckoutSessions",
    "AsyncEvents",
    "AsyncTestBills",
    "AsyncTestClocks",
    "AsyncTestEvents",
    "AsyncTestHelpers",
    "AsyncTestMerchants",
    "AsyncTestWallets",
    "AsyncWebhookEndpoints",
    "Bills",
    "Chains",
    "Checkout",
    "CheckoutSessions",
    "Events",
    "TestBills",
    "TestClocks",
    "TestEvents",
    "TestHelpers",
    "TestMerchants",
    "TestWallets",
    "WebhookEndpoints",
]
