"""Against localstripe on 127.0.0.1: customers with an Austrian VAT id, a subscription, real signed webhooks.

localstripe (tests/support/localstripe_server.py) runs once per session in a subprocess; our app runs
under a real uvicorn server (``LiveServer``) with ``CARBOT_STRIPE_API_BASE`` pointing at localstripe.
localstripe delivers its own webhooks, signed with the secret registered at ``/_config/webhooks/…``, to
``POST /v1/billing/stripe-webhook``, where ``construct_event`` verifies them, and our handler re-reads the
subscription from localstripe. A second registration with a wrong secret goes to a capture server, so
the test can show that exactly those real deliveries are refused.

localstripe has no Prices, so the subscription uses a legacy Plan whose id is the lookup key
(``sync.server.billing.mapping``); it has no ``customer.subscription.updated`` either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from app import plans
from sync.server.billing import store
from sync.server.billing.stripe_client import StripeGateway
from sync.server.main import create_app
from tests.server.fixtures import make_settings, register_tenant
from tests.support.localstripe_server import API_KEY, LocalStripe
from tests.sync.sync_support import LiveServer

SECRET = "whsec_carbot_localstripe"
WRONG_SECRET = "whsec_not_the_servers"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """One localstripe for the session (loopback only, store in a temp folder)."""
    server = LocalStripe().start()
    try:
        yield server
    finally:
        server.stop()


class Capture:
    """A loopback HTTP server that keeps every POST body with its Stripe-Signature header."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, str]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                capture.deliveries.append((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wait(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_localstripe_subscription_lifecycle_through_signed_webhooks(localstripe: LocalStripe, tmp_path: Path):
    settings = make_settings(
        f"sqlite:///{tmp_path / 'server.db'}",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=SECRET,
        stripe_api_base=localstripe.url,
        billing_return_url="https://app.carbot.test/abo",
    )
    app = create_app(settings)
    capture = Capture()
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=10) as http:
        localstripe.register_webhook("carbot", f"{live.url}/v1/billing/stripe-webhook", SECRET)
        localstripe.register_webhook("capture", capture.url, WRONG_SECRET)
        try:
            tenant = register_tenant(http)  # type: ignore[arg-type]  (an httpx.Client speaks the same API)
            org = tenant.organization_id
            gateway = StripeGateway(API_KEY, api_base=localstripe.url)
            # The customer as our checkout creates it, here with an Austrian business VAT id.
            customer = gateway.create_customer(
                {"name": "Kfz-Technik Huber GmbH", "email": tenant.email, "preferred_locales": ["de"],
                 "address": {"country": "AT", "city": "Salzburg", "postal_code": "5020",
                             "line1": "Ignaz-Harrer-Str. 1"},
                 "tax_id_data": [{"type": "eu_vat", "value": "ATU12345678"}], "metadata": {"organization_id": org}},
                idempotency_key=f"customer:{org}",
            )  # fmt: skip
            assert [(t["type"], t["value"], t["country"]) for t in customer["tax_ids"]["data"]] == [
                ("eu_vat", "ATU12345678", "AT")
            ]
            second = gateway.v1.customers.tax_ids.create(customer["id"], {"type": "eu_vat", "value": "ATU87654321"})
            assert (second.type, second.value, second.country) == ("eu_vat", "ATU87654321", "AT")
            with app.state.ctx.db.unit() as session:
                store.link_customer(session, org, customer["id"], now=app.state.ctx.clock())

            plan = plans.plan("professional")
            gateway.v1.products.create({"id": "carbot_professional", "name": "CarBot Werkstatt Professional"})
            gateway.v1.plans.create({"id": plan.stripe_lookup_key_monthly, "amount": plan.monthly_cents,
                                     "currency": "eur", "interval": "month",
                                     "product": "carbot_professional"})  # fmt: skip
            card = gateway.v1.payment_methods.create(
                {
                    "type": "card",
                    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"},
                }
            )
            gateway.v1.payment_methods.attach(card.id, {"customer": customer["id"]})
            gateway.v1.customers.update(customer["id"], {"invoice_settings": {"default_payment_method": card.id}})
            vat = gateway.v1.tax_rates.create({"display_name": "USt.", "percentage": 19, "inclusive": False})
            items = [{"plan": plan.stripe_lookup_key_monthly}]
            sub = gateway.v1.subscriptions.create(
                {"customer": customer["id"], "items": items, "default_tax_rates": [vat.id]}
            )
            assert sub.status == "active"
            assert localstripe.workdir is not None and (localstripe.workdir / "localstripe.pickle").exists()

            def state() -> dict[str, Any]:
                response = http.get("/v1/billing/subscription", headers=tenant.headers)
                assert response.status_code == 200, response.text
                return response.json()  # type: ignore[no-any-return]

            _wait(lambda: state()["plan_id"] == "professional", "the subscription webhook")
            active = state()
            assert (active["status"], active["interval"], active["read_only"]) == ("active", "month", False)
            assert [i["total_cents"] for i in active["invoices"]] == [plan.monthly_cents * 119 // 100]  # net + 19 %

            gateway.v1.subscriptions.cancel(sub.id)
            _wait(lambda: state()["status"] == "cancelled", "the deletion webhook")
            cancelled = state()
            assert (cancelled["plan_id"], cancelled["read_only"]) == ("professional", True)

            # The same real deliveries signed with another secret: construct_event and our route refuse them.
            _wait(lambda: len(capture.deliveries) >= 3, "the captured deliveries")
            for body, signature in capture.deliveries:
                with pytest.raises(stripe.SignatureVerificationError):
                    stripe.Webhook.construct_event(body, signature, SECRET)
                assert stripe.Webhook.construct_event(body, signature, WRONG_SECRET).id.startswith("evt_")
                headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
                assert http.post("/v1/billing/stripe-webhook", content=body, headers=headers).status_code == 400
            assert state()["status"] == "cancelled"
        finally:
            capture.close()
            localstripe.flush()
