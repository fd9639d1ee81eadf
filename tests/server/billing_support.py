"""Helpers of the billing tests: a recording Stripe stand-in, signed events, app settings.

``FakeStripe`` is a small HTTP server on 127.0.0.1 that answers the Stripe API calls our gateway makes
(customers, Checkout and portal sessions, Prices/Products, subscriptions and schedules, invoices) with
minimal Stripe-shaped JSON, and records every request (method, path, form parameters, headers) so the
tests can assert what the REAL ``stripe`` client library sent, Idempotency-Key included. It is used
where localstripe cannot stand in (Prices, Checkout, portal, schedules, proration parameters).

``signed_event`` builds a webhook body and its ``Stripe-Signature`` header exactly like Stripe:
``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from sync.server.billing.catalog import sync_catalog
from sync.server.billing.stripe_client import StripeGateway
from sync.server.config import Settings
from sync.server.main import create_app
from tests.server.fixtures import FakeClock, Tenant

# Test modules star-import this module for its fixtures (helpers are imported by name).
__all__ = ["billing_api", "billing_settings", "fake_stripe"]

API_KEY = "sk_test_carbot_fake"
WEBHOOK_SECRET = "whsec_carbot_test_secret"
RETURN_URL = "https://app.carbot.test/abo"


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


def _unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``items[0][price]=x``) back into nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = root
        for part, following in itertools.pairwise(parts):
            default: Any = [] if following.isdigit() or following == "" else {}
            if isinstance(node, list):
                index = int(part) if part else len(node)
                while len(node) <= index:
                    node.append(type(default)())
                node = node[index]
            else:
                node = node.setdefault(part, default)
        last = parts[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return root


@dataclass
class FakeStripe:
    """A recording Stripe stand-in (see the module docstring); state is plain dicts tests may edit."""

    requests: list[Recorded] = field(default_factory=list)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    # path prefix -> HTTP status: answer those requests with a Stripe error (tests of outages and refusals)
    failures: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                pairs = parse_qsl(body or parts.query, keep_blank_values=True)
                status, answer = fake.answer(self.command, parts.path, pairs, dict(self.headers.items()))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{next(fake._ids)}")
                self.send_header("Stripe-Should-Retry", "false")  # no client retries: tests stay fast
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def settings(self, base: Settings, **overrides: Any) -> Settings:
        """``base`` pointed at this fake, with the test secrets and return URL."""
        values: dict[str, Any] = {
            "stripe_secret_key": API_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": self.url,
            "billing_return_url": RETURN_URL,
        }
        values.update(overrides)
        return base.model_copy(update={k: _secret(k, v) for k, v in values.items()})

    # --- what tests look at -----------------------------------------------------------------------

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        """The recorded requests with this method whose path starts with ``path_prefix``."""
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def writes(self) -> list[Recorded]:
        """Every POST (create or modify) received."""
        return [r for r in self.requests if r.method == "POST"]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def add_price(self, lookup_key: str, unit_amount: int, interval: str, **extra: Any) -> dict[str, Any]:
        """A Price as the catalogue would have made it."""
        price = {"id": self.new_id("price"), "object": "price", "active": True, "lookup_key": lookup_key,
                 "unit_amount": unit_amount, "currency": "eur", "recurring": {"interval": interval},
                 "tax_behavior": "exclusive", "metadata": {}, "product": "carbot_x", **extra}  # fmt: skip
        self.prices[price["id"]] = price
        return price

    def add_subscription(
        self,
        customer: str,
        price: dict[str, Any],
        *,
        status: str = "active",
        period_end: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A subscription with one item on ``price`` (period end on the item, as in current Stripe)."""
        now = int(time.time())
        end = period_end or now + 30 * 86400
        sub_id = self.new_id("sub")
        item = {"id": self.new_id("si"), "object": "subscription_item", "price": price,
                "current_period_start": now, "current_period_end": end, "quantity": 1}  # fmt: skip
        sub = {"id": sub_id, "object": "subscription", "customer": customer, "status": status,
               "items": {"object": "list", "data": [item]}, "cancel_at_period_end": False, "cancel_at": None,
               "trial_end": None, "schedule": None, "pending_update": None, "created": now, "metadata": {},
               **extra}  # fmt: skip
        self.subscriptions[sub_id] = sub
        return sub

    # --- the API ---------------------------------------------------------------------------------

    def answer(self, method: str, path: str, pairs: list[tuple[str, str]], headers: dict[str, str]) -> tuple[int, Any]:
        """Record the request and answer it."""
        with self._lock:
            form = dict(pairs)
            self.requests.append(Recorded(method, path, form, {k.lower(): v for k, v in headers.items()}))
            for prefix, status in self.failures.items():
                if path.startswith(prefix):
                    kind = "api_error" if status >= 500 else "invalid_request_error"
                    return status, {"error": {"type": kind, "message": "Kundin Erika Muster: simulated failure"}}
            return self._route(method, path.split("/")[2:], _unflatten(pairs))

    def _route(self, method: str, parts: list[str], data: dict[str, Any]) -> tuple[int, Any]:
        kind, ident, action = (parts + [None, None, None])[:3]
        handler = getattr(self, f"_{method.lower()}_{kind}", None)
        if handler is None:
            return _missing(f"{method} /v1/{'/'.join(parts)}")
        return handler(ident, action, data)  # type: ignore[no-any-return]

    def _post_customers(self, ident: str | None, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        if ident is None:
            ident = self.new_id("cus")
            self.customers[ident] = {"id": ident, "object": "customer"}
        self.customers.setdefault(ident, {"id": ident, "object": "customer"}).update(data)
        return 200, self.customers[ident]

    def _post_checkout(self, _ident: Any, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        sid = self.new_id("cs_test")
        return 200, {"id": sid, "object": "checkout.session", "url": f"https://checkout.stripe.test/c/pay/{sid}",
                     "mode": data.get("mode"), "customer": data.get("customer")}  # fmt: skip

    def _post_billing_portal(self, _ident: Any, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        sid = self.new_id("bps")
        return 200, {"id": sid, "object": "billing_portal.session", "customer": data.get("customer"),
                     "url": f"https://billing.stripe.test/p/session/{sid}"}  # fmt: skip

    def _get_prices(self, _ident: Any, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        keys = data.get("lookup_keys") or []
        found = [p for p in self.prices.values() if p.get("lookup_key") in keys]
        if data.get("active") == "true":
            found = [p for p in found if p.get("active")]
        return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/prices"}

    def _post_prices(self, ident: str | None, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        if ident is not None:
            price = self.prices.get(ident)
            if price is None:
                return _missing(f"price {ident}")
            if "active" in data:
                price["active"] = data["active"] == "true"
            if "metadata" in data:
                price["metadata"] = data["metadata"]
            return 200, price
        if data.get("transfer_lookup_key") == "true":
            for other in self.prices.values():
                if other.get("lookup_key") == data.get("lookup_key"):
                    other["lookup_key"] = None
        price = {"id": self.new_id("price"), "object": "price", "active": True, "lookup_key": data.get("lookup_key"),
                 "unit_amount": int(data["unit_amount"]), "currency": data["currency"],
                 "recurring": {"interval": data["recurring"]["interval"]}, "tax_behavior": data.get("tax_behavior"),
                 "product": data["product"], "metadata": data.get("metadata", {}),
                 "nickname": data.get("nickname")}  # fmt: skip
        self.prices[price["id"]] = price
        return 200, price

    def _get_products(self, ident: str | None, _action: Any, _data: dict[str, Any]) -> tuple[int, Any]:
        if ident in self.products:
            return 200, self.products[ident]
        return _missing(f"product {ident}")

    def _post_products(self, ident: str | None, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        if ident is None:
            ident = data["id"]
            self.products[ident] = {"id": ident, "object": "product", "active": True, "metadata": {}}
        product = self.products.get(ident)
        if product is None:
            return _missing(f"product {ident}")
        for key, value in data.items():
            product[key] = (value == "true") if key == "active" else value
        return 200, product

    def _get_subscriptions(self, ident: str | None, _action: Any, _data: dict[str, Any]) -> tuple[int, Any]:
        if ident in self.subscriptions:
            return 200, self.subscriptions[ident]
        return _missing(f"subscription {ident}")

    def _post_subscriptions(self, ident: str | None, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        sub = self.subscriptions.get(ident or "")
        if sub is None:
            return _missing(f"subscription {ident}")
        if "cancel_at_period_end" in data:
            sub["cancel_at_period_end"] = data["cancel_at_period_end"] == "true"
        for change in data.get("items", []):
            item = next(i for i in sub["items"]["data"] if i["id"] == change["id"])
            item["price"] = self.prices[change["price"]]
        return 200, sub

    def _post_subscription_schedules(self, ident: str | None, action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        if ident is None:
            sub = self.subscriptions[data["from_subscription"]]
            item = sub["items"]["data"][0]
            sched = {"id": self.new_id("sub_sched"), "object": "subscription_schedule", "subscription": sub["id"],
                     "phases": [{"start_date": item["current_period_start"], "end_date": item["current_period_end"],
                                 "items": [{"price": item["price"]["id"], "quantity": 1}]}]}  # fmt: skip
            self.schedules[sched["id"]] = sched
            sub["schedule"] = sched["id"]
            return 200, sched
        sched = self.schedules[ident]
        if action == "release":
            self.subscriptions[sched["subscription"]]["schedule"] = None
            sched["released"] = True
        else:
            sched.update(data)
        return 200, sched

    def _get_invoices(self, _ident: Any, _action: Any, data: dict[str, Any]) -> tuple[int, Any]:
        found = [i for i in self.invoices if i.get("customer") == data.get("customer")]
        return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/invoices"}


def _missing(what: str) -> tuple[int, Any]:
    return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": f"No such {what}"}}


def _secret(name: str, value: Any) -> Any:
    from pydantic import SecretStr

    return SecretStr(value) if name in ("stripe_secret_key", "stripe_webhook_secret") and value else value


def signed_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A webhook body and headers signed like Stripe does (v1 = HMAC-SHA256 over ``"<t>.<body>"``)."""
    event = {"id": event_id or f"evt_{int(time.time() * 1000)}_{next(_event_numbers)}", "object": "event",
             "type": event_type, "created": created or int(time.time()), "api_version": "2026-10-28.endive",
             "livemode": False, "data": {"object": obj}}  # fmt: skip
    body = json.dumps(event).encode()
    t = timestamp or int(time.time())
    signature = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}


_event_numbers = itertools.count(1)


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A running recording Stripe stand-in with the catalogue (Products, Prices) already synced."""
    with FakeStripe() as fake:
        sync_catalog(StripeGateway(API_KEY, api_base=fake.url))
        fake.requests.clear()
        yield fake


@pytest.fixture
def billing_settings(server_settings: Settings, fake_stripe: FakeStripe) -> Settings:
    """``server_settings`` with Stripe (secret, webhook secret, API base, return URL) pointed at ``fake_stripe``."""
    return fake_stripe.settings(server_settings)


@pytest.fixture
def billing_api(billing_settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """The app on the test backend, with Stripe pointed at ``fake_stripe``."""
    with TestClient(create_app(billing_settings, clock=clock)) as client:
        yield client


def price_for(fake: FakeStripe, lookup_key: str) -> dict[str, Any]:
    """The fake's active Price holding ``lookup_key``."""
    return next(p for p in fake.prices.values() if p.get("lookup_key") == lookup_key and p.get("active"))


def post_event(client: TestClient, event_type: str, obj: dict[str, Any], **kwargs: Any) -> Any:
    """Send a correctly signed event to the webhook route; returns the response."""
    body, headers = signed_event(event_type, obj, **kwargs)
    return client.post("/v1/billing/stripe-webhook", content=body, headers=headers)


def customer_of(client: TestClient, tenant: Tenant, fake: FakeStripe) -> str:
    """The tenant's Stripe customer, created the real way (a checkout, which links the customer)."""
    response = client.post("/v1/billing/checkout", json={"plan_id": "enterprise", "interval": "month"},
                           headers=tenant.headers)  # fmt: skip
    assert response.status_code == 200, response.text
    return next(c["id"] for c in fake.customers.values() if c.get("metadata", {}).get("organization_id")
                == tenant.organization_id)  # fmt: skip


def subscribe(
    client: TestClient, tenant: Tenant, fake: FakeStripe, lookup_key: str = "carbot_professional_monthly",
    status: str = "active", **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    """A Stripe subscription of the tenant on ``lookup_key``, announced by a signed ``created`` event."""
    customer = customer_of(client, tenant, fake)
    sub = fake.add_subscription(customer, price_for(fake, lookup_key), status=status, **extra)
    response = post_event(client, "customer.subscription.created", sub)
    assert response.status_code == 200 and response.json()["outcome"] == "applied", response.text
    return sub
