"""The public API for integrators under /v1/public/*, authenticated with API keys (``Bearer ck_live_…``).

- ``GET /v1/public/appointments`` (scope ``appointments:read``) and ``GET /v1/public/invoices``
  (``invoices:read``): the organisation's synced records (as the desktops pushed them), paged by
  ``after``/``next_after``; ``updated_since`` returns only records changed since then.
- ``GET/POST /v1/public/webhooks``, ``DELETE /v1/public/webhooks/{endpoint_id}`` (``webhooks:manage``).

The organisation always comes from the key. Access tokens are refused here, API keys everywhere else.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select

from sync.protocol import Entity
from sync.server import api_keys, webhooks
from sync.server.api_keys import KeyCaller, Scope
from sync.server.deps import ContextDep, SessionDep
from sync.server.errors import ERROR_RESPONSES, Unauthorized
from sync.server.routes.auth import no_store
from sync.server.routes.webhooks import WorkerDep
from sync.server.sync_models import SyncRecord

router = APIRouter(prefix="/v1/public", tags=["Öffentliche API"], responses=ERROR_RESPONSES)
_key_bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="API-Schlüssel: Bearer ck_live_…")
MAX_PAGE = 200


def get_key_caller(
    ctx: ContextDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_key_bearer)],
) -> KeyCaller:
    """The API key of the request (401 without, see ``api_keys.authenticate`` for the rest)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    return api_keys.authenticate(ctx, session, credentials.credentials)


KeyDep = Annotated[KeyCaller, Depends(get_key_caller)]


class PublicRecord(BaseModel):
    """One synced record: its id at the location, the server version and the desktop's fields."""

    id: str
    location_id: str
    version: int
    updated_at: dt.datetime
    data: dict[str, Any]


class RecordPage(BaseModel):
    """A page of records; pass ``next_after`` as ``after`` for the next page (None: last page)."""

    items: list[PublicRecord]
    next_after: int | None


def _records(
    session: SessionDep, caller: KeyCaller, entity: Entity, *, after: int, limit: int,
    updated_since: dt.datetime | None, location_id: str | None,
) -> RecordPage:  # fmt: skip
    query = select(SyncRecord).where(
        SyncRecord.organization_id == caller.organization_id,
        SyncRecord.entity == entity.value,
        SyncRecord.deleted_at.is_(None),
        SyncRecord.id > after,
    )
    if updated_since is not None:
        since = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=dt.UTC)
        query = query.where(SyncRecord.updated_at >= since)
    if location_id is not None:
        query = query.where(SyncRecord.location_id == location_id)
    rows = session.scalars(query.order_by(SyncRecord.id).limit(limit + 1)).all()
    page = rows[:limit]
    items = [
        PublicRecord(id=r.entity_id, location_id=r.location_id, version=r.version, updated_at=r.updated_at,
                     data=r.data or {})
        for r in page
    ]  # fmt: skip
    return RecordPage(items=items, next_after=page[-1].id if len(rows) > limit else None)


After = Annotated[int, Query(ge=0, le=2**62, description="Cursor: next_after der vorigen Seite")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Since = Annotated[dt.datetime | None, Query(description="Nur seit diesem Zeitpunkt geänderte Datensätze")]
LocationFilter = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/appointments", response_model=RecordPage)
def appointments(
    session: SessionDep, caller: KeyDep, after: After = 0, limit: Limit = 100,
    updated_since: Since = None, location_id: LocationFilter = None,
) -> RecordPage:  # fmt: skip
    """Appointments of the organisation (scope ``appointments:read``)."""
    caller.require(Scope.APPOINTMENTS_READ)
    return _records(session, caller, Entity.APPOINTMENT, after=after, limit=limit, updated_since=updated_since,
                    location_id=location_id)  # fmt: skip


@router.get("/invoices", response_model=RecordPage)
def invoices(
    session: SessionDep, caller: KeyDep, after: After = 0, limit: Limit = 100,
    updated_since: Since = None, location_id: LocationFilter = None,
) -> RecordPage:  # fmt: skip
    """Final invoices and Stornorechnungen of the organisation (scope ``invoices:read``)."""
    caller.require(Scope.INVOICES_READ)
    return _records(session, caller, Entity.INVOICE, after=after, limit=limit, updated_since=updated_since,
                    location_id=location_id)  # fmt: skip


@router.get("/webhooks", response_model=list[webhooks.EndpointPublic])
def list_endpoints(session: SessionDep, caller: KeyDep) -> list[webhooks.EndpointPublic]:
    """The organisation's webhook endpoints (scope ``webhooks:manage``)."""
    caller.require(Scope.WEBHOOKS_MANAGE)
    return webhooks.list_endpoints(session, caller.organization_id)


@router.post("/webhooks", response_model=webhooks.EndpointCreated, status_code=status.HTTP_201_CREATED)
def create_endpoint(
    body: webhooks.EndpointCreate, ctx: ContextDep, session: SessionDep, caller: KeyDep, worker: WorkerDep,
    response: Response,
) -> webhooks.EndpointCreated:  # fmt: skip
    """Register an endpoint (scope ``webhooks:manage``); the signing secret is shown once."""
    caller.require(Scope.WEBHOOKS_MANAGE)
    no_store(response)
    return webhooks.create_endpoint(session, caller.organization_id, body, now=ctx.clock(),
                                    allow_local=worker.settings.allow_local_http)  # fmt: skip


@router.delete("/webhooks/{endpoint_id}", response_model=webhooks.EndpointPublic)
def delete_endpoint(
    endpoint_id: Annotated[str, Path(min_length=1, max_length=64)], ctx: ContextDep, session: SessionDep,
    caller: KeyDep,
) -> webhooks.EndpointPublic:  # fmt: skip
    """Remove an endpoint (scope ``webhooks:manage``)."""
    caller.require(Scope.WEBHOOKS_MANAGE)
    return webhooks.delete_endpoint(session, caller.organization_id, endpoint_id, now=ctx.clock())
