"""Server-side plan gating: the organisation's plan state, feature checks and plan limits.

Every decision goes through ``app.plans`` (THE plan table): ``effective_features`` turns plan and
subscription status into features, ``limit`` gives the limits. This module only reads the
organisation's stored state (``billing_models.Subscription``, or the default Starter trial described
there) and refuses with ``403`` and a stable ``code``:

- ``plan_required``: the current plan (or read-only mode) does not include the feature;
- ``plan_limit``: a plan limit (e.g. ``locations``) is reached.

``require_feature(Feature.X)`` is a FastAPI dependency for routes called with an access token;
``ensure_feature`` is the same check for other callers (API keys, the webhook worker).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app import plans
from app.plans import Feature, SubscriptionStatus
from sync.server.auth.tokens import Principal
from sync.server.billing_models import Subscription
from sync.server.deps import ContextDep, CurrentPrincipal, SessionDep
from sync.server.errors import Forbidden, NotFound
from sync.server.models import Location, Organization

DEFAULT_PLAN: plans.PlanId = "starter"
"""Plan of an organisation without a stored subscription: a Starter trial (see ``billing_models``)."""

PLAN_REQUIRED = "Diese Funktion ist in Ihrem Tarif „{plan}“ nicht enthalten ({feature})."
LOCATION_LIMIT = (
    "Ihr Tarif „{plan}“ umfasst höchstens {limit} Standort(e). Für weitere Standorte bitte den Tarif wechseln."
)


@dataclass(frozen=True)
class PlanState:
    """What the server knows about an organisation's subscription (``stored`` False = the default trial)."""

    organization_id: str
    plan_id: str
    status: SubscriptionStatus
    trial_ends_at: dt.datetime | None
    current_period_end: dt.datetime | None
    grace_until: dt.datetime | None
    stored: bool
    interval: str | None = None
    cancel_at_period_end: bool = False
    scheduled_plan_id: str | None = None
    scheduled_interval: str | None = None
    had_trial: bool = False

    def effective_status(self, now: dt.datetime) -> SubscriptionStatus:
        """The status with an ended trial counted as ``cancelled`` (read-only mode, nothing deleted)."""
        if self.status is SubscriptionStatus.TRIALING and self.trial_ends_at is not None and now >= self.trial_ends_at:
            return SubscriptionStatus.CANCELLED
        return self.status

    def read_only(self, now: dt.datetime) -> bool:
        """Whether the organisation is in read-only mode at ``now`` (``app.plans.is_read_only``).

        ``past_due`` keeps the plan until ``grace_until``; after it, and when cancelled or the trial
        has ended, read-only: nothing is deleted and invoices stay printable.
        """
        return plans.is_read_only(self.effective_status(now), now=now, grace_until=self.grace_until)

    def features(self, now: dt.datetime) -> frozenset[Feature]:
        """The features the organisation has at ``now`` (``app.plans.effective_features``)."""
        return plans.effective_features(self.plan_id, self.effective_status(now), now=now, grace_until=self.grace_until)

    def limit(self, name: plans.LimitName) -> int | None:
        """The plan's limit ``name`` (``None`` = unlimited)."""
        return plans.limit(self.plan_id, name)

    @property
    def plan_name(self) -> str:
        """The plan's display name ("Starter", ...)."""
        return plans.plan(self.plan_id).name


def plan_state(db: Session | Connection, organization_id: str) -> PlanState:
    """The organisation's plan state: the stored subscription or the default Starter trial.

    Takes a session or a bare connection (the webhook hook of the sync push runs on the connection).
    """
    sub = Subscription.__table__.c
    row = db.execute(
        select(
            sub.plan_id,
            sub.status,
            sub.trial_ends_at,
            sub.current_period_end,
            sub.grace_until,
            sub.billing_interval,
            sub.cancel_at_period_end,
            sub.scheduled_plan_id,
            sub.scheduled_interval,
            sub.had_trial,
        ).where(sub.organization_id == organization_id)
    ).first()
    if row is not None:
        return PlanState(
            organization_id=organization_id,
            plan_id=row.plan_id,
            status=SubscriptionStatus(row.status),
            trial_ends_at=row.trial_ends_at,
            current_period_end=row.current_period_end,
            grace_until=row.grace_until,
            stored=True,
            interval=row.billing_interval,
            cancel_at_period_end=bool(row.cancel_at_period_end),
            scheduled_plan_id=row.scheduled_plan_id,
            scheduled_interval=row.scheduled_interval,
            had_trial=bool(row.had_trial),
        )
    org = Organization.__table__.c
    created_at = db.execute(select(org.created_at).where(org.id == organization_id)).scalar()
    if created_at is None:
        raise NotFound()
    return PlanState(
        organization_id=organization_id,
        plan_id=DEFAULT_PLAN,
        status=SubscriptionStatus.TRIALING,
        trial_ends_at=created_at + dt.timedelta(days=plans.TRIAL_DAYS),
        current_period_end=None,
        grace_until=None,
        stored=False,
    )


def set_subscription(
    session: Session,
    organization_id: str,
    *,
    plan_id: str,
    status: SubscriptionStatus,
    now: dt.datetime,
    trial_ends_at: dt.datetime | None = None,
    current_period_end: dt.datetime | None = None,
    grace_until: dt.datetime | None = None,
    interval: str | None = None,
    cancel_at_period_end: bool = False,
    scheduled_plan_id: str | None = None,
    scheduled_interval: str | None = None,
    had_trial: bool = False,
) -> PlanState:
    """Store the organisation's subscription (the Stripe webhooks, the operator command and tests).

    ``past_due`` without ``grace_until`` gets the default grace (``app.plans.PAST_DUE_GRACE_DAYS``),
    because ``app.plans`` treats a missing grace as none at all. The billing details (``interval`` …
    ``scheduled_interval``) are replaced like the dates; ``had_trial`` only ever turns on (a Stripe
    trial is granted once). The Stripe ids are no state and are left alone (``sync.server.billing``).
    """
    plans.plan(plan_id)  # NotFound for an unknown plan: never store one the plan table does not know
    if scheduled_plan_id is not None:
        plans.plan(scheduled_plan_id)
    status = SubscriptionStatus(status)
    if status is SubscriptionStatus.PAST_DUE and grace_until is None:
        grace_until = now + dt.timedelta(days=plans.PAST_DUE_GRACE_DAYS)
    row = session.get(Subscription, organization_id)
    if row is None:
        row = Subscription(organization_id=organization_id, created_at=now, had_trial=False)
        session.add(row)
    row.plan_id, row.status, row.updated_at = plan_id, status.value, now
    row.trial_ends_at, row.current_period_end, row.grace_until = trial_ends_at, current_period_end, grace_until
    row.billing_interval, row.cancel_at_period_end = interval, cancel_at_period_end
    row.scheduled_plan_id, row.scheduled_interval = scheduled_plan_id, scheduled_interval
    row.had_trial = bool(row.had_trial) or had_trial
    session.flush()
    return plan_state(session, organization_id)


def ensure_feature(session: Session, organization_id: str, feature: Feature, *, now: dt.datetime) -> PlanState:
    """403 ``plan_required`` unless the organisation has ``feature`` at ``now``."""
    state = plan_state(session, organization_id)
    if feature not in state.features(now):
        raise Forbidden(
            PLAN_REQUIRED, code="plan_required", plan=state.plan_name, feature=plans.FEATURE_LABELS[feature]
        )
    return state


def require_feature(feature: Feature) -> Callable[..., Principal]:
    """A dependency: the caller (any valid access token) whose organisation has ``feature``, else 403."""

    def dependency(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal) -> Principal:
        ensure_feature(session, principal.organization_id, feature, now=ctx.clock())
        return principal

    dependency.__name__ = f"require_{feature.value}"
    return dependency


def check_location_limit(session: Session, organization_id: str) -> None:
    """403 ``plan_limit`` when the organisation already has as many locations as its plan allows."""
    state = plan_state(session, organization_id)
    allowed = state.limit("locations")
    if allowed is None:
        return
    # Lock the organisation row (PostgreSQL) so two concurrent requests cannot both pass the count.
    session.execute(select(Organization.id).where(Organization.id == organization_id).with_for_update())
    count = session.scalar(
        select(func.count()).select_from(Location).where(Location.organization_id == organization_id)
    )
    if int(count or 0) >= allowed:
        raise Forbidden(LOCATION_LIMIT, code="plan_limit", plan=state.plan_name, limit=allowed)
