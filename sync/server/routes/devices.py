"""POST/GET /v1/devices, DELETE /v1/devices/{device_id}: desktops registered for a location."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from sync.server import accounts
from sync.server.auth import service
from sync.server.deps import ContextDep, CurrentUser, SessionDep
from sync.server.errors import ERROR_RESPONSES
from sync.server.models import Role
from sync.server.routes.auth import no_store, token_response
from sync.server.schemas import DeviceCreate, DeviceCreated, DevicePublic

router = APIRouter(prefix="/v1/devices", tags=["Arbeitsplätze"], responses=ERROR_RESPONSES)


@router.post("", response_model=DeviceCreated, status_code=status.HTTP_201_CREATED)
def create_device(
    body: DeviceCreate, ctx: ContextDep, session: SessionDep, user: CurrentUser, response: Response
) -> DeviceCreated:
    """Register this desktop for a location (owner or counter); returns its id and first tokens."""
    device, pair = service.register_device(ctx, session, user, location_id=body.location_id, name=body.name)
    no_store(response)
    return DeviceCreated(
        **token_response(pair).model_dump(), device_id=device.id, location_id=device.location_id, name=device.name
    )


@router.get("", response_model=list[DevicePublic])
def list_devices(session: SessionDep, user: CurrentUser) -> list[DevicePublic]:
    """The organisation's desktops (owner, auditor)."""
    return accounts.list_devices(session, user)


@router.delete("/{device_id}", response_model=DevicePublic)
def revoke_device(device_id: str, ctx: ContextDep, session: SessionDep, user: CurrentUser) -> DevicePublic:
    """Remove a desktop (owner): its sessions end at once."""
    accounts.require_user(user, Role.OWNER)
    return accounts.device_public(service.revoke_device(ctx, session, user, device_id))
