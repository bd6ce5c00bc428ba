"""Generated from the OpenAPI document by ``python -m lumenlater_sdk.cli._api_docs``;
do not edit."""

# ruff: noqa: E501

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "approveTestMerchant": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
    },
    "cancelBill": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
    },
    "createBill": {
        "amount": "The bill's total, in stroops (1 USDC = 10^7 stroops).",
        "currency": "usdc, the only currency.",
        "customer": "The customer's Stellar account (G…): who owes the bill.",
        "description": "What the bill is for, shown to the customer (up to 500 characters).",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "metadata": "Your own key-value strings (up to 50 keys), kept with the object and sent back with it and in its events.",
        "order_id": "Your order's id, to find the bill by (GET /v1/bills?order_id=).",
    },
    "createCheckoutSession": {
        "amount": "The total, in stroops (1 USDC = 10^7 stroops); give it or line_items (their sum), or both when they agree.",
        "cancel_url": "Where the customer lands on going back unpaid.",
        "currency": "usdc, the only currency.",
        "customer": "The customer's Stellar account (G…), when you know it already.",
        "description": "What the order is, shown to the customer (up to 500 characters).",
        "embed_origins": "Origins (https://shop.example) whose pages may embed this session's checkout.",
        "expires_in": "Seconds the session stays payable, 1800 to 86400 (default 3600).",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "line_items": "The order's lines (name, quantity, unit_amount), shown on the checkout page; up to 100.",
        "metadata": "Your own key-value strings (up to 50 keys), kept with the object and sent back with it and in its events.",
        "order_id": "Your order's id, kept on the session and on its bill.",
        "success_url": "Where the customer lands after paying; {SESSION_ID} in it becomes the session's id.",
    },
    "createTestMerchant": {
        "business_name": "The merchant's name, shown to its customers.",
        "custody": "managed: the backend keeps the merchant's key (default); self: the merchant signs for itself at stellar_address.",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "stellar_address": "The self-custody merchant's account (G…); only with custody self.",
    },
    "createTestWallet": {
        "collateral": "LP tokens it holds, in stroops (default 10,000 USDC worth); it can borrow 90 % of them.",
        "external": "Signs for itself in the shopper's browser wallet: its secret_seed is in the create answer only, and the sandbox never signs as it (default false).",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "name": "A name to use instead of its id (wallet=NAME in the helpers).",
    },
    "createWebhookEndpoint": {
        "description": "For you: what the endpoint is for.",
        "enabled_events": "The event types to send (bill.paid), families (bill.*), or * for all.",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "metadata": "Your own key-value strings (up to 50 keys), kept with the object and sent back with it and in its events.",
        "url": "Where events are POSTed (http or https).",
    },
    "expireCheckoutSession": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
    },
    "liquidateTestBill": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "wallet": "The wallet acting, by id or name (default: the bill's customer).",
    },
    "listBills": {
        "created_gte": "Only bills created at or after this time (Unix seconds).",
        "created_lte": "Only bills created at or before this time (Unix seconds).",
        "customer": "Only the bills of this customer (G… address).",
        "ending_before": "An object's id: the page of newer objects before it.",
        "limit": "Objects per page, 1 to 100 (default 10).",
        "order_id": "Only the bills with this order_id.",
        "starting_after": "An object's id: the page of older objects after it.",
        "status": "Only bills in this status.",
    },
    "listCheckoutSessions": {
        "created_gte": "Only sessions created at or after this time (Unix seconds).",
        "created_lte": "Only sessions created at or before this time (Unix seconds).",
        "ending_before": "An object's id: the page of newer objects before it.",
        "limit": "Objects per page, 1 to 100 (default 10).",
        "order_id": "Only the sessions with this order_id.",
        "starting_after": "An object's id: the page of older objects after it.",
        "status": "Only sessions in this status.",
    },
    "listEvents": {
        "created_gte": "Only events created at or after this time (Unix seconds).",
        "created_lte": "Only events created at or before this time (Unix seconds).",
        "ending_before": "An object's id: the page of newer objects before it.",
        "limit": "Objects per page, 1 to 100 (default 10).",
        "starting_after": "An object's id: the page of older objects after it.",
        "type": "Only events of this type (bill.paid), or of a family (bill.*).",
    },
    "listWebhookDeliveries": {
        "ending_before": "An object's id: the page of newer objects before it.",
        "limit": "Objects per page, 1 to 100 (default 10).",
        "starting_after": "An object's id: the page of older objects after it.",
    },
    "listWebhookEndpoints": {
        "ending_before": "An object's id: the page of newer objects before it.",
        "limit": "Objects per page, 1 to 100 (default 10).",
        "starting_after": "An object's id: the page of older objects after it.",
    },
    "payTestBill": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "wallet": "The wallet acting, by id or name (approve).",
    },
    "rejectTestMerchant": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
    },
    "repayTestBill": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "wallet": "The wallet acting, by id or name (default: the bill's customer).",
    },
    "resendEvent": {
        "endpoint": "The endpoint (we_…) to deliver to; default: every endpoint subscribed to the event's type.",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
    },
    "rotateWebhookEndpointSecret": {
        "expire_old_after": "Seconds the old secret keeps signing beside the new one, up to 7 days (0: it stops now; default 1 day).",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
    },
    "suspendTestMerchant": {
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
    },
    "updateWebhookEndpoint": {
        "description": "For you: what the endpoint is for.",
        "disabled": "true stops deliveries to the endpoint; false resumes them.",
        "enabled_events": "The event types to send from now on (replaces the list).",
        "idempotency_key": "A key of your choosing, unique per operation: retrying with the same key answers what the first request did instead of doing it twice.",
        "metadata": "Keys to set in the object's metadata (an empty value removes a key); the others stay.",
        "url": "The endpoint's new URL.",
    },
}
