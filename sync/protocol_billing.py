"""Wire schemas of the subscription routes (issue 8), shared by the hosted API and the desktop's Abo page.

All routes live under ``/v1/billing`` (OpenAPI tag "Abo"); the organisation always comes from the
access token, never from the request:

- ``GET /v1/billing/subscription`` → ``BillingOverview`` (owner and auditor; a device token gets the
  same view without invoices, for the past-due/read-only banner);
- ``POST /v1/billing/checkout`` (``CheckoutIn``) → ``UrlOut``: a Stripe Checkout page (subscription
  mode) to open in the browser (owner);
- ``POST /v1/billing/change`` (``ChangeIn``) → ``BillingOverview``: an upgrade applies at once
  (prorated, charged immediately), a downgrade at the end of the period (``scheduled_plan_id``);
  ``409`` when the target plan allows fewer locations than the organisation has (owner);
- ``POST /v1/billing/cancel`` / ``POST /v1/billing/resume`` → ``BillingOverview``: cancel at the end
  of the period, or undo that (owner);
- ``POST /v1/billing/portal`` → ``UrlOut``: the Stripe customer portal (owner);
- ``POST /v1/billing/stripe-webhook``: Stripe's signed events (no access token).

Every route except the webhook answers ``503`` with the German text ``PAYMENTS_NOT_CONFIGURED`` when
the server has no Stripe secret (``GET /v1/billing/subscription`` still works, without invoices).
The POST routes accept an optional ``Idempotency-Key`` header (a UUID of the desktop's operation): a
retried request with the same key does not create a second Checkout Session or change twice.

Prices are NET amounts in EUR (German VAT on top); they come from ``app.plans``, the only place that
states them. Qt-free and server-free: pydantic and ``app.plans`` only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app import plans

BILLING_PROTOCOL_VERSION = 1

PlanIdWire = Literal["starter", "professional", "enterprise"]
"""The plan ids of ``app.plans`` (``app.plans.PlanId``)."""
Interval = Literal["month", "year"]
"""Billing interval of a subscription (Stripe's ``recurring.interval``)."""
StatusWire = Literal["trialing", "active", "past_due", "cancelled"]
"""``app.plans.SubscriptionStatus`` values."""

PAYMENTS_NOT_CONFIGURED = "Die Zahlungsabwicklung ist auf diesem Server nicht eingerichtet."
"""German text of the ``503`` answer when the server has no Stripe secret (code ``billing_not_configured``)."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsageOut(_Wire):
    """How much of the plan's limits the organisation uses (``None`` limit = unlimited)."""

    leads_this_month: int = Field(ge=0, description="Leads im laufenden Kalendermonat (deutsche Zeit)")
    leads_limit: int | None = None
    locations: int = Field(ge=0)
    locations_limit: int | None = None


class InvoiceOut(_Wire):
    """One Stripe invoice of the organisation (amounts in cents of ``currency``, gross incl. VAT)."""

    id: str
    number: str | None = None
    created: dt.datetime
    total_cents: int
    currency: str = Field(description="ISO 4217, kleingeschrieben wie bei Stripe (eur)")
    status: str | None = Field(default=None, description="draft, open, paid, uncollectible, void")
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None


class PlanLimitsOut(_Wire):
    """A plan's limits (``None`` = unlimited); units as in ``app.plans.Limits``."""

    locations: int | None = None
    leads_per_month: int | None = None


class PlanOut(_Wire):
    """One plan as the Abo page lists it; prices are net (VAT on top), from ``app.plans``."""

    id: PlanIdWire
    name: str
    monthly_net: Decimal
    yearly_net: Decimal
    features: list[str] = Field(description="app.plans.Feature values")
    limits: PlanLimitsOut


class BillingOverview(_Wire):
    """The organisation's subscription as the Abo page and the banner show it.

    ``status`` is the stored state; ``effective_status`` counts an ended trial as ``cancelled``;
    ``read_only`` is true after the payment grace (``past_due`` from ``grace_until`` on) and when
    cancelled (nothing is deleted; invoices stay printable). ``scheduled_plan_id``/``scheduled_interval``:
    a downgrade that applies at ``current_period_end``.
    """

    plan_id: PlanIdWire
    plan_name: str
    status: StatusWire
    effective_status: StatusWire
    interval: Interval | None = None
    trial_ends_at: dt.datetime | None = None
    current_period_end: dt.datetime | None = None
    cancel_at_period_end: bool = False
    scheduled_plan_id: PlanIdWire | None = None
    scheduled_interval: Interval | None = None
    grace_until: dt.datetime | None = None
    read_only: bool = False
    usage: UsageOut
    invoices: list[InvoiceOut] = Field(default_factory=list)
    plans: list[PlanOut] = Field(default_factory=list)


class CheckoutIn(_Wire):
    """Start a subscription: Stripe Checkout for ``plan_id`` billed per ``interval``.

    ``trial``: ask for the free trial (``app.plans.TRIAL_DAYS``); the server grants it only to an
    organisation that never had a Stripe trial.
    """

    plan_id: PlanIdWire
    interval: Interval
    trial: bool = True


class ChangeIn(_Wire):
    """Switch the running subscription to ``plan_id``/``interval`` (upgrade now, downgrade at period end)."""

    plan_id: PlanIdWire
    interval: Interval


class UrlOut(_Wire):
    """A Stripe-hosted page (Checkout or customer portal) to open in the browser."""

    url: str


def plan_catalogue() -> list[PlanOut]:
    """Every plan of ``app.plans`` as ``PlanOut`` (cheapest first)."""
    return [
        PlanOut(
            id=p.id,
            name=p.name,
            monthly_net=p.monthly_net,
            yearly_net=p.yearly_net,
            features=sorted(f.value for f in p.features),
            limits=PlanLimitsOut(locations=p.limits.locations, leads_per_month=p.limits.leads_per_month),
        )
        for p in plans.PLANS
    ]
