"""What the owner does from Einstellungen → Abo: checkout, plan change, cancel/resume, customer portal.

Every Stripe write carries an idempotency key built from the organisation and the operation id (the
desktop's ``Idempotency-Key`` header, else a fresh UUID), e.g. ``checkout:<org>:<op>``; the customer
is created once per organisation with ``customer:<org>``. A retried request therefore never creates a
second session or charges a second proration.

Plan changes (docs/billing.md):

- **upgrade** (a higher plan, or monthly → yearly): at once, ``proration_behavior=always_invoice``
  (the difference is invoiced and charged now) and ``payment_behavior=pending_if_incomplete`` (if
  that payment fails, Stripe keeps the old plan: the change applies only once paid);
- **downgrade** (a lower plan, or yearly → monthly): at the end of the paid period through a Stripe
  **subscription schedule** (phase 1 = the current price until ``current_period_end``, phase 2 = the
  new price, then released). Stripe switches the price itself at renewal and bills the new amount;
  the webhook sees the new price. The intent is kept in ``scheduled_plan_id``/``scheduled_interval``;
- a downgrade to a plan with fewer locations than the organisation has is refused (409);
- any change, cancel or resume first releases a pending schedule (Stripe refuses to change a
  scheduled subscription's cancellation directly), so the last action wins.

State written here comes from the subscription object Stripe returns, exactly as in the webhook.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import plans
from sync.protocol_billing import ChangeIn, CheckoutIn, UrlOut
from sync.server.auth.tokens import Principal
from sync.server.billing import store
from sync.server.billing.mapping import SubscriptionView, lookup_key, plan_rank, read_subscription
from sync.server.billing.stripe_client import PaymentsNotConfigured, StripeDict, StripeGateway, StripeRefused
from sync.server.config import Settings
from sync.server.errors import Conflict
from sync.server.models import Location, Organization, User
from sync.server.plans_gate import PlanState, plan_state

ALREADY_SUBSCRIBED = "Es besteht bereits ein laufendes Abo. Bitte wechseln Sie den Tarif, statt neu abzuschließen."
NO_SUBSCRIPTION = "Es besteht kein laufendes Abo. Bitte schließen Sie zuerst einen Tarif ab."
NO_CUSTOMER = "Es gibt noch kein Kundenkonto bei der Zahlungsabwicklung. Bitte schließen Sie zuerst einen Tarif ab."
CANCEL_PENDING = "Das Abo ist zum Periodenende gekündigt. Bitte nehmen Sie zuerst die Kündigung zurück."
TOO_MANY_LOCATIONS = (
    "Der Tarif „{plan}“ umfasst höchstens {limit} Standort(e); Ihre Organisation hat {count}. "
    "Bitte entfernen Sie zuerst Standorte oder wählen Sie einen größeren Tarif."
)


@dataclass(frozen=True)
class Billing:
    """What an owner operation needs: the session, Stripe, the settings, the caller and the time."""

    session: Session
    gateway: StripeGateway
    settings: Settings
    caller: Principal
    now: dt.datetime
    op_id: str

    @property
    def org(self) -> str:
        """The caller's organisation (always from the token)."""
        return self.caller.organization_id

    def key(self, action: str) -> str:
        """The idempotency key of ``action`` in this operation."""
        return f"{action}:{self.org}:{self.op_id}"

    def return_url(self, outcome: str | None = None) -> str:
        """The configured return page, optionally with ``?checkout=<outcome>``; 503 without one."""
        base = self.settings.billing_return_url
        if not base:
            raise PaymentsNotConfigured()
        if outcome is None:
            return base
        return f"{base}{'&' if '?' in base else '?'}checkout={outcome}"

    def price_id(self, plan_id: str, interval: str) -> str:
        """The active Stripe Price of the plan (``carbot server stripe-catalog`` creates it); 503 without."""
        price = self.gateway.find_price(lookup_key(plan_id, interval))
        if price is None or not isinstance(price.get("id"), str):
            # The catalogue was never synced: an operator task, not the owner's fault.
            raise PaymentsNotConfigured()
        return str(price["id"])


def _check_locations(session: Session, organization_id: str, plan_id: str) -> None:
    allowed = plans.limit(plan_id, "locations")
    if allowed is None:
        return
    count = int(
        session.scalar(select(func.count()).select_from(Location).where(Location.organization_id == organization_id))
        or 0
    )
    if count > allowed:
        raise Conflict(TOO_MANY_LOCATIONS, code="plan_limit", plan=plans.plan(plan_id).name, limit=allowed, count=count)


def _live_subscription(billing: Billing) -> SubscriptionView | None:
    row = store.subscription_row(billing.session, billing.org)
    if row is None or not row.stripe_subscription_id:
        return None
    try:
        view = read_subscription(billing.gateway.retrieve_subscription(row.stripe_subscription_id))
    except StripeRefused:  # gone at Stripe (deleted in the dashboard): nothing runs
        return None
    if not view.live or view.customer_id != row.stripe_customer_id:
        return None
    return view


def _customer(billing: Billing) -> str:
    row = store.ensure_row(billing.session, billing.org, now=billing.now)
    if row.stripe_customer_id:
        return row.stripe_customer_id
    org = billing.session.get(Organization, billing.org)
    user = billing.session.get(User, billing.caller.id)
    params: StripeDict = {
        "name": org.name if org is not None else "",
        "preferred_locales": ["de"],
        "metadata": {"organization_id": billing.org},
    }
    if user is not None and user.organization_id == billing.org:
        params["email"] = user.email
    customer = billing.gateway.create_customer(params, idempotency_key=f"customer:{billing.org}")
    store.link_customer(billing.session, billing.org, str(customer["id"]), now=billing.now)
    return str(customer["id"])


def start_checkout(billing: Billing, body: CheckoutIn) -> UrlOut:
    """A Stripe Checkout Session (subscription mode) for ``body.plan_id``; 409 while one runs."""
    success_url, cancel_url = billing.return_url("success"), billing.return_url("cancelled")
    if _live_subscription(billing) is not None:
        raise Conflict(ALREADY_SUBSCRIBED, code="already_subscribed")
    _check_locations(billing.session, billing.org, body.plan_id)
    price_id = billing.price_id(body.plan_id, body.interval)
    customer_id = _customer(billing)
    row = store.ensure_row(billing.session, billing.org, now=billing.now)
    subscription_data: dict[str, Any] = {"metadata": {"organization_id": billing.org}}
    if body.trial and not row.had_trial:
        subscription_data["trial_period_days"] = plans.TRIAL_DAYS
    params: StripeDict = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": billing.org,
        "line_items": [{"price": price_id, "quantity": 1}],
        "automatic_tax": {"enabled": True},
        "tax_id_collection": {"enabled": True},
        "customer_update": {"address": "auto", "name": "auto"},
        "billing_address_collection": "required",
        "payment_method_types": ["card", "sepa_debit"],
        "locale": "de",
        "subscription_data": subscription_data,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    created = billing.gateway.create_checkout_session(params, idempotency_key=billing.key("checkout"))
    return _url(created)


def _url(created: StripeDict) -> UrlOut:
    url = created.get("url")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise StripeRefused()  # Stripe's hosted pages are always https
    return UrlOut(url=url)


def _release_schedule(billing: Billing, view: SubscriptionView) -> None:
    if view.schedule_id is not None:
        billing.gateway.release_schedule(view.schedule_id, idempotency_key=billing.key("release"))
        store.schedule_downgrade(billing.session, billing.org, None, None)


def _apply(billing: Billing, obj: StripeDict) -> PlanState:
    view = read_subscription(obj)
    state = store.apply_view(
        billing.session,
        billing.org,
        view,
        now=billing.now,
        failed_at=billing.now,
        grace_days=billing.settings.billing_grace_days,
    )
    return state if state is not None else plan_state(billing.session, billing.org)


def change_plan(billing: Billing, body: ChangeIn) -> PlanState:
    """Upgrade now (prorated, charged at once) or downgrade at the end of the period."""
    view = _live_subscription(billing)
    if view is None or view.plan_id is None or view.interval is None:
        raise Conflict(NO_SUBSCRIPTION, code="no_subscription")
    if view.cancel_at_period_end:
        raise Conflict(CANCEL_PENDING, code="cancel_pending")
    target = (body.plan_id, body.interval)
    current = (view.plan_id, view.interval)
    if target == current:  # "stay": undo a scheduled downgrade
        _release_schedule(billing, view)
        return _apply(billing, billing.gateway.retrieve_subscription(view.id))
    _check_locations(billing.session, billing.org, body.plan_id)
    price_id = billing.price_id(*target)
    _release_schedule(billing, view)
    if plan_rank(*target) > plan_rank(*current):
        params: StripeDict = {
            "items": [{"id": view.item_id, "price": price_id}],
            "proration_behavior": "always_invoice",
            "payment_behavior": "pending_if_incomplete",
        }
        return _apply(
            billing, billing.gateway.modify_subscription(view.id, params, idempotency_key=billing.key("upgrade"))
        )
    schedule = billing.gateway.create_schedule({"from_subscription": view.id}, idempotency_key=billing.key("schedule"))
    phases = schedule.get("phases") or [{}]
    first = phases[0] if isinstance(phases[0], dict) else {}
    start = first.get("start_date") or int((view.current_period_start or billing.now).timestamp())
    end = first.get("end_date") or int((view.current_period_end or billing.now).timestamp())
    params = {
        "end_behavior": "release",
        "proration_behavior": "none",
        "phases": [
            {"items": [{"price": view.price_id, "quantity": 1}], "start_date": start, "end_date": end},
            {
                "items": [{"price": price_id, "quantity": 1}],
                "duration": {"interval": body.interval, "interval_count": 1},
            },
        ],
    }
    billing.gateway.modify_schedule(str(schedule["id"]), params, idempotency_key=billing.key("downgrade"))
    store.schedule_downgrade(billing.session, billing.org, body.plan_id, body.interval)
    return plan_state(billing.session, billing.org)


def set_cancel_at_period_end(billing: Billing, *, cancel: bool) -> PlanState:
    """Cancel at the end of the period (``cancel``) or take that back."""
    view = _live_subscription(billing)
    if view is None:
        raise Conflict(NO_SUBSCRIPTION, code="no_subscription")
    _release_schedule(billing, view)
    params: StripeDict = {"cancel_at_period_end": cancel}
    action = "cancel" if cancel else "resume"
    return _apply(billing, billing.gateway.modify_subscription(view.id, params, idempotency_key=billing.key(action)))


def portal(billing: Billing) -> UrlOut:
    """A customer-portal session (payment method, invoices, tax id) for the organisation's customer."""
    return_url = billing.return_url()
    row = store.subscription_row(billing.session, billing.org)
    if row is None or not row.stripe_customer_id:
        raise Conflict(NO_CUSTOMER, code="no_customer")
    params: StripeDict = {"customer": row.stripe_customer_id, "return_url": return_url, "locale": "de"}
    created = billing.gateway.create_portal_session(params, idempotency_key=billing.key("portal"))
    return _url(created)
