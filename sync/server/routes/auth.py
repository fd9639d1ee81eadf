"""POST /v1/auth/register, /login, /refresh, /logout."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from sync.server.auth import service
from sync.server.deps import ClientIp, ContextDep, OptionalPrincipal, SessionDep
from sync.server.errors import ERROR_RESPONSES
from sync.server.schemas import (
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    TokenResponse,
)

router = APIRouter(prefix="/v1/auth", tags=["Anmeldung"], responses=ERROR_RESPONSES)


def token_response(pair: service.TokenPair) -> TokenResponse:
    """The wire form of a token pair."""
    return TokenResponse(
        access_token=pair.access.token,
        expires_in=pair.access.expires_in,
        refresh_token=pair.refresh.token,
        refresh_expires_at=pair.refresh.expires_at,
    )


def no_store(response: Response) -> None:
    """Token responses must not be cached by browsers or proxies (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post("/register", response_model=RegisterResponse, status_code=status.HTTP_201_CREATED)
def register(
    body: RegisterRequest, ctx: ContextDep, session: SessionDep, ip: ClientIp, response: Response
) -> RegisterResponse:
    """Create an organisation with its owner and first location; returns the owner's tokens."""
    result = service.register(
        ctx,
        session,
        ip=ip,
        organization_name=body.organization_name,
        location_name=body.location_name,
        email=body.email,
        password=body.password,
        name=body.name,
    )
    no_store(response)
    return RegisterResponse(
        **token_response(result.tokens).model_dump(),
        organization_id=result.organization_id,
        location_id=result.location_id,
        user_id=result.user_id,
    )


@router.post("/login", response_model=TokenResponse)
def login(body: LoginRequest, ctx: ContextDep, session: SessionDep, ip: ClientIp, response: Response) -> TokenResponse:
    """Log in with e-mail and password."""
    pair = service.login(ctx, session, ip=ip, email=body.email, password=body.password)
    no_store(response)
    return token_response(pair)


@router.post("/refresh", response_model=TokenResponse)
def refresh(body: RefreshRequest, ctx: ContextDep, session: SessionDep, response: Response) -> TokenResponse:
    """Exchange a refresh token for a new pair; the old refresh token is used up."""
    pair = service.refresh(ctx, session, token=body.refresh_token)
    no_store(response)
    return token_response(pair)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: LogoutRequest, ctx: ContextDep, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """End the session: the refresh token's family and the presented access token are revoked."""
    service.logout(ctx, session, refresh_token=body.refresh_token, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
