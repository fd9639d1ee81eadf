"""FastAPI dependencies as ``Annotated`` aliases (the FastAPI full-stack template's ``deps.py``).

- ``ContextDep``: the app's ``ServerContext``;
- ``SessionDep``: one session per request, committed after the handler returns and before the
  response is sent (``scope="function"``), rolled back on any error;
- ``Bearer``: the bearer credentials, only required to be present (the route validates them itself);
- ``CurrentPrincipal``: the validated, unrevoked caller (user or device) from ``Authorization: Bearer``
  (checked in its own short reading session, so a writer's lock is never taken just to authenticate);
- ``CurrentUser``: the same, but only people (a device token gets 403);
- ``OptionalPrincipal``: the caller, or None without a valid token (logout);
- ``ClientIp``: the client address as uvicorn resolved it (trusted proxies only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from sync.server.auth.tokens import Principal
from sync.server.context import ServerContext
from sync.server.errors import Forbidden, Unauthorized
from sync.server.models import Device

_bearer = HTTPBearer(auto_error=False, description="Access token (ES256-JWT, typ at+jwt)")


async def get_context(request: Request) -> ServerContext:
    """The context the app was built with (``async``: an attribute read needs no trip to the thread pool)."""
    ctx: ServerContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[ServerContext, Depends(get_context)]


def get_session(ctx: ContextDep) -> Iterator[Session]:
    """A session for this request: commit on success, roll back on error."""
    with ctx.db.sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def principal_in(
    ctx: ServerContext, session: Session | Connection, credentials: HTTPAuthorizationCredentials
) -> Principal:
    """The validated, unrevoked caller, checked with the caller's reading ``session`` (or connection)."""
    principal = ctx.tokens.principal(credentials.credentials)
    if ctx.revocations.is_revoked(session, principal.jti):
        raise Unauthorized("Die Anmeldung wurde beendet. Bitte erneut anmelden.", code="token_revoked")
    return principal


def _principal(ctx: ServerContext, credentials: HTTPAuthorizationCredentials) -> Principal:
    with ctx.db.read_connection() as conn:
        return principal_in(ctx, conn, credentials)


def get_principal(ctx: ContextDep, credentials: Credentials) -> Principal:
    """The caller; 401 without a valid, unrevoked access token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    return _principal(ctx, credentials)


_DEVICE = select(Device.organization_id, Device.location_id, Device.revoked_at).where(Device.id == bindparam("id"))


def device_location(db: Session | Connection, principal: Principal) -> str:
    """The location of the calling device; 401 when the device was removed (or is another organisation's)."""
    device = db.execute(_DEVICE, {"id": principal.id}).first()
    if device is None or device.revoked_at is not None or device.organization_id != principal.organization_id:
        raise Unauthorized("Dieser Arbeitsplatz wurde entfernt. Bitte neu anmelden.", code="device_revoked")
    return str(device.location_id)


async def get_bearer(credentials: Credentials) -> HTTPAuthorizationCredentials:
    """The bearer credentials, unchecked; 401 at once when there are none (before the body is looked at).

    For routes that check the token in their own trip to the thread pool (as ``principal_in`` there).
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    return credentials


Bearer = Annotated[HTTPAuthorizationCredentials, Depends(get_bearer)]


def get_optional_principal(
    ctx: ContextDep,
    authorization: Annotated[str | None, Header(description="Optional: Bearer <Access-Token>")] = None,
) -> Principal | None:
    """The caller if a valid access token was sent, else None (logout must work with an expired one).

    A plain optional header, not the Bearer security scheme, so /openapi.json does not declare the
    token as required for logout.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return _principal(ctx, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip()))
    except Unauthorized:
        return None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def get_current_user(principal: CurrentPrincipal) -> Principal:
    """The caller if it is a person; 403 for a device token."""
    if not principal.is_user:
        raise Forbidden("Diese Funktion steht nur angemeldeten Benutzern zur Verfügung.")
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def get_client_ip(request: Request) -> str:
    """The client address (behind a proxy uvicorn takes it from X-Forwarded-For of trusted proxies)."""
    return request.client.host if request.client else "unknown"


ClientIp = Annotated[str, Depends(get_client_ip)]
