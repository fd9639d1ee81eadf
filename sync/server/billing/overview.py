"""``GET /v1/billing/subscription``: plan, state, usage of the plan's limits, invoices and the plan list.

Every amount and limit comes from ``app.plans`` (``sync.protocol_billing.plan_catalogue``); the state
from ``plans_gate.plan_state``; the invoices from Stripe (a Stripe outage shows an empty list instead
of failing the page, and is logged).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.calendar_rules import WORKSHOP_TZ
from sync.protocol_billing import BillingOverview, InvoiceOut, UsageOut, plan_catalogue
from sync.server.billing.mapping import moment
from sync.server.billing.stripe_client import StripeGateway
from sync.server.errors import ApiError
from sync.server.models import Location
from sync.server.plans_gate import PlanState

log = logging.getLogger(__name__)

CountLeads = Callable[[Session, str, dt.datetime, dt.datetime], int]


def month_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (exclusive) in UTC of the calendar month of ``now`` in German time."""
    local = now.astimezone(WORKSHOP_TZ)
    next_year, next_month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    begin = dt.datetime(local.year, local.month, 1, tzinfo=WORKSHOP_TZ)
    end = dt.datetime(next_year, next_month, 1, tzinfo=WORKSHOP_TZ)
    return begin.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _lead_counter() -> CountLeads | None:
    # The chat helpers build lead counting in sync.server.chat.leads; until that module exists the
    # page shows 0 leads. TODO(issue 6 integration): drop this fallback once count_leads is shipped.
    try:
        module = importlib.import_module("sync.server.chat.leads")
    except ImportError:
        return None
    counter = getattr(module, "count_leads", None)
    return cast(CountLeads, counter) if callable(counter) else None


def usage(session: Session, state: PlanState, *, now: dt.datetime) -> UsageOut:
    """Leads this month and locations, next to the plan's limits."""
    locations = session.scalar(
        select(func.count()).select_from(Location).where(Location.organization_id == state.organization_id)
    )
    counter = _lead_counter()
    leads = 0
    if counter is not None:
        start, end = month_bounds(now)
        leads = int(counter(session, state.organization_id, start, end))
    return UsageOut(
        leads_this_month=leads,
        leads_limit=state.limit("leads_per_month"),
        locations=int(locations or 0),
        locations_limit=state.limit("locations"),
    )


def invoice_out(obj: Mapping[str, Any]) -> InvoiceOut | None:
    """One Stripe invoice as shown on the Abo page (None for malformed objects)."""
    created = moment(obj.get("created"))
    invoice_id = obj.get("id")
    if created is None or not isinstance(invoice_id, str):
        return None
    total = obj.get("total")

    def text(name: str) -> str | None:
        value = obj.get(name)
        return value if isinstance(value, str) and value else None

    return InvoiceOut(
        id=invoice_id,
        number=text("number"),
        created=created,
        total_cents=total if isinstance(total, int) and not isinstance(total, bool) else 0,
        currency=text("currency") or "eur",
        status=text("status"),
        hosted_invoice_url=text("hosted_invoice_url"),
        invoice_pdf=text("invoice_pdf"),
    )


def invoices(gateway: StripeGateway | None, customer_id: str | None) -> list[InvoiceOut]:
    """The customer's newest invoices; [] without Stripe, without a customer, or when Stripe fails."""
    if gateway is None or not customer_id:
        return []
    try:
        found = gateway.list_invoices(customer_id)
    except ApiError:
        log.warning("invoices not shown: Stripe failed")
        return []
    return [item for item in (invoice_out(obj) for obj in found) if item is not None]


def overview(
    session: Session, state: PlanState, *, now: dt.datetime, invoice_list: list[InvoiceOut]
) -> BillingOverview:
    """The Abo page's content for ``state`` at ``now``."""
    effective = state.effective_status(now)
    return BillingOverview(
        plan_id=cast(Any, state.plan_id),
        plan_name=state.plan_name,
        status=state.status.value,
        effective_status=effective.value,
        interval=cast(Any, state.interval),
        trial_ends_at=state.trial_ends_at,
        current_period_end=state.current_period_end,
        cancel_at_period_end=state.cancel_at_period_end,
        scheduled_plan_id=cast(Any, state.scheduled_plan_id),
        scheduled_interval=cast(Any, state.scheduled_interval),
        grace_until=state.grace_until,
        read_only=state.read_only(now),
        usage=usage(session, state, now=now),
        invoices=invoice_list,
        plans=plan_catalogue(),
    )
