"""Organisation data behind /v1/me, /v1/locations, /v1/users and /v1/devices (tenant from the token).

Every query filters by the caller's organisation; an id of another organisation is answered like an
unknown id (404), never with its data. Role rules: owners manage; auditors read everything,
write nothing; counter and mechanic staff see their own locations only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.server import audit
from sync.server.auth.passwords import check_password_policy
from sync.server.auth.service import location_in_scope, user_location_ids
from sync.server.auth.tokens import Principal
from sync.server.context import ServerContext
from sync.server.errors import Conflict, Forbidden, NotFound, Unprocessable
from sync.server.models import AuditKind, Device, Location, Organization, Role, User, UserLocation
from sync.server.schemas import DevicePublic, LocationPublic, MePublic, UserPublic

READERS = (Role.OWNER, Role.AUDITOR)


def require_user(principal: Principal, *roles: Role) -> None:
    """403 unless the caller is a user with one of ``roles`` (any role when none are given)."""
    if not principal.is_user or (roles and principal.role not in roles):
        raise Forbidden()


def me(session: Session, principal: Principal) -> MePublic:
    """The caller's identity, organisation and locations."""
    org = session.get(Organization, principal.organization_id)
    if org is None:
        raise NotFound()
    if principal.is_user:
        user = session.get(User, principal.id)
        if user is None or user.organization_id != org.id:
            raise NotFound()
        email: str | None = user.email
        name = user.name
        locations = user_location_ids(session, user)
    else:
        device = session.get(Device, principal.id)
        if device is None or device.organization_id != org.id:
            raise NotFound()
        email, name, locations = None, device.name, [device.location_id]
    return MePublic(
        kind=principal.kind,
        id=principal.id,
        organization_id=org.id,
        organization_name=org.name,
        role=principal.role,
        location_ids=locations,
        email=email,
        name=name,
    )


def _location_public(location: Location) -> LocationPublic:
    return LocationPublic(id=location.id, name=location.name, created_at=location.created_at)


def list_locations(session: Session, principal: Principal) -> list[LocationPublic]:
    """Locations the caller may see (owners and auditors: all of the organisation)."""
    require_user(principal)
    query = select(Location).where(Location.organization_id == principal.organization_id)
    if principal.role not in READERS:
        query = query.where(Location.id.in_(principal.location_ids))
    return [_location_public(row) for row in session.scalars(query.order_by(Location.created_at, Location.id))]


def get_location(session: Session, principal: Principal, location_id: str) -> LocationPublic:
    """One location of the caller's organisation."""
    require_user(principal)
    return _location_public(location_in_scope(session, principal, location_id))


def create_location(ctx: ServerContext, session: Session, principal: Principal, *, name: str) -> LocationPublic:
    """Add a location (owner only)."""
    require_user(principal, Role.OWNER)
    taken = select(Location.id).where(Location.organization_id == principal.organization_id, Location.name == name)
    if session.scalars(taken).first() is not None:
        raise Conflict("Einen Standort mit diesem Namen gibt es schon.", field="name")
    location = Location(organization_id=principal.organization_id, name=name, created_at=ctx.clock())
    session.add(location)
    session.flush()
    return _location_public(location)


def _user_public(session: Session, user: User, now_locked: bool) -> UserPublic:
    return UserPublic(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        location_ids=user_location_ids(session, user),
        created_at=user.created_at,
        locked=now_locked,
    )


def _is_locked(ctx: ServerContext, user: User) -> bool:
    return user.locked_until is not None and user.locked_until > ctx.clock()


def list_users(ctx: ServerContext, session: Session, principal: Principal) -> list[UserPublic]:
    """Users of the organisation (owner and auditor)."""
    require_user(principal, *READERS)
    rows = session.scalars(
        select(User).where(User.organization_id == principal.organization_id).order_by(User.created_at, User.id)
    )
    return [_user_public(session, user, _is_locked(ctx, user)) for user in rows]


def get_user(ctx: ServerContext, session: Session, principal: Principal, user_id: str) -> UserPublic:
    """One user of the organisation (owner and auditor)."""
    require_user(principal, *READERS)
    user = session.get(User, user_id)
    if user is None or user.organization_id != principal.organization_id:
        raise NotFound("Benutzer nicht gefunden.")
    return _user_public(session, user, _is_locked(ctx, user))


def create_user(
    ctx: ServerContext,
    session: Session,
    principal: Principal,
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    location_ids: list[str],
) -> UserPublic:
    """Invite a staff member with a role and an initial password (owner only)."""
    require_user(principal, Role.OWNER)
    check_password_policy(password, email=email, min_length=ctx.settings.password_min_length)
    wanted = set(location_ids)
    owned = set(
        session.scalars(
            select(Location.id).where(Location.organization_id == principal.organization_id, Location.id.in_(wanted))
        )
    )
    if wanted - owned:  # another organisation's location is as unknown as a made-up id
        raise NotFound("Standort nicht gefunden.")
    if role in (Role.COUNTER, Role.MECHANIC) and not wanted:
        raise Unprocessable("Bitte mindestens einen Standort zuweisen.", field="location_ids")
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("Diese E-Mail-Adresse ist bereits registriert.", field="email", code="email_taken")
    now = ctx.clock()
    user = User(
        organization_id=principal.organization_id,
        email=email,
        name=name.strip(),
        password_hash=ctx.passwords.hash(password),
        role=role.value,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    session.flush()
    if role in (Role.COUNTER, Role.MECHANIC):
        session.add_all(UserLocation(user_id=user.id, location_id=loc) for loc in sorted(wanted))
        session.flush()
    audit.record(
        session, AuditKind.USER_CREATED, at=now, organization_id=user.organization_id, user_id=user.id, detail=role
    )
    return _user_public(session, user, False)


def device_public(device: Device) -> DevicePublic:
    """The wire form of a device."""
    return DevicePublic(
        id=device.id,
        location_id=device.location_id,
        name=device.name,
        created_at=device.created_at,
        revoked_at=device.revoked_at,
    )


def list_devices(session: Session, principal: Principal) -> list[DevicePublic]:
    """Registered desktops of the organisation (owner and auditor)."""
    require_user(principal, *READERS)
    rows = session.scalars(
        select(Device).where(Device.organization_id == principal.organization_id).order_by(Device.created_at, Device.id)
    )
    return [device_public(row) for row in rows]
