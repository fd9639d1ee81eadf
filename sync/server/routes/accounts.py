"""GET /v1/me, GET/POST /v1/locations, GET/POST /v1/users (tenant from the token only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from sync.server import accounts
from sync.server.deps import ContextDep, CurrentPrincipal, CurrentUser, SessionDep
from sync.server.errors import ERROR_RESPONSES
from sync.server.models import Role
from sync.server.plans_gate import check_location_limit
from sync.server.schemas import LocationCreate, LocationPublic, MePublic, UserCreate, UserPublic

router = APIRouter(prefix="/v1", tags=["Organisation"], responses=ERROR_RESPONSES)


@router.get("/me", response_model=MePublic)
def me(session: SessionDep, principal: CurrentPrincipal) -> MePublic:
    """Who am I (user or device), in which organisation and locations."""
    return accounts.me(session, principal)


@router.get("/locations", response_model=list[LocationPublic])
def list_locations(session: SessionDep, user: CurrentUser) -> list[LocationPublic]:
    """Locations the caller may see."""
    return accounts.list_locations(session, user)


@router.post("/locations", response_model=LocationPublic, status_code=status.HTTP_201_CREATED)
def create_location(body: LocationCreate, ctx: ContextDep, session: SessionDep, user: CurrentUser) -> LocationPublic:
    """Add a location (owner); at most as many as the plan allows (403 ``plan_limit``)."""
    accounts.require_user(user, Role.OWNER)
    check_location_limit(session, user.organization_id)
    return accounts.create_location(ctx, session, user, name=body.name)


@router.get("/locations/{location_id}", response_model=LocationPublic)
def get_location(location_id: str, session: SessionDep, user: CurrentUser) -> LocationPublic:
    """One location."""
    return accounts.get_location(session, user, location_id)


@router.get("/users", response_model=list[UserPublic])
def list_users(ctx: ContextDep, session: SessionDep, user: CurrentUser) -> list[UserPublic]:
    """The organisation's users (owner, auditor)."""
    return accounts.list_users(ctx, session, user)


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(
    body: Annotated[UserCreate, Body()], ctx: ContextDep, session: SessionDep, user: CurrentUser
) -> UserPublic:
    """Invite a staff member with a role (owner)."""
    return accounts.create_user(
        ctx,
        session,
        user,
        email=body.email,
        name=body.name,
        role=Role(body.role),
        password=body.password,
        location_ids=body.location_ids,
    )


@router.get("/users/{user_id}", response_model=UserPublic)
def get_user(user_id: str, ctx: ContextDep, session: SessionDep, user: CurrentUser) -> UserPublic:
    """One user of the organisation (owner, auditor)."""
    return accounts.get_user(ctx, session, user, user_id)
