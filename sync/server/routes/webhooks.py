"""POST/GET /v1/webhooks, DELETE /v1/webhooks/{endpoint_id}, GET /v1/webhooks/deliveries.

Owners register and remove endpoints (registering needs ``public_api``); owners and auditors read the
endpoint list and the delivery log. The signing secret is in the answer of the registration only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from app.plans import Feature
from sync.server import webhooks
from sync.server.auth.tokens import Principal
from sync.server.deps import ContextDep, CurrentUser, SessionDep
from sync.server.errors import ERROR_RESPONSES, Forbidden
from sync.server.models import Role
from sync.server.plans_gate import require_feature
from sync.server.routes.auth import no_store
from sync.server.webhooks_delivery import WebhookWorker

router = APIRouter(prefix="/v1/webhooks", tags=["Webhooks"], responses=ERROR_RESPONSES)
EndpointId = Annotated[str, Path(min_length=1, max_length=64)]


def get_worker(request: Request) -> WebhookWorker:
    """The app's webhook worker (its settings decide which target URLs are allowed)."""
    worker: WebhookWorker = request.app.state.webhooks
    return worker


WorkerDep = Annotated[WebhookWorker, Depends(get_worker)]
PublicApiCaller = Annotated[Principal, Depends(require_feature(Feature.PUBLIC_API))]


def _require(user: Principal, *roles: Role) -> None:
    if user.role not in roles:
        raise Forbidden("Webhooks verwaltet nur der Inhaber.")


@router.post("", response_model=webhooks.EndpointCreated, status_code=status.HTTP_201_CREATED)
def create_endpoint(
    body: webhooks.EndpointCreate, ctx: ContextDep, session: SessionDep, user: CurrentUser,
    _plan: PublicApiCaller, worker: WorkerDep, response: Response,
) -> webhooks.EndpointCreated:  # fmt: skip
    """Register an https endpoint for events (owner, Professional and up); the secret is shown once."""
    _require(user, Role.OWNER)
    no_store(response)
    return webhooks.create_endpoint(session, user.organization_id, body, now=ctx.clock(),
                                    allow_local=worker.settings.allow_local_http)  # fmt: skip


@router.get("", response_model=list[webhooks.EndpointPublic])
def list_endpoints(session: SessionDep, user: CurrentUser) -> list[webhooks.EndpointPublic]:
    """The organisation's endpoints without secrets (owner, auditor)."""
    _require(user, Role.OWNER, Role.AUDITOR)
    return webhooks.list_endpoints(session, user.organization_id)


@router.get("/deliveries", response_model=list[webhooks.DeliveryPublic])
def list_deliveries(
    session: SessionDep,
    user: CurrentUser,
    endpoint_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    delivery_status: Annotated[webhooks.DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[webhooks.DeliveryPublic]:
    """The delivery log, newest first: status, attempts, next try, last status code and error."""
    _require(user, Role.OWNER, Role.AUDITOR)
    return webhooks.list_deliveries(session, user.organization_id, endpoint_id=endpoint_id,
                                    status=delivery_status, limit=limit)  # fmt: skip


@router.delete("/{endpoint_id}", response_model=webhooks.EndpointPublic)
def delete_endpoint(
    endpoint_id: EndpointId, ctx: ContextDep, session: SessionDep, user: CurrentUser
) -> webhooks.EndpointPublic:
    """Remove an endpoint (owner): pending deliveries are cancelled, the log stays."""
    _require(user, Role.OWNER)
    return webhooks.delete_endpoint(session, user.organization_id, endpoint_id, now=ctx.clock())
