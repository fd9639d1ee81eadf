"""Pure parts of billing: reading Stripe objects, the grace rule, plan order, month bounds, the read-only view."""

from __future__ import annotations

import datetime as dt

import pytest

from app import plans
from app.plans import SubscriptionStatus
from sync.server.billing.mapping import grace_end, plan_of_price, plan_rank, read_subscription
from sync.server.billing.overview import invoice_out, month_bounds
from sync.server.plans_gate import PlanState

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ({"id": "price_1", "lookup_key": "carbot_enterprise_yearly"}, ("enterprise", "year")),
        # An old price that lost its lookup key to a newer one: the catalogue's metadata still names the plan.
        (
            {
                "id": "price_2",
                "lookup_key": None,
                "recurring": {"interval": "month"},
                "metadata": {"carbot_plan": "professional"},
            },
            ("professional", "month"),
        ),  # fmt: skip
        # localstripe: a legacy Plan whose id is the lookup key.
        ({"id": "carbot_starter_monthly", "object": "plan", "interval": "month"}, ("starter", "month")),
        ({"id": "price_3", "lookup_key": "someone_elses_price", "metadata": {"carbot_plan": "premium"}}, (None, None)),
        ({"id": "price_4"}, (None, None)),
    ],
)
def test_plan_of_price(price: dict, expected: tuple) -> None:  # type: ignore[type-arg]
    assert plan_of_price(price) == expected


def test_read_subscription_takes_the_period_from_the_item_or_the_subscription() -> None:
    item_end, top_end = 1_900_000_000, 1_800_000_000
    current = {"id": "sub_1", "customer": {"id": "cus_1"}, "status": "past_due", "cancel_at": 1_900_000_000,
               "schedule": {"id": "sub_sched_1"}, "pending_update": {"expires_at": 1},
               "items": {"data": [{"id": "si_1", "current_period_end": item_end,
                                   "price": {"id": "p", "lookup_key": "carbot_professional_monthly"}}]}}  # fmt: skip
    view = read_subscription(current)
    assert (view.customer_id, view.plan_id, view.interval, view.item_id) == ("cus_1", "professional", "month", "si_1")
    assert view.current_period_end == dt.datetime.fromtimestamp(item_end, dt.UTC)
    assert view.status is SubscriptionStatus.PAST_DUE and view.live
    assert view.cancel_at_period_end and view.schedule_id == "sub_sched_1" and view.has_pending_update
    legacy = {"id": "sub_2", "customer": "cus_2", "status": "incomplete_expired", "current_period_end": top_end,
              "items": {"data": [{"id": "si_2", "plan": {"id": "carbot_starter_yearly"}}]}}  # fmt: skip
    old = read_subscription(legacy)
    assert old.current_period_end == dt.datetime.fromtimestamp(top_end, dt.UTC)
    assert (old.plan_id, old.status, old.live) == ("starter", None, False)
    assert read_subscription({"id": "sub_3", "status": "canceled"}).status is SubscriptionStatus.CANCELLED


def test_grace_counts_from_the_first_failure() -> None:
    first = NOW + dt.timedelta(days=7)
    past_due = SubscriptionStatus.PAST_DUE
    assert grace_end(past_due, stored_status="active", stored_grace_until=None, failed_at=NOW, grace_days=7) == first
    later = NOW + dt.timedelta(days=3)
    assert grace_end(past_due, stored_status="past_due", stored_grace_until=first, failed_at=later, grace_days=7) == (
        first
    )
    assert grace_end(SubscriptionStatus.ACTIVE, stored_status="past_due", stored_grace_until=first, failed_at=NOW,
                     grace_days=7) is None  # fmt: skip


def test_plan_order_for_upgrades_and_downgrades() -> None:
    ordered = [(p.id, interval) for p in plans.PLANS for interval in ("month", "year")]
    assert sorted(ordered, key=lambda pair: plan_rank(*pair)) == ordered


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), "2026-10-31T23:00:00+00:00", "2026-11-30T23:00:00+00:00"),
        # 23:30 UTC on 31 December is already January in Germany.
        (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), "2026-12-31T23:00:00+00:00", "2027-01-31T23:00:00+00:00"),
        # Summer time: the month starts at 22:00 UTC.
        (dt.datetime(2026, 7, 1, 0, 0, tzinfo=dt.UTC), "2026-06-30T22:00:00+00:00", "2026-07-31T22:00:00+00:00"),
    ],
)
def test_lead_month_is_the_german_calendar_month(now: dt.datetime, start: str, end: str) -> None:
    assert [moment.isoformat() for moment in month_bounds(now)] == [start, end]


def test_plan_state_read_only() -> None:
    def state(status: SubscriptionStatus, grace: dt.datetime | None = None, trial: dt.datetime | None = None):
        return PlanState("org", "professional", status, trial, None, grace, stored=True)

    assert not state(SubscriptionStatus.PAST_DUE, NOW + dt.timedelta(seconds=1)).read_only(NOW)
    assert state(SubscriptionStatus.PAST_DUE, NOW).read_only(NOW)
    assert state(SubscriptionStatus.CANCELLED).read_only(NOW)
    assert state(SubscriptionStatus.TRIALING, trial=NOW).read_only(NOW)  # an ended trial
    assert not state(SubscriptionStatus.ACTIVE).read_only(NOW)


def test_invoice_out_skips_malformed_objects() -> None:
    good = invoice_out({"id": "in_1", "created": 1_800_000_000, "total": 5, "currency": "eur", "number": "A-1"})
    assert good is not None and (good.total_cents, good.number, good.status) == (5, "A-1", None)
    assert invoice_out({"id": "in_2"}) is None and invoice_out({"created": 1}) is None
