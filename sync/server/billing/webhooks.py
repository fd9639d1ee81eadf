"""Stripe's webhook events → the organisation's subscription state (``POST /v1/billing/stripe-webhook``).

Rules (chat-sync-auth-billing.md §5; tests/server/test_billing_webhooks.py):

1. The signature is checked on the RAW body with ``construct_event`` (the route reads
   ``await request.body()`` before anything parses it); a bad signature is a ``400``.
2. Each event id is handled once: a known id is answered ``200`` at once. The id row is inserted as the
   first write of the transaction that applies the event, so a failure rolls both back and Stripe's
   retry is handled normally; a concurrent duplicate loses on the primary key.
3. Events arrive at least once and in any order, so the event's object is only a pointer: the
   subscription (the checkout session's or the invoice's subscription) is **re-read from Stripe** and
   its current state is stored. An old "active" event after a payment failure re-reads ``past_due``.
4. The organisation is found ONLY through the Stripe customer id we stored when we created the
   customer. An event for a customer we do not know is ignored (``200``, logged without personal
   data); a checkout session whose ``client_reference_id`` names another organisation is ignored.
5. When the organisation already follows another subscription, an event of a second one is applied
   only if that one runs and the followed one does not (a new checkout after a cancellation).
6. After a change the organisation gets an ``entitlements`` change and a poke, so its desktops pull
   (and receive a fresh entitlement token) at once.

Handled types: ``checkout.session.completed``/``async_payment_succeeded``/``async_payment_failed``,
``customer.subscription.created``/``updated``/``deleted``/``paused``/``resumed``, ``invoice.paid``,
``invoice.payment_succeeded`` (what localstripe sends) and ``invoice.payment_failed``. Others are
recorded and ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sync.server.billing import store
from sync.server.billing.mapping import SubscriptionView, moment, read_subscription, ref_id
from sync.server.billing.stripe_client import StripeGateway, StripeRefused
from sync.server.billing_models import StripeEvent
from sync.server.db import ServerDatabase
from sync.server.errors import ServiceUnavailable
from sync.server.plans_gate import PlanState

log = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
CHECKOUT_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"})
HANDLED = SUBSCRIPTION_EVENTS | CHECKOUT_EVENTS | INVOICE_EVENTS


@dataclass(frozen=True)
class Outcome:
    """What became of one event: ``applied``, ``ignored`` or ``duplicate``."""

    kind: str
    organization_id: str | None = None
    state: PlanState | None = None
    seq: int | None = None


@dataclass(frozen=True)
class _Pointer:
    customer_id: str
    subscription_id: str | None
    client_reference_id: str | None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _pointer(event_type: str, obj: Mapping[str, Any]) -> _Pointer | None:
    """Customer and subscription an event's object points at (None for types we do not map)."""
    customer = ref_id(obj.get("customer")) or ""
    if event_type in SUBSCRIPTION_EVENTS:
        return _Pointer(customer, ref_id(obj.get("id")), None)
    if event_type in CHECKOUT_EVENTS:
        reference = obj.get("client_reference_id")
        return _Pointer(customer, ref_id(obj.get("subscription")), reference if isinstance(reference, str) else None)
    if event_type in INVOICE_EVENTS:
        # Since API 2025-03-31 the subscription sits under parent.subscription_details.
        details = _mapping(_mapping(obj.get("parent")).get("subscription_details"))
        subscription = ref_id(obj.get("subscription")) or ref_id(details.get("subscription"))
        return _Pointer(customer, subscription, None)
    return None


class _Retry(ServiceUnavailable):
    """The organisation's followed subscription changed while we read Stripe: let Stripe retry."""


def _ignored(db: ServerDatabase, event_id: str, event_type: str, now: dt.datetime, org: str | None) -> Outcome:
    with db.unit() as session:
        row = store.record_event(session, event_id, event_type, now=now)
        if row is None:
            return Outcome("duplicate")
        row.outcome, row.organization_id = "ignored", org
    return Outcome("ignored", org)


def _known(db: ServerDatabase, event_id: str) -> bool:
    with db.sessions() as session:
        return session.get(StripeEvent, event_id) is not None


def _followed(db: ServerDatabase, organization_id: str) -> str | None:
    with db.sessions() as session:
        row = store.subscription_row(session, organization_id)
        return None if row is None else row.stripe_subscription_id


def _other_runs(gateway: StripeGateway, subscription_id: str) -> bool:
    try:
        return read_subscription(gateway.retrieve_subscription(subscription_id)).live
    except StripeRefused:  # deleted or unknown at Stripe: nothing to keep following
        return False


def handle_event(
    db: ServerDatabase, gateway: StripeGateway, event: Mapping[str, Any], *, now: dt.datetime, grace_days: int
) -> Outcome:
    """Apply one verified event (see the module docstring); Stripe errors propagate (→ retry)."""
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id:
        return Outcome("ignored")
    if _known(db, event_id):
        return Outcome("duplicate")
    org, target = _target(db, gateway, event_id, event_type, event)
    if org is None or target is None:
        return _ignored(db, event_id, event_type, now, org)
    view, followed = target
    failed_at = min(moment(event.get("created")) or now, now)
    return _apply(db, event_id, event_type, org, view, followed, now=now, failed_at=failed_at, grace_days=grace_days)


def _target(
    db: ServerDatabase, gateway: StripeGateway, event_id: str, event_type: str, event: Mapping[str, Any]
) -> tuple[str | None, tuple[SubscriptionView, str | None] | None]:
    """(organisation, (re-read subscription, the subscription the organisation follows)) or a None."""
    pointer = _pointer(event_type, _mapping(_mapping(event.get("data")).get("object")))
    if pointer is None or pointer.subscription_id is None:
        return None, None
    with db.sessions() as session:
        org = store.organization_for_customer(session, pointer.customer_id)
    if org is None:
        log.info("stripe event %s (%s) ignored: unknown customer", event_id, event_type)
        return None, None
    if pointer.client_reference_id is not None and pointer.client_reference_id != org:
        log.warning("stripe event %s ignored: checkout reference does not match the customer", event_id)
        return org, None
    view = read_subscription(gateway.retrieve_subscription(pointer.subscription_id))
    followed = _followed(db, org)
    if view.customer_id != pointer.customer_id or not _should_follow(gateway, view, followed):
        log.info("stripe event %s (%s) ignored: not the organisation's subscription", event_id, event_type)
        return org, None
    return org, (view, followed)


def _should_follow(gateway: StripeGateway, view: SubscriptionView, followed: str | None) -> bool:
    if followed is None or followed == view.id:
        return True
    if not view.live:
        return False  # an old subscription's late events never overwrite the current one
    if _other_runs(gateway, followed):
        log.warning("organisation has two running Stripe subscriptions; keeping the first")
        return False
    return True


def _apply(
    db: ServerDatabase,
    event_id: str,
    event_type: str,
    org: str,
    view: SubscriptionView,
    followed: str | None,
    *,
    now: dt.datetime,
    failed_at: dt.datetime,
    grace_days: int,
) -> Outcome:
    with db.unit() as session:
        row = store.record_event(session, event_id, event_type, now=now)
        if row is None:
            return Outcome("duplicate")
        if _current_followed(session, org) != followed:
            raise _Retry()
        state = store.apply_view(session, org, view, now=now, failed_at=failed_at, grace_days=grace_days)
        row.organization_id = org
        row.outcome = "ignored" if state is None else "applied"
        seq = None if state is None else store.announce_entitlement(session, state, now=now)
    if state is None:
        return Outcome("ignored", org)
    log.info("stripe event %s (%s) applied: %s/%s", event_id, event_type, state.plan_id, state.status.value)
    return Outcome("applied", org, state, seq)


def _current_followed(session: Session, org: str) -> str | None:
    row = store.subscription_row(session, org)
    return None if row is None else row.stripe_subscription_id
