"""Stripe's webhook route with correctly signed payloads: completion events, forgeries, replays, disorder.

Events are signed here exactly like Stripe signs them (``billing_support.signed_event``) and verified by
the route with ``stripe``'s own ``construct_event``. The subscription each event points at lives in the
recording ``FakeStripe`` server, which the route re-reads: the tests change it between events to show
that the stored state always comes from the re-read object, never from the (possibly old) event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time

import jwt
from fastapi.testclient import TestClient

from app import plans
from app.plans import Feature
from sync.server.billing_models import StripeEvent
from sync.server.plans_gate import plan_state
from tests.server.billing_support import *  # noqa: F403  (the fixtures: fake_stripe, billing_api)
from tests.server.billing_support import (
    WEBHOOK_SECRET,
    FakeStripe,
    customer_of,
    post_event,
    price_for,
    signed_event,
    subscribe,
)
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, Tenant, register_tenant
from tests.server.plan_support import register_device

GRACE = dt.timedelta(days=plans.PAST_DUE_GRACE_DAYS)


def _state(client: TestClient, tenant: Tenant) -> dict:  # type: ignore[type-arg]
    response = client.get("/v1/billing/subscription", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _advance(client: TestClient, tenant: Tenant, clock: FakeClock, **delta: float) -> None:
    """Move the clock and renew the owner's (10-minute) access token with the refresh token."""
    clock.advance(**delta)
    response = client.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token})
    assert response.status_code == 200, response.text
    tenant.access_token, tenant.refresh_token = response.json()["access_token"], response.json()["refresh_token"]


def _events(client: TestClient) -> list[StripeEvent]:
    with client.app.state.ctx.db.sessions() as session:  # type: ignore[attr-defined]
        return list(session.query(StripeEvent).order_by(StripeEvent.received_at, StripeEvent.id))


def test_checkout_completion_is_read_back_from_stripe(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    customer = customer_of(billing_api, tenant, fake_stripe)
    end = int(time.time()) + 365 * 86400
    sub = fake_stripe.add_subscription(customer, price_for(fake_stripe, "carbot_professional_yearly"), period_end=end)
    session = {"id": "cs_test_1", "object": "checkout.session", "customer": customer, "subscription": sub["id"],
               "client_reference_id": tenant.organization_id, "mode": "subscription", "status": "complete"}  # fmt: skip
    response = post_event(billing_api, "checkout.session.completed", session)
    assert response.status_code == 200 and response.json() == {"received": True, "outcome": "applied"}
    state = _state(billing_api, tenant)
    assert (state["plan_id"], state["status"], state["interval"]) == ("professional", "active", "year")
    assert state["current_period_end"] == dt.datetime.fromtimestamp(end, dt.UTC).isoformat().replace("+00:00", "Z")
    assert [r.path for r in fake_stripe.calls("GET", "/v1/subscriptions")] == [f"/v1/subscriptions/{sub['id']}"]
    (event,) = _events(billing_api)
    assert (event.type, event.outcome, event.organization_id) == (
        "checkout.session.completed", "applied", tenant.organization_id)  # fmt: skip


def test_forged_signatures_are_refused_with_400(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    customer = customer_of(billing_api, tenant, fake_stripe)
    sub = fake_stripe.add_subscription(customer, price_for(fake_stripe, "carbot_enterprise_monthly"))
    body, headers = signed_event("customer.subscription.created", sub, secret="whsec_someone_else")
    forged = billing_api.post("/v1/billing/stripe-webhook", content=body, headers=headers)
    assert forged.status_code == 400
    assert forged.json() == {"detail": "Die Stripe-Signatur ist ungültig.", "code": "invalid_signature"}
    good_body, good_headers = signed_event("customer.subscription.created", sub)
    tampered = good_body.replace(b"carbot_enterprise", b"carbot_starter__x")
    for content, sig in (
        (tampered, good_headers),  # the body changed after signing
        (good_body, {}),  # no signature at all
        (good_body, {"Stripe-Signature": "t=1,v1=" + "0" * 64}),  # garbage
        (good_body, signed_event("x", {}, timestamp=int(time.time()) - 3600)[1]),  # another body, too old
    ):
        assert billing_api.post("/v1/billing/stripe-webhook", content=content, headers=sig).status_code == 400
    old_body, old_headers = signed_event("customer.subscription.created", sub, timestamp=int(time.time()) - 3600)
    assert billing_api.post("/v1/billing/stripe-webhook", content=old_body, headers=old_headers).status_code == 400
    assert _state(billing_api, tenant)["plan_id"] == "starter" and _events(billing_api) == []
    assert fake_stripe.calls("GET", "/v1/subscriptions") == []  # nothing was even looked up
    # The genuine one works.
    assert billing_api.post("/v1/billing/stripe-webhook", content=good_body, headers=good_headers).status_code == 200
    assert _state(billing_api, tenant)["plan_id"] == "enterprise"


def test_a_replayed_event_id_is_answered_but_not_applied_again(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    customer = customer_of(billing_api, tenant, fake_stripe)
    sub = fake_stripe.add_subscription(customer, price_for(fake_stripe, "carbot_professional_monthly"))
    assert post_event(billing_api, "customer.subscription.created", sub, event_id="evt_once").json()["outcome"] == (
        "applied"
    )
    lookups = len(fake_stripe.calls("GET", "/v1/subscriptions"))
    # Stripe's object changes meanwhile; a redelivery of the same event id must not re-read or apply it.
    fake_stripe.subscriptions[sub["id"]]["status"] = "canceled"
    replay = post_event(billing_api, "customer.subscription.created", sub, event_id="evt_once")
    assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
    assert len(fake_stripe.calls("GET", "/v1/subscriptions")) == lookups
    assert _state(billing_api, tenant)["status"] == "active"
    assert [e.id for e in _events(billing_api)] == ["evt_once"]


def test_out_of_order_events_cannot_roll_the_state_back(
    billing_api: TestClient, fake_stripe: FakeStripe, clock: FakeClock
):
    tenant = register_tenant(billing_api)
    sub = subscribe(billing_api, tenant, fake_stripe)
    failed_at = int(clock.now.timestamp())
    fake_stripe.subscriptions[sub["id"]]["status"] = "past_due"
    invoice = {"id": "in_1", "object": "invoice", "customer": sub["customer"],
               "parent": {"subscription_details": {"subscription": sub["id"]}}}  # fmt: skip
    assert post_event(billing_api, "invoice.payment_failed", invoice, created=failed_at).status_code == 200
    grace_until = dt.datetime.fromtimestamp(failed_at, dt.UTC) + GRACE
    # An older "updated" event that still says active arrives late: the re-read says past_due.
    old = dict(sub, status="active")
    late = post_event(billing_api, "customer.subscription.updated", old, created=failed_at - 600)
    assert late.status_code == 200
    state = _state(billing_api, tenant)
    assert (state["status"], state["read_only"]) == ("past_due", False)
    assert dt.datetime.fromisoformat(state["grace_until"]) == grace_until
    # A second failure days later does not extend the grace (it counts from the first failure).
    _advance(billing_api, tenant, clock, days=3)
    post_event(billing_api, "invoice.payment_failed", dict(invoice, id="in_2"), created=int(clock.now.timestamp()))
    assert dt.datetime.fromisoformat(_state(billing_api, tenant)["grace_until"]) == grace_until
    # Paid: active again, the grace is gone.
    fake_stripe.subscriptions[sub["id"]]["status"] = "active"
    assert post_event(billing_api, "invoice.paid", invoice).json()["outcome"] == "applied"
    state = _state(billing_api, tenant)
    assert (state["status"], state["grace_until"]) == ("active", None)


def test_after_the_grace_the_organisation_is_read_only_and_keeps_its_data(
    billing_api: TestClient, fake_stripe: FakeStripe, clock: FakeClock
):
    tenant = register_tenant(billing_api)
    sub = subscribe(billing_api, tenant, fake_stripe, "carbot_enterprise_monthly")
    fake_stripe.subscriptions[sub["id"]]["status"] = "unpaid"
    post_event(billing_api, "customer.subscription.updated", sub, created=int(clock.now.timestamp()))
    assert _state(billing_api, tenant)["read_only"] is False
    _advance(billing_api, tenant, clock, days=plans.PAST_DUE_GRACE_DAYS, seconds=1)
    state = _state(billing_api, tenant)
    assert (state["status"], state["effective_status"], state["read_only"]) == ("past_due", "past_due", True)
    device = register_device(billing_api, tenant, tenant.location_id)
    token = billing_api.get("/v1/sync/pull", params={"streams": "entitlements"}, headers=device.headers).json()
    claims = jwt.decode(token["entitlement"], options={"verify_signature": False})
    assert claims["status"] == "past_due" and set(claims["features"]) == {f.value for f in plans.READ_ONLY_FEATURES}
    assert Feature.SYNC.value in claims["features"]  # desktops keep syncing, nothing is lost
    locations = billing_api.get("/v1/locations", headers=tenant.headers)
    assert [loc["id"] for loc in locations.json()] == [tenant.location_id]  # nothing deleted


def test_a_deleted_subscription_means_cancelled_read_only(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    sub = subscribe(billing_api, tenant, fake_stripe)
    fake_stripe.subscriptions[sub["id"]]["status"] = "canceled"
    assert post_event(billing_api, "customer.subscription.deleted", sub).json()["outcome"] == "applied"
    state = _state(billing_api, tenant)
    assert (state["plan_id"], state["status"], state["read_only"]) == ("professional", "cancelled", True)
    # A late event of the old subscription after a new checkout does not touch the new one.
    new = fake_stripe.add_subscription(sub["customer"], price_for(fake_stripe, "carbot_starter_yearly"))
    assert post_event(billing_api, "customer.subscription.created", new).json()["outcome"] == "applied"
    assert post_event(billing_api, "customer.subscription.deleted", sub).json()["outcome"] == "ignored"
    state = _state(billing_api, tenant)
    assert (state["plan_id"], state["interval"], state["status"]) == ("starter", "year", "active")


def test_events_of_another_organisation_change_only_that_one(billing_api: TestClient, fake_stripe: FakeStripe):
    a, b = register_tenant(billing_api, name="Werkstatt A"), register_tenant(billing_api, name="Werkstatt B")
    sub_b = subscribe(billing_api, b, fake_stripe, "carbot_enterprise_monthly")
    customer_a = customer_of(billing_api, a, fake_stripe)
    assert _state(billing_api, a)["plan_id"] == "starter" and _state(billing_api, b)["plan_id"] == "enterprise"
    # B's subscription in a checkout session that names A as the reference: refused, nothing changes.
    session = {"id": "cs_x", "object": "checkout.session", "customer": sub_b["customer"],
               "subscription": sub_b["id"], "client_reference_id": a.organization_id}  # fmt: skip
    assert post_event(billing_api, "checkout.session.completed", session).json()["outcome"] == "ignored"
    # A's customer pointing at B's subscription: the re-read object names B's customer, so ignored.
    forged = dict(sub_b, customer=customer_a)
    assert post_event(billing_api, "customer.subscription.updated", forged).json()["outcome"] == "ignored"
    # A customer nobody here created: ignored with 200 (Stripe stops retrying).
    stranger = fake_stripe.add_subscription("cus_unknown", price_for(fake_stripe, "carbot_enterprise_yearly"))
    unknown = post_event(billing_api, "customer.subscription.created", stranger)
    assert unknown.status_code == 200 and unknown.json()["outcome"] == "ignored"
    assert _state(billing_api, a)["plan_id"] == "starter" and _state(billing_api, a)["status"] == "trialing"
    assert _state(billing_api, b)["plan_id"] == "enterprise"
    with billing_api.app.state.ctx.db.sessions() as db:  # type: ignore[attr-defined]
        assert plan_state(db, a.organization_id).stored is True  # only the customer link
        assert plan_state(db, a.organization_id).plan_id == "starter"


def test_incomplete_and_foreign_prices_change_nothing(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    customer = customer_of(billing_api, tenant, fake_stripe)
    pending = fake_stripe.add_subscription(customer, price_for(fake_stripe, "carbot_enterprise_monthly"),
                                           status="incomplete")  # fmt: skip
    assert post_event(billing_api, "customer.subscription.created", pending).json()["outcome"] == "ignored"
    fake_stripe.subscriptions[pending["id"]]["status"] = "incomplete_expired"  # the first payment never came
    assert post_event(billing_api, "customer.subscription.updated", pending).json()["outcome"] == "ignored"
    foreign = fake_stripe.add_price("some_other_product", 1234, "month")
    other = fake_stripe.add_subscription(customer, foreign)
    assert post_event(billing_api, "customer.subscription.created", other).json()["outcome"] == "ignored"
    state = _state(billing_api, tenant)
    assert (state["plan_id"], state["status"], state["read_only"]) == ("starter", "trialing", False)  # the trial stays
    # The expired attempt is forgotten: a new checkout is possible.
    assert billing_api.post("/v1/billing/checkout", json={"plan_id": "starter", "interval": "month"},
                            headers=tenant.headers).status_code == 200  # fmt: skip


def test_trialing_subscription_and_unmapped_event_types(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    trial_end = int(time.time()) + plans.TRIAL_DAYS * 86400
    subscribe(billing_api, tenant, fake_stripe, "carbot_professional_monthly", status="trialing", trial_end=trial_end)
    state = _state(billing_api, tenant)
    assert (state["plan_id"], state["status"]) == ("professional", "trialing")
    assert dt.datetime.fromisoformat(state["trial_ends_at"]) == dt.datetime.fromtimestamp(trial_end, dt.UTC)
    other = post_event(billing_api, "product.created", {"id": "prod_1", "object": "product"})
    assert other.status_code == 200 and other.json()["outcome"] == "ignored"


def test_a_signed_body_that_is_no_event_is_refused(billing_api: TestClient):
    not_json = b"not json at all"
    t = int(time.time())
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + not_json, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={t},v1={signature}"}
    assert billing_api.post("/v1/billing/stripe-webhook", content=not_json, headers=headers).status_code == 400
    # A genuine event for a subscription nobody knows: accepted and ignored, no access token needed.
    body, headers = signed_event("customer.subscription.created", {"id": "sub_x", "customer": "cus_x"})
    assert billing_api.post("/v1/billing/stripe-webhook", content=body, headers=headers).json()["outcome"] == "ignored"


def test_a_stripe_outage_makes_stripe_retry_and_the_retry_applies(billing_api: TestClient, fake_stripe: FakeStripe):
    tenant = register_tenant(billing_api)
    customer = customer_of(billing_api, tenant, fake_stripe)
    sub = fake_stripe.add_subscription(customer, price_for(fake_stripe, "carbot_enterprise_yearly"))
    body, headers = signed_event("customer.subscription.created", sub, event_id="evt_during_outage")
    fake_stripe.failures["/v1/subscriptions"] = 500
    outage = billing_api.post("/v1/billing/stripe-webhook", content=body, headers=headers)
    assert outage.status_code == 503 and outage.json()["code"] == "stripe_unavailable"
    assert _events(billing_api) == [] and _state(billing_api, tenant)["plan_id"] == "starter"
    fake_stripe.failures.clear()
    retried = billing_api.post("/v1/billing/stripe-webhook", content=body, headers=headers)
    assert retried.json()["outcome"] == "applied" and _state(billing_api, tenant)["plan_id"] == "enterprise"
