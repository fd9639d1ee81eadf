"""Subscription state of an organisation on the server (plan, status, trial and payment grace).

One row per organisation in ``subscriptions``. Stripe (a later issue) writes it through
``sync.server.plans_gate.set_subscription``; until then operators and tests do. The plan table itself
(prices, limits, features) lives ONLY in ``app.plans``: this table stores the plan id, nothing else
about the plan.

**Default for a new organisation (decision).** An organisation without a row is on a 14-day
*Starter* trial (``app.plans.TRIAL_DAYS``) counted from its registration (``organizations.created_at``):
``status = trialing``, ``plan_id = starter``. Starter is the plan a workshop can always afford, so a
trial never promises features (several locations, public API) that silently vanish at the first
invoice; a workshop that wants to try more chooses a higher plan (Stripe checkout, later). The row is
not written at registration: the default is derived on read, so registration stays untouched and the
default can never disagree with a stored row.

**A trial that has ended** without a paid subscription counts as ``cancelled`` (read-only mode,
``app.plans.READ_ONLY_FEATURES``; nothing is deleted). ``PlanState.effective_status`` does that mapping,
so ``app.plans.effective_features`` stays the one place that turns a status into features.

**Stripe (issue 8, ``sync.server.billing``).** The row also keeps the organisation's Stripe customer
and subscription ids, the billing interval, ``cancel_at_period_end``, a downgrade scheduled for the
end of the period (``scheduled_plan_id``/``scheduled_interval``) and ``had_trial`` (a Stripe trial is
granted once per organisation). ``stripe_events`` holds the id of every Stripe event handled, so a
redelivered event is answered at once and never applied twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models import Base, UTCDateTime, utcnow

PLAN_CHECK = "plan_id IN ('starter', 'professional', 'enterprise')"
STATUS_CHECK = "status IN ('trialing', 'active', 'past_due', 'cancelled')"
INTERVAL_CHECK = "billing_interval IN ('month', 'year')"
SCHEDULED_CHECK = (
    "scheduled_plan_id IN ('starter', 'professional', 'enterprise') AND scheduled_interval IN ('month', 'year')"
)


class Subscription(Base):
    """The organisation's plan and subscription state (absent = the default Starter trial)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(PLAN_CHECK, name="plan_id"),
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint(INTERVAL_CHECK, name="billing_interval"),
        CheckConstraint(SCHEDULED_CHECK, name="scheduled"),
    )

    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    trial_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    current_period_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # End of the payment grace while past_due (app.plans.PAST_DUE_GRACE_DAYS by default).
    grace_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    billing_interval: Mapped[str | None] = mapped_column(String(8), default=None)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A downgrade that Stripe applies at the end of the period (subscription schedule).
    scheduled_plan_id: Mapped[str | None] = mapped_column(String(20), default=None)
    scheduled_interval: Mapped[str | None] = mapped_column(String(8), default=None)
    had_trial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)


class StripeEvent(Base):
    """A Stripe event id already handled (delivery is at least once; each id is applied once)."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True, default=None
    )
    # applied | ignored (unknown customer, foreign price, an event type we do not map)
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
