"""Authentication flows: register, login, refresh, logout, device registration and removal.

Each function works inside the caller's session (one request = one unit of work). Where a failure
must still be recorded (a wrong password, a reused refresh token) the function commits before it
raises, so the error response does not roll the counter or the revocation back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.server import audit
from sync.server.auth.passwords import check_password_policy
from sync.server.auth.refresh import IssuedRefreshToken
from sync.server.auth.tokens import DEVICE_ROLE, IssuedAccessToken, Principal
from sync.server.context import ServerContext
from sync.server.errors import Conflict, Forbidden, NotFound, Unauthorized
from sync.server.models import AuditKind, Device, Location, Organization, RefreshToken, Role, User, UserLocation

WRONG_CREDENTIALS = "E-Mail-Adresse oder Passwort ist falsch."
EMAIL_TAKEN = "Diese E-Mail-Adresse ist bereits registriert."
DEVICE_ROLES = (Role.OWNER, Role.COUNTER)  # who may register a desktop


@dataclass(frozen=True)
class TokenPair:
    """Access and refresh token issued together."""

    access: IssuedAccessToken
    refresh: IssuedRefreshToken


@dataclass(frozen=True)
class Registration:
    """What ``register`` created."""

    tokens: TokenPair
    organization_id: str
    location_id: str
    user_id: str


def user_location_ids(session: Session, user: User) -> list[str]:
    """Owners and auditors see every location of their organisation; staff their assigned ones."""
    if user.role in (Role.OWNER, Role.AUDITOR):
        query = select(Location.id).where(Location.organization_id == user.organization_id)
    else:
        query = (
            select(Location.id)
            .join(UserLocation, UserLocation.location_id == Location.id)
            .where(UserLocation.user_id == user.id, Location.organization_id == user.organization_id)
        )
    return list(session.scalars(query.order_by(Location.id)))


def issue_for_user(
    ctx: ServerContext, session: Session, user: User, *, parent: RefreshToken | None = None
) -> TokenPair:
    """Access + refresh token for ``user`` (claims read fresh from the database)."""
    access = ctx.tokens.issue_access(
        kind="user",
        subject=user.id,
        organization_id=user.organization_id,
        role=user.role,
        location_ids=user_location_ids(session, user),
    )
    return TokenPair(access, ctx.refresh.issue(session, user_id=user.id, parent=parent, access=access))


def issue_for_device(
    ctx: ServerContext, session: Session, device: Device, *, parent: RefreshToken | None = None
) -> TokenPair:
    """Access + refresh token for ``device``; its access token carries exactly its location."""
    access = ctx.tokens.issue_access(
        kind="device",
        subject=device.id,
        organization_id=device.organization_id,
        role=DEVICE_ROLE,
        location_ids=[device.location_id],
    )
    return TokenPair(access, ctx.refresh.issue(session, device_id=device.id, parent=parent, access=access))


def register(
    ctx: ServerContext,
    session: Session,
    *,
    ip: str,
    organization_name: str,
    location_name: str,
    email: str,
    password: str,
    name: str,
) -> Registration:
    """Create an organisation, its first location and its owner; log the owner in."""
    ctx.guard.check_register_rate(ip=ip)
    check_password_policy(password, email=email, min_length=ctx.settings.password_min_length)
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(EMAIL_TAKEN, field="email", code="email_taken")
    now = ctx.clock()
    org = Organization(name=organization_name, created_at=now)
    session.add(org)
    session.flush()
    location = Location(organization_id=org.id, name=location_name, created_at=now)
    user = User(
        organization_id=org.id,
        email=email,
        name=name.strip(),
        password_hash=ctx.passwords.hash(password),
        role=Role.OWNER.value,
        failed_logins=0,
        created_at=now,
    )
    session.add_all([location, user])
    try:
        session.flush()
    except IntegrityError as exc:  # the same address registered a moment ago by a parallel request
        raise Conflict(EMAIL_TAKEN, field="email", code="email_taken") from exc
    audit.record(session, AuditKind.REGISTERED, at=now, organization_id=org.id, user_id=user.id)
    return Registration(issue_for_user(ctx, session, user), org.id, location.id, user.id)


def login(ctx: ServerContext, session: Session, *, ip: str, email: str, password: str) -> TokenPair:
    """Check the password (rate limit, lockout, rehash) and start a new refresh family."""
    email = email.strip().lower()
    ctx.guard.check_login_rate(ip=ip, email=email)
    user = session.scalars(select(User).where(User.email == email)).first()
    if user is None:
        ctx.passwords.verify_decoy(password)
        ctx.guard.unknown_account_failure(email)
        raise Unauthorized(WRONG_CREDENTIALS, code="wrong_credentials")
    ctx.guard.check_locked(user)
    if not ctx.passwords.verify(user.password_hash, password):
        ctx.guard.record_failure(session, user)
        session.commit()  # the failure counts even though the request fails
        raise Unauthorized(WRONG_CREDENTIALS, code="wrong_credentials")
    ctx.guard.record_success(user)
    if ctx.passwords.needs_rehash(user.password_hash):
        user.password_hash = ctx.passwords.hash(password)
    now = ctx.clock()
    user.last_login_at = now
    audit.record(session, AuditKind.LOGIN_OK, at=now, organization_id=user.organization_id, user_id=user.id)
    return issue_for_user(ctx, session, user)


def refresh(ctx: ServerContext, session: Session, *, token: str) -> TokenPair:
    """Rotate a refresh token: the presented one is used up, a child comes back."""
    row = ctx.refresh.use(session, token)
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        if user is not None:
            return issue_for_user(ctx, session, user, parent=row)
    elif row.device_id is not None:
        device = session.get(Device, row.device_id)
        if device is not None and device.revoked_at is None:
            return issue_for_device(ctx, session, device, parent=row)
    raise Unauthorized("Die Sitzung ist abgelaufen oder ungültig. Bitte erneut anmelden.", code="invalid_refresh_token")


def logout(ctx: ServerContext, session: Session, *, refresh_token: str, principal: Principal | None) -> None:
    """Revoke the refresh token's family and the presented access token (idempotent)."""
    row = ctx.refresh.find(session, refresh_token)
    now = ctx.clock()
    if row is not None:
        ctx.refresh.revoke_family(session, row.family_id)
        audit.record(session, AuditKind.LOGOUT, at=now, user_id=row.user_id, device_id=row.device_id)
    if principal is not None:
        ctx.revocations.revoke(session, principal.jti, principal.expires_at)


def location_in_scope(session: Session, principal: Principal, location_id: str) -> Location:
    """The location if it belongs to the caller's organisation and token scope, else 404."""
    location = session.get(Location, location_id)
    if location is None or location.organization_id != principal.organization_id:
        raise NotFound("Standort nicht gefunden.")
    if location.id not in principal.location_ids and principal.role not in (Role.OWNER, Role.AUDITOR):
        raise NotFound("Standort nicht gefunden.")
    return location


def register_device(
    ctx: ServerContext, session: Session, principal: Principal, *, location_id: str, name: str
) -> tuple[Device, TokenPair]:
    """Register a desktop for a location of the caller's organisation (owner or counter)."""
    if not principal.is_user or principal.role not in DEVICE_ROLES:
        raise Forbidden("Nur Inhaber und Theke dürfen Arbeitsplätze anmelden.")
    location = location_in_scope(session, principal, location_id)
    now = ctx.clock()
    device = Device(
        organization_id=principal.organization_id,
        location_id=location.id,
        name=name,
        created_by=principal.id,
        created_at=now,
    )
    session.add(device)
    session.flush()
    audit.record(
        session, AuditKind.DEVICE_REGISTERED, at=now, organization_id=device.organization_id, device_id=device.id
    )
    return device, issue_for_device(ctx, session, device)


def revoke_device(ctx: ServerContext, session: Session, principal: Principal, device_id: str) -> Device:
    """Remove a device (lost or replaced PC): its sessions end at once."""
    device = session.get(Device, device_id)
    if device is None or device.organization_id != principal.organization_id:
        raise NotFound("Arbeitsplatz nicht gefunden.")
    if device.revoked_at is None:
        now = ctx.clock()
        device.revoked_at = now
        ctx.refresh.revoke_all(session, device_id=device.id)
        audit.record(
            session, AuditKind.DEVICE_REVOKED, at=now, organization_id=device.organization_id, device_id=device.id
        )
    return device
