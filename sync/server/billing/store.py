"""The billing side of the server database: Stripe ids, applying Stripe's state, event ids, desktop pokes.

All state goes through ``plans_gate.set_subscription`` (the one writer of ``subscriptions``); this
module adds what is no state: the Stripe customer and subscription ids of the organisation. The
customer id is the ONLY way from a Stripe object back to an organisation: metadata such as
``client_reference_id`` is cross-checked, never trusted to create a link.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.plans import SubscriptionStatus
from sync.protocol import Entity, Stream
from sync.server.billing.mapping import SubscriptionView, grace_end
from sync.server.billing_models import StripeEvent, Subscription
from sync.server.plans_gate import PlanState, plan_state, set_subscription
from sync.server.sync_models import ORG_WIDE, ChangeLogEntry
from sync.server.sync_service import allocate_seqs

log = logging.getLogger(__name__)

ENTITLEMENT_ENTITY_ID = "subscription"
"""entity_id of the change that tells the desktops their entitlement changed (stream ``entitlements``)."""
EVENT_RETENTION = dt.timedelta(days=30)
"""Stripe retries an event for up to 3 days; ids older than this cannot come back."""


def subscription_row(session: Session, organization_id: str) -> Subscription | None:
    """The stored row (None while the organisation is on the derived default trial)."""
    return session.get(Subscription, organization_id)


def ensure_row(session: Session, organization_id: str, *, now: dt.datetime) -> Subscription:
    """The stored row; the derived default trial is written down first (same state, now with a row)."""
    row = session.get(Subscription, organization_id, with_for_update=True)
    if row is not None:
        return row
    state = plan_state(session, organization_id)
    set_subscription(
        session,
        organization_id,
        plan_id=state.plan_id,
        status=state.status,
        now=now,
        trial_ends_at=state.trial_ends_at,
        current_period_end=state.current_period_end,
        grace_until=state.grace_until,
    )
    row = session.get(Subscription, organization_id)
    assert row is not None
    return row


def organization_for_customer(session: Session, customer_id: str) -> str | None:
    """The organisation whose Stripe customer this is, or None (a customer we never created)."""
    if not customer_id:
        return None
    return session.scalar(select(Subscription.organization_id).where(Subscription.stripe_customer_id == customer_id))


def link_customer(session: Session, organization_id: str, customer_id: str, *, now: dt.datetime) -> None:
    """Remember the organisation's Stripe customer (created with the key ``customer:<org>``)."""
    row = ensure_row(session, organization_id, now=now)
    row.stripe_customer_id = customer_id
    session.flush()


def apply_view(
    session: Session,
    organization_id: str,
    view: SubscriptionView,
    *,
    now: dt.datetime,
    failed_at: dt.datetime,
    grace_days: int,
) -> PlanState | None:
    """Store Stripe's current state of ``view`` (None: nothing to change, e.g. ``incomplete``).

    The caller has checked that ``view`` belongs to the organisation's customer and is the
    subscription to follow. The plan comes from the item's price; ``grace_until`` from the first
    failure; a scheduled downgrade is forgotten once Stripe has applied it or the schedule is gone.
    """
    row = ensure_row(session, organization_id, now=now)
    status = view.status
    if status is None or view.plan_id is None:
        if view.stripe_status == "incomplete" and row.stripe_subscription_id is None:
            row.stripe_subscription_id = view.id  # so the events of its completion find it
        elif view.stripe_status == "incomplete_expired" and row.stripe_subscription_id == view.id:
            row.stripe_subscription_id = None  # never started: a new checkout may follow
        session.flush()
        return None
    scheduled_plan, scheduled_interval = row.scheduled_plan_id, row.scheduled_interval
    applied = (view.plan_id, view.interval) == (scheduled_plan, scheduled_interval)
    if view.schedule_id is None or applied or status is SubscriptionStatus.CANCELLED:
        scheduled_plan = scheduled_interval = None
    row.stripe_subscription_id = view.id
    return set_subscription(
        session,
        organization_id,
        plan_id=view.plan_id,
        status=status,
        now=now,
        trial_ends_at=view.trial_end if status is SubscriptionStatus.TRIALING else None,
        current_period_end=view.current_period_end,
        grace_until=grace_end(
            status,
            stored_status=row.status,
            stored_grace_until=row.grace_until,
            failed_at=failed_at,
            grace_days=grace_days,
        ),
        interval=view.interval,
        cancel_at_period_end=view.cancel_at_period_end and status is not SubscriptionStatus.CANCELLED,
        scheduled_plan_id=scheduled_plan,
        scheduled_interval=scheduled_interval,
        had_trial=view.trial_end is not None,
    )


def schedule_downgrade(session: Session, organization_id: str, plan_id: str | None, interval: str | None) -> None:
    """Remember (or forget, with None) the downgrade Stripe applies at the end of the period."""
    row = session.get(Subscription, organization_id)
    if row is not None:
        row.scheduled_plan_id, row.scheduled_interval = plan_id, interval
        session.flush()


def announce_entitlement(session: Session, state: PlanState, *, now: dt.datetime) -> int:
    """Append an org-wide change to the ``entitlements`` stream; returns its sequence number.

    Desktops get a fresh entitlement token with every complete pull anyway; this change makes the
    pull *happen now*: the desktops' change poke fires and their cursor moves (chat-sync §5 rule 5).
    """
    seq = allocate_seqs(session, state.organization_id, 1)
    session.execute(
        insert(ChangeLogEntry).values(
            organization_id=state.organization_id,
            seq=seq,
            stream=Stream.ENTITLEMENTS.value,
            location_id=ORG_WIDE,
            entity=Entity.ENTITLEMENT.value,
            entity_id=ENTITLEMENT_ENTITY_ID,
            op="upsert",
            data={
                "plan_id": state.plan_id,
                "status": state.effective_status(now).value,
                "grace_until": None if state.grace_until is None else state.grace_until.isoformat(),
            },
            origin_device=None,
            created_at=now,
        )
    )
    return seq


def record_event(session: Session, event_id: str, event_type: str, *, now: dt.datetime) -> StripeEvent | None:
    """Insert the event id FIRST; None when it is already there (a redelivery: answer 200, do nothing).

    The row is part of the transaction that applies the event: if applying fails, the id is rolled
    back with it and Stripe's retry is handled normally. The caller sets ``outcome`` and
    ``organization_id`` on the returned row.
    """
    if session.get(StripeEvent, event_id) is not None:
        return None
    row = StripeEvent(id=event_id, type=event_type[:100], organization_id=None, outcome="received", received_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same event in a concurrent delivery won the race
        return None
    return row


def prune_events(session: Session, *, now: dt.datetime) -> int:
    """Forget event ids older than ``EVENT_RETENTION``; returns how many."""
    result = session.execute(delete(StripeEvent).where(StripeEvent.received_at < now - EVENT_RETENTION))
    return int(getattr(result, "rowcount", 0) or 0)
