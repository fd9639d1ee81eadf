"""``/v1/billing/*``: the organisation's subscription (owner), its read-only view, and Stripe's webhook.

Wire models: ``sync.protocol_billing`` (shared with the desktop's Abo page). Roles: the owner manages;
the auditor and the organisation's desktops may read ``GET /v1/billing/subscription`` (desktops without
invoices, for the banner); counter and mechanic staff get 403. The organisation always comes from the
token. Without ``CARBOT_STRIPE_SECRET_KEY`` every Stripe-backed route answers 503
``billing_not_configured``; authentication is checked first, so an anonymous caller still gets 401.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

import stripe
from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from sync.protocol_billing import BillingOverview, ChangeIn, CheckoutIn, UrlOut
from sync.server.auth.tokens import Principal
from sync.server.billing import checkout, overview, store
from sync.server.billing.stripe_client import PaymentsNotConfigured, StripeGateway
from sync.server.billing.webhooks import handle_event
from sync.server.context import ServerContext
from sync.server.deps import ContextDep, CurrentPrincipal, SessionDep
from sync.server.errors import ERROR_RESPONSES, BadRequest, ErrorBody, Forbidden
from sync.server.models import Role
from sync.server.plans_gate import PlanState, plan_state
from sync.server.store import StoreUnavailable

log = logging.getLogger(__name__)

OWNER_ONLY = "Nur die Inhaberin oder der Inhaber kann das Abo verwalten."
INVALID_SIGNATURE = "Die Stripe-Signatur ist ungültig."
MAX_WEBHOOK_BYTES = 512 * 1024

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    502: {"model": ErrorBody, "description": "Die Zahlungsabwicklung (Stripe) hat die Anfrage abgelehnt"},
}
router = APIRouter(prefix="/v1/billing", tags=["Abo"], responses=_RESPONSES)


def gateway_for(ctx: ServerContext, request: Request) -> StripeGateway:
    """The app's Stripe gateway (built once from the settings); 503 without a Stripe secret."""
    gateway: StripeGateway | None = getattr(request.app.state, "billing_gateway", None)
    if gateway is None:
        gateway = StripeGateway.from_settings(ctx.settings)
        request.app.state.billing_gateway = gateway
    return gateway


def require_owner(principal: CurrentPrincipal) -> Principal:
    """The caller if it is the organisation's owner; 403 (German) otherwise."""
    if not principal.is_user or principal.role != Role.OWNER.value:
        raise Forbidden(OWNER_ONLY)
    return principal


def require_reader(principal: CurrentPrincipal) -> Principal:
    """Owner, auditor or one of the organisation's desktops."""
    if principal.is_user and principal.role not in (Role.OWNER.value, Role.AUDITOR.value):
        raise Forbidden()
    return principal


Owner = Annotated[Principal, Depends(require_owner)]
Reader = Annotated[Principal, Depends(require_reader)]
OperationId = Annotated[
    uuid.UUID | None,
    Header(alias="Idempotency-Key", description="UUID des Vorgangs; eine Wiederholung erzeugt nichts doppelt"),
]


def _poke(ctx: ServerContext, organization_id: str, seq: int) -> None:
    """Wake the organisation's desktops after the commit (best effort: they also poll)."""
    try:
        ctx.store.notify(organization_id, seq)
    except StoreUnavailable:
        log.warning("entitlement poke not delivered (store unavailable)")


def _billing(
    ctx: ServerContext, request: Request, session: Session, owner: Principal, op: uuid.UUID | None
) -> checkout.Billing:
    return checkout.Billing(
        session=session,
        gateway=gateway_for(ctx, request),
        settings=ctx.settings,
        caller=owner,
        now=ctx.clock(),
        op_id=str(op or uuid.uuid4()),
    )


def _overview(
    ctx: ServerContext, request: Request, session: Session, state: PlanState, *, invoices: bool
) -> BillingOverview:
    gateway = None
    key = ctx.settings.stripe_secret_key
    if invoices and key is not None and key.get_secret_value():
        gateway = gateway_for(ctx, request)
    row = store.subscription_row(session, state.organization_id)
    listed = overview.invoices(gateway, row.stripe_customer_id if row is not None else None)
    return overview.overview(session, state, now=ctx.clock(), invoice_list=listed)


def _changed(
    ctx: ServerContext, request: Request, session: Session, state: PlanState, background: BackgroundTasks
) -> BillingOverview:
    seq = store.announce_entitlement(session, state, now=ctx.clock())
    background.add_task(_poke, ctx, state.organization_id, seq)  # runs after the commit and the answer
    return _overview(ctx, request, session, state, invoices=True)


@router.get("/subscription", response_model=BillingOverview)
def get_subscription(request: Request, ctx: ContextDep, session: SessionDep, caller: Reader) -> BillingOverview:
    """Plan, state, usage, invoices and the plan list (owner, auditor; desktops without invoices)."""
    state = plan_state(session, caller.organization_id)
    return _overview(ctx, request, session, state, invoices=caller.is_user)


@router.post("/checkout", response_model=UrlOut)
def start_checkout(
    body: CheckoutIn, request: Request, ctx: ContextDep, session: SessionDep, owner: Owner, op: OperationId = None
) -> UrlOut:
    """A Stripe Checkout page for the plan (open it in the browser); 409 while a subscription runs."""
    return checkout.start_checkout(_billing(ctx, request, session, owner, op), body)


@router.post("/change", response_model=BillingOverview)
def change_plan(
    body: ChangeIn, request: Request, ctx: ContextDep, session: SessionDep, owner: Owner,
    background: BackgroundTasks, op: OperationId = None,
) -> BillingOverview:  # fmt: skip
    """Upgrade at once (prorated) or downgrade at the end of the period; 409 when locations exceed the plan."""
    state = checkout.change_plan(_billing(ctx, request, session, owner, op), body)
    return _changed(ctx, request, session, state, background)


@router.post("/cancel", response_model=BillingOverview)
def cancel(
    request: Request, ctx: ContextDep, session: SessionDep, owner: Owner, background: BackgroundTasks,
    op: OperationId = None,
) -> BillingOverview:  # fmt: skip
    """Cancel at the end of the paid period (nothing is deleted; afterwards read-only mode)."""
    state = checkout.set_cancel_at_period_end(_billing(ctx, request, session, owner, op), cancel=True)
    return _changed(ctx, request, session, state, background)


@router.post("/resume", response_model=BillingOverview)
def resume(
    request: Request, ctx: ContextDep, session: SessionDep, owner: Owner, background: BackgroundTasks,
    op: OperationId = None,
) -> BillingOverview:  # fmt: skip
    """Take back a cancellation at the end of the period."""
    state = checkout.set_cancel_at_period_end(_billing(ctx, request, session, owner, op), cancel=False)
    return _changed(ctx, request, session, state, background)


@router.post("/portal", response_model=UrlOut)
def portal(request: Request, ctx: ContextDep, session: SessionDep, owner: Owner, op: OperationId = None) -> UrlOut:
    """A Stripe customer-portal page (payment method, invoices, VAT id)."""
    return checkout.portal(_billing(ctx, request, session, owner, op))


class WebhookAck(BaseModel):
    """Our answer to Stripe: ``applied``, ``ignored`` or ``duplicate`` (all 200, so Stripe stops retrying)."""

    received: bool = True
    outcome: str


@router.post(
    "/stripe-webhook",
    response_model=WebhookAck,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "security": [],
    },
)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature", max_length=4000)] = None,
) -> WebhookAck:
    """Stripe's signed events (no access token: the signature on the raw body is the credential)."""
    ctx: ServerContext = request.app.state.ctx
    secret = ctx.settings.stripe_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise PaymentsNotConfigured()
    payload = await request.body()  # the RAW bytes: the signature covers them exactly
    if len(payload) > MAX_WEBHOOK_BYTES:
        raise BadRequest(INVALID_SIGNATURE, code="invalid_signature")
    try:
        event = stripe.Webhook.construct_event(payload, stripe_signature, secret.get_secret_value()).to_dict()
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        log.info("stripe webhook refused: %s", type(exc).__name__)
        raise BadRequest(INVALID_SIGNATURE, code="invalid_signature") from exc
    gateway = gateway_for(ctx, request)
    outcome = await run_in_threadpool(
        handle_event, ctx.db, gateway, event, now=ctx.clock(), grace_days=ctx.settings.billing_grace_days
    )
    if outcome.seq is not None and outcome.organization_id is not None:
        _poke(ctx, outcome.organization_id, outcome.seq)
    return WebhookAck(outcome=outcome.kind)
