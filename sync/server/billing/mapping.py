"""Reading Stripe subscriptions: which of our plans, which interval, which state (pure functions).

The plan comes from the subscription item's Price: its ``lookup_key`` (``carbot_<plan>_monthly|yearly``,
``app.plans.plan_for_lookup_key``), else its ``metadata.carbot_plan``/``metadata.interval`` (written by
the catalogue), else a Price or legacy Plan **id** equal to a lookup key (localstripe knows only Plans,
so the tests create Plans with the lookup key as id). Anything else is a foreign price: ``plan_id`` None,
and the webhook leaves the organisation alone.

Stripe status → ours (``app.plans.SubscriptionStatus``):

| Stripe | ours |
|---|---|
| ``trialing`` | ``trialing`` |
| ``active`` | ``active`` |
| ``past_due``, ``unpaid`` | ``past_due`` (grace until the first failure + grace days) |
| ``canceled``, ``paused`` | ``cancelled`` (read-only, nothing deleted) |
| ``incomplete``, ``incomplete_expired`` | no change: the first payment never went through, so the |
| | subscription never started; the organisation keeps what it had (e.g. its trial) |

Stripe moved ``current_period_end`` onto the items (API 2025-03-31); the subscription-level field (which
localstripe still sends) is the fallback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app import plans
from app.errors import NotFound
from app.plans import SubscriptionStatus

LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid"})
"""Stripe statuses of a subscription that runs (a second checkout is refused while one does)."""

_STATUS = {
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELLED,
    "paused": SubscriptionStatus.CANCELLED,
}
_INTERVALS = {"month", "year"}


@dataclass(frozen=True)
class SubscriptionView:
    """What we read from one Stripe subscription object."""

    id: str
    customer_id: str
    stripe_status: str
    plan_id: str | None
    interval: str | None
    item_id: str | None
    price_id: str | None
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    trial_end: dt.datetime | None
    cancel_at_period_end: bool
    schedule_id: str | None
    has_pending_update: bool

    @property
    def status(self) -> SubscriptionStatus | None:
        """Our status, or None for ``incomplete``/``incomplete_expired`` (no change)."""
        return _STATUS.get(self.stripe_status)

    @property
    def live(self) -> bool:
        """Whether the subscription runs (see ``LIVE_STATUSES``)."""
        return self.stripe_status in LIVE_STATUSES


def moment(value: Any) -> dt.datetime | None:
    """A Stripe epoch timestamp as an aware UTC datetime (None for missing values)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def ref_id(value: Any) -> str | None:
    """The id of an expandable field (an id string or an expanded object)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        inner = value.get("id")
        return inner if isinstance(inner, str) and inner else None
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _by_lookup_key(key: Any) -> tuple[str, str] | None:
    if not isinstance(key, str) or not key:
        return None
    try:
        plan, yearly = plans.plan_for_lookup_key(key)
    except NotFound:
        return None
    return plan.id, "year" if yearly else "month"


def plan_of_price(price: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(plan id, interval) of a Stripe Price (or legacy Plan) object; (None, None) for foreign prices."""
    found = _by_lookup_key(price.get("lookup_key"))
    if found is not None:
        return found
    metadata = _mapping(price.get("metadata"))
    plan_id = metadata.get("carbot_plan")
    if isinstance(plan_id, str) and plan_id in {p.id for p in plans.PLANS}:
        interval = metadata.get("interval") or _mapping(price.get("recurring")).get("interval")
        return plan_id, interval if interval in _INTERVALS else None
    found = _by_lookup_key(price.get("id"))  # localstripe: a legacy Plan whose id is the lookup key
    return found if found is not None else (None, None)


def read_subscription(obj: Mapping[str, Any]) -> SubscriptionView:
    """The parts of a Stripe subscription object we use (the first item decides plan and period)."""
    items = _mapping(obj.get("items")).get("data") or []
    item = _mapping(items[0]) if items else {}
    price = _mapping(item.get("price")) or _mapping(item.get("plan"))
    plan_id, interval = plan_of_price(price) if price else (None, None)
    period_end = moment(item.get("current_period_end")) or moment(obj.get("current_period_end"))
    period_start = moment(item.get("current_period_start")) or moment(obj.get("current_period_start"))
    return SubscriptionView(
        id=str(obj.get("id") or ""),
        customer_id=ref_id(obj.get("customer")) or "",
        stripe_status=str(obj.get("status") or ""),
        plan_id=plan_id,
        interval=interval,
        item_id=ref_id(item.get("id")),
        price_id=ref_id(price.get("id")) if price else None,
        current_period_start=period_start,
        current_period_end=period_end,
        trial_end=moment(obj.get("trial_end")),
        # Newer Stripe versions express "cancel at the end of the period" as cancel_at as well.
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")) or obj.get("cancel_at") is not None,
        schedule_id=ref_id(obj.get("schedule")),
        has_pending_update=bool(obj.get("pending_update")),
    )


def grace_end(
    status: SubscriptionStatus,
    *,
    stored_status: str | None,
    stored_grace_until: dt.datetime | None,
    failed_at: dt.datetime,
    grace_days: int,
) -> dt.datetime | None:
    """``grace_until`` for the new state: only ``past_due`` has one, counted from the FIRST failure.

    A subscription that stays ``past_due`` keeps its grace end (a retried or redelivered failure never
    extends it); one that recovers loses it.
    """
    if status is not SubscriptionStatus.PAST_DUE:
        return None
    if stored_status == SubscriptionStatus.PAST_DUE.value and stored_grace_until is not None:
        return stored_grace_until
    return failed_at + dt.timedelta(days=grace_days)


def plan_rank(plan_id: str, interval: str) -> tuple[int, int]:
    """Order of plans for up/downgrades: the plan first (``app.plans.PLANS`` order), then month < year."""
    order = [p.id for p in plans.PLANS]
    return order.index(plans.plan(plan_id).id), 1 if interval == "year" else 0


def lookup_key(plan_id: str, interval: str) -> str:
    """The Stripe lookup key of ``plan_id`` billed per ``interval``."""
    plan = plans.plan(plan_id)
    return plan.stripe_lookup_key_yearly if interval == "year" else plan.stripe_lookup_key_monthly
