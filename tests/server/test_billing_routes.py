"""The owner's subscription routes against a recording Stripe stand-in, on SQLite and PostgreSQL + Redis.

What Stripe receives is asserted on the requests the real ``stripe`` client library sent to the
``FakeStripe`` server: parameters and ``Idempotency-Key`` headers. Checkout, portal, Prices and
proration are exactly what localstripe cannot do (test_billing_localstripe.py covers the rest).
"""

from __future__ import annotations

import logging
import uuid

import pytest
from fastapi.testclient import TestClient

from app import plans
from sync.protocol_billing import PAYMENTS_NOT_CONFIGURED, BillingOverview
from sync.server.main import create_app
from tests.server.billing_support import *  # noqa: F403  (the fixtures: fake_stripe, billing_api)
from tests.server.billing_support import RETURN_URL, FakeStripe, customer_of, post_event, price_for, subscribe
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import PASSWORD, FakeClock, Tenant, bearer, login, register_tenant
from tests.server.plan_support import add_location, grant_plan, register_device


def _staff(client: TestClient, tenant: Tenant, role: str) -> dict[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:6]}@werkstatt.example"
    body = {"email": email, "role": role, "password": PASSWORD, "name": role.title()}
    if role != "auditor":
        body["location_ids"] = [tenant.location_id]
    assert client.post("/v1/users", json=body, headers=tenant.headers).status_code == 201
    return bearer(login(client, email)["access_token"])


def test_overview_of_a_new_organisation_comes_from_the_plans_module(billing_api: TestClient):
    tenant = register_tenant(billing_api)
    body = billing_api.get("/v1/billing/subscription", headers=tenant.headers)
    assert body.status_code == 200, body.text
    overview = BillingOverview.model_validate(body.json())
    assert (overview.plan_id, overview.status, overview.effective_status) == ("starter", "trialing", "trialing")
    assert overview.read_only is False and overview.invoices == []
    assert [(p.id, p.monthly_net, p.yearly_net) for p in overview.plans] == [
        (p.id, p.monthly_net, p.yearly_net) for p in plans.PLANS
    ]
    starter = plans.plan("starter")
    assert overview.usage.locations == 1 and overview.usage.locations_limit == starter.limits.locations
    assert overview.usage.leads_limit == starter.limits.leads_per_month and overview.usage.leads_this_month == 0


def test_who_may_read_and_who_may_manage(billing_api: TestClient):
    tenant = register_tenant(billing_api)
    auditor, counter = _staff(billing_api, tenant, "auditor"), _staff(billing_api, tenant, "counter")
    device = register_device(billing_api, tenant, tenant.location_id)
    assert billing_api.get("/v1/billing/subscription", headers=auditor).status_code == 200
    assert billing_api.get("/v1/billing/subscription", headers=device.headers).status_code == 200
    assert billing_api.get("/v1/billing/subscription", headers=counter).status_code == 403
    for headers in (auditor, counter, device.headers):
        for path, body in (("/v1/billing/checkout", {"plan_id": "starter", "interval": "month"}),
                           ("/v1/billing/change", {"plan_id": "starter", "interval": "month"}),
                           ("/v1/billing/cancel", None), ("/v1/billing/resume", None),
                           ("/v1/billing/portal", None)):  # fmt: skip
            refused = billing_api.post(path, json=body, headers=headers)
            assert refused.status_code == 403, (path, refused.text)
    assert billing_api.post("/v1/billing/cancel").status_code == 401


def test_devices_see_the_state_but_no_invoices(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    subscribe(billing_api, tenant, fake_stripe)
    customer = fake_stripe.subscriptions[next(iter(fake_stripe.subscriptions))]["customer"]
    fake_stripe.invoices.append({"id": "in_1", "customer": customer, "created": 1_800_000_000, "total": 1,
                                 "currency": "eur", "status": "paid", "number": "CB-0001",
                                 "hosted_invoice_url": "https://invoice.stripe.test/i/1",
                                 "invoice_pdf": "https://invoice.stripe.test/i/1.pdf"})  # fmt: skip
    owner_view = billing_api.get("/v1/billing/subscription", headers=tenant.headers).json()
    assert [i["number"] for i in owner_view["invoices"]] == ["CB-0001"]
    device = register_device(billing_api, tenant, tenant.location_id)
    device_view = billing_api.get("/v1/billing/subscription", headers=device.headers).json()
    assert device_view["invoices"] == [] and device_view["plan_id"] == "professional"


def test_without_stripe_the_routes_answer_503_in_german(api: TestClient):
    tenant = register_tenant(api)
    refused = api.post("/v1/billing/checkout", json={"plan_id": "starter", "interval": "month"}, headers=tenant.headers)
    assert refused.status_code == 503
    assert refused.json() == {"detail": PAYMENTS_NOT_CONFIGURED, "code": "billing_not_configured"}
    assert api.post("/v1/billing/portal", headers=tenant.headers).status_code == 503
    assert (
        api.post("/v1/billing/stripe-webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=x"}).status_code
        == 503
    )
    assert api.get("/v1/billing/subscription", headers=tenant.headers).status_code == 200  # the state needs no Stripe
    assert api.post("/v1/billing/checkout", json={"plan_id": "starter", "interval": "month"}).status_code == 401


def test_checkout_creates_the_customer_once_and_a_subscription_session(
    billing_api: TestClient, fake_stripe: FakeStripe
):
    tenant = register_tenant(billing_api, name="Kfz-Meisterbetrieb Adler")
    op = str(uuid.uuid4())
    response = billing_api.post("/v1/billing/checkout", json={"plan_id": "professional", "interval": "year"},
                                headers=tenant.headers | {"Idempotency-Key": op})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["url"].startswith("https://checkout.stripe.test/")
    (customer,) = fake_stripe.calls("POST", "/v1/customers")
    assert customer.idempotency_key == f"customer:{tenant.organization_id}"
    assert customer.form["name"] == "Kfz-Meisterbetrieb Adler" and customer.form["email"] == tenant.email
    assert customer.form["metadata[organization_id]"] == tenant.organization_id
    (session,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert session.idempotency_key == f"checkout:{tenant.organization_id}:{op}"
    expected = {
        "mode": "subscription",
        "customer": fake_stripe.customers[next(iter(fake_stripe.customers))]["id"],
        "client_reference_id": tenant.organization_id,
        "line_items[0][price]": price_for(fake_stripe, "carbot_professional_yearly")["id"],
        "line_items[0][quantity]": "1",
        "automatic_tax[enabled]": "true",
        "tax_id_collection[enabled]": "true",
        "customer_update[address]": "auto",
        "customer_update[name]": "auto",
        "billing_address_collection": "required",
        "payment_method_types[0]": "card",
        "payment_method_types[1]": "sepa_debit",
        "locale": "de",
        "subscription_data[metadata][organization_id]": tenant.organization_id,
        "subscription_data[trial_period_days]": str(plans.TRIAL_DAYS),
        "success_url": f"{RETURN_URL}?checkout=success",
        "cancel_url": f"{RETURN_URL}?checkout=cancelled",
    }
    assert session.form == expected
    # A second attempt reuses the customer; without a header each attempt gets its own key.
    again = billing_api.post("/v1/billing/checkout", json={"plan_id": "starter", "interval": "month", "trial": False},
                             headers=tenant.headers)  # fmt: skip
    assert again.status_code == 200
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    second = fake_stripe.calls("POST", "/v1/checkout/sessions")[-1]
    assert (
        second.idempotency_key != session.idempotency_key and "subscription_data[trial_period_days]" not in second.form
    )


def test_no_second_trial_and_no_second_subscription(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    sub = subscribe(billing_api, tenant, fake_stripe, status="trialing", trial_end=1_900_000_000)
    refused = billing_api.post("/v1/billing/checkout", json={"plan_id": "enterprise", "interval": "month"},
                               headers=tenant.headers)  # fmt: skip
    assert refused.status_code == 409 and refused.json()["code"] == "already_subscribed"
    # Cancelled: a new checkout is allowed again, but without a second trial.
    fake_stripe.subscriptions[sub["id"]]["status"] = "canceled"
    assert post_event(billing_api, "customer.subscription.deleted", sub).json()["outcome"] == "applied"
    billing_api.post("/v1/billing/checkout", json={"plan_id": "enterprise", "interval": "month"},
                     headers=tenant.headers).raise_for_status()  # fmt: skip
    assert "subscription_data[trial_period_days]" not in fake_stripe.calls("POST", "/v1/checkout/sessions")[-1].form


def test_upgrade_is_immediate_and_prorated(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    sub = subscribe(billing_api, tenant, fake_stripe, "carbot_starter_monthly")
    op = str(uuid.uuid4())
    response = billing_api.post("/v1/billing/change", json={"plan_id": "professional", "interval": "month"},
                                headers=tenant.headers | {"Idempotency-Key": op})  # fmt: skip
    assert response.status_code == 200, response.text
    (modify,) = fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}")
    assert modify.idempotency_key == f"upgrade:{tenant.organization_id}:{op}"
    assert modify.form == {
        "items[0][id]": sub["items"]["data"][0]["id"],
        "items[0][price]": price_for(fake_stripe, "carbot_professional_monthly")["id"],
        "proration_behavior": "always_invoice",
        "payment_behavior": "pending_if_incomplete",
    }
    assert response.json()["plan_id"] == "professional" and response.json()["scheduled_plan_id"] is None
    assert fake_stripe.calls("POST", "/v1/subscription_schedules") == []


def test_downgrade_waits_for_the_end_of_the_period(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    sub = subscribe(billing_api, tenant, fake_stripe, "carbot_enterprise_yearly")
    item = sub["items"]["data"][0]
    response = billing_api.post("/v1/billing/change", json={"plan_id": "professional", "interval": "month"},
                                headers=tenant.headers)  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["plan_id"], body["interval"]) == ("enterprise", "year")  # unchanged until the renewal
    assert (body["scheduled_plan_id"], body["scheduled_interval"]) == ("professional", "month")
    (create,) = [r for r in fake_stripe.calls("POST", "/v1/subscription_schedules") if r.path.count("/") == 2]
    assert create.form == {"from_subscription": sub["id"]} and create.idempotency_key.startswith("schedule:")
    (phases,) = [r for r in fake_stripe.calls("POST", "/v1/subscription_schedules/") if "phases[0][end_date]" in r.form]
    assert phases.idempotency_key.startswith(f"downgrade:{tenant.organization_id}:")
    assert phases.form["phases[0][items][0][price]"] == item["price"]["id"]
    assert phases.form["phases[0][end_date]"] == str(item["current_period_end"])
    assert phases.form["phases[1][items][0][price]"] == price_for(fake_stripe, "carbot_professional_monthly")["id"]
    assert phases.form["end_behavior"] == "release" and phases.form["proration_behavior"] == "none"
    assert fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}") == []  # no immediate change
    # At the renewal Stripe switches the price and releases the schedule; the webhook follows.
    item["price"] = price_for(fake_stripe, "carbot_professional_monthly")
    fake_stripe.subscriptions[sub["id"]]["schedule"] = None
    assert post_event(billing_api, "customer.subscription.updated", sub).status_code == 200
    after = billing_api.get("/v1/billing/subscription", headers=tenant.headers).json()
    assert (after["plan_id"], after["interval"], after["scheduled_plan_id"]) == ("professional", "month", None)


def test_downgrade_below_the_location_count_is_refused(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    subscribe(billing_api, tenant, fake_stripe, "carbot_enterprise_monthly")
    add_location(billing_api, tenant, "Filiale Nord")
    refused = billing_api.post("/v1/billing/change", json={"plan_id": "professional", "interval": "month"},
                               headers=tenant.headers)  # fmt: skip
    assert refused.status_code == 409 and refused.json()["code"] == "plan_limit"
    assert "höchstens 1 Standort" in refused.json()["detail"] and "hat 2" in refused.json()["detail"]
    assert fake_stripe.calls("POST", "/v1/subscription") == []


def test_cancel_and_resume_at_period_end(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    sub = subscribe(billing_api, tenant, fake_stripe)
    op = str(uuid.uuid4())
    cancelled = billing_api.post("/v1/billing/cancel", headers=tenant.headers | {"Idempotency-Key": op})
    assert cancelled.status_code == 200 and cancelled.json()["cancel_at_period_end"] is True
    assert cancelled.json()["status"] == "active" and cancelled.json()["read_only"] is False  # until the period ends
    calls = fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}")
    assert [(c.form, c.idempotency_key) for c in calls] == [
        ({"cancel_at_period_end": "true"}, f"cancel:{tenant.organization_id}:{op}")
    ]
    refused = billing_api.post("/v1/billing/change", json={"plan_id": "enterprise", "interval": "month"},
                               headers=tenant.headers)  # fmt: skip
    assert refused.status_code == 409 and refused.json()["code"] == "cancel_pending"
    resumed = billing_api.post("/v1/billing/resume", headers=tenant.headers)
    assert resumed.status_code == 200 and resumed.json()["cancel_at_period_end"] is False
    assert fake_stripe.calls("POST", f"/v1/subscriptions/{sub['id']}")[-1].idempotency_key.startswith("resume:")


def test_cancel_releases_a_scheduled_downgrade_first(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    subscribe(billing_api, tenant, fake_stripe, "carbot_enterprise_monthly")
    billing_api.post("/v1/billing/change", json={"plan_id": "starter", "interval": "month"},
                     headers=tenant.headers).raise_for_status()  # fmt: skip
    cancelled = billing_api.post("/v1/billing/cancel", headers=tenant.headers).json()
    assert cancelled["scheduled_plan_id"] is None and cancelled["cancel_at_period_end"] is True
    (release,) = [r for r in fake_stripe.requests if r.path.endswith("/release")]
    assert release.idempotency_key.startswith(f"release:{tenant.organization_id}:")


def test_change_without_subscription_is_a_conflict(billing_api: TestClient):
    tenant = register_tenant(billing_api)
    for path, body in (("/v1/billing/change", {"plan_id": "enterprise", "interval": "year"}),
                       ("/v1/billing/cancel", None), ("/v1/billing/portal", None)):  # fmt: skip
        refused = billing_api.post(path, json=body, headers=tenant.headers)
        assert refused.status_code == 409, (path, refused.text)


def test_portal_session_for_the_own_customer(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    customer = customer_of(billing_api, tenant, fake_stripe)
    op = str(uuid.uuid4())
    response = billing_api.post("/v1/billing/portal", headers=tenant.headers | {"Idempotency-Key": op})
    assert response.status_code == 200 and response.json()["url"].startswith("https://billing.stripe.test/")
    (portal,) = fake_stripe.calls("POST", "/v1/billing_portal/sessions")
    assert portal.form == {"customer": customer, "return_url": RETURN_URL, "locale": "de"}
    assert portal.idempotency_key == f"portal:{tenant.organization_id}:{op}"


def test_desktops_get_the_new_entitlement_at_their_next_pull(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    device = register_device(billing_api, tenant, tenant.location_id)
    first = billing_api.get("/v1/sync/pull", params={"streams": "entitlements"}, headers=device.headers).json()
    sub = subscribe(billing_api, tenant, fake_stripe)
    fake_stripe.subscriptions[sub["id"]]["status"] = "past_due"
    failed = {"id": "in_x", "customer": sub["customer"], "subscription": sub["id"]}
    assert post_event(billing_api, "invoice.payment_failed", failed).status_code == 200
    pulled = billing_api.get("/v1/sync/pull", params={"since": first["next_since"], "streams": "entitlements"},
                             headers=device.headers).json()  # fmt: skip
    assert pulled["changes"][-1]["entity"] == "entitlement"
    assert pulled["changes"][-1]["data"]["status"] == "past_due"
    claims = _claims(pulled["entitlement"])
    assert (claims["plan"], claims["status"]) == ("professional", "past_due")
    assert claims["grace_until"] is not None
    assert set(claims["features"]) == {f.value for f in plans.plan("professional").features}  # within the grace


def _claims(token: str) -> dict:  # type: ignore[type-arg]
    import jwt

    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


def test_an_operator_grant_is_kept_until_stripe_says_otherwise(
    server_settings, clock: FakeClock, fake_stripe: FakeStripe
):
    app = create_app(fake_stripe.settings(server_settings), clock=clock)
    with TestClient(app) as client:
        tenant = register_tenant(client)
        grant_plan(app, tenant.organization_id, "enterprise")
        customer_of(client, tenant, fake_stripe)  # writes the Stripe customer next to the operator's grant
        assert client.get("/v1/billing/subscription", headers=tenant.headers).json()["plan_id"] == "enterprise"


def test_stripe_refusals_become_502_without_stripes_text(
    billing_api: TestClient, fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
):
    tenant = register_tenant(billing_api)
    fake_stripe.failures["/v1/checkout"] = 400
    with caplog.at_level(logging.INFO):
        refused = billing_api.post("/v1/billing/checkout", json={"plan_id": "starter", "interval": "month"},
                                   headers=tenant.headers)  # fmt: skip
    assert refused.status_code == 502 and refused.json()["code"] == "stripe_error"
    assert refused.json()["detail"].startswith("Die Zahlungsabwicklung hat die Anfrage abgelehnt.")
    assert "stripe checkout refused: InvalidRequestError 400" in caplog.text
    assert "Erika" not in refused.text and "Erika" not in caplog.text  # Stripe's message may hold customer data
