"""POST/GET /v1/api-keys, DELETE /v1/api-keys/{key_id}, POST /v1/api-keys/{key_id}/rotate (owner).

Creating and rotating need the plan feature ``public_api`` (Professional and up); listing (owner,
auditor) and revoking (owner) always work, so existing keys can be switched off after a downgrade.
The secret is in the answer of create and rotate only (``Cache-Control: no-store``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from app.plans import Feature
from sync.server import api_keys
from sync.server.auth.tokens import Principal
from sync.server.deps import ContextDep, CurrentUser, SessionDep
from sync.server.errors import ERROR_RESPONSES
from sync.server.plans_gate import require_feature
from sync.server.routes.auth import no_store

router = APIRouter(prefix="/v1/api-keys", tags=["API-Schlüssel"], responses=ERROR_RESPONSES)
PublicApiCaller = Annotated[Principal, Depends(require_feature(Feature.PUBLIC_API))]
KeyId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("", response_model=api_keys.ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(
    body: api_keys.ApiKeyCreate, ctx: ContextDep, session: SessionDep, user: CurrentUser,
    _plan: PublicApiCaller, response: Response,
) -> api_keys.ApiKeyCreated:  # fmt: skip
    """A new API key (owner, Professional and up); the key is shown in this answer only."""
    no_store(response)
    return api_keys.create_key(session, user, body, now=ctx.clock())


@router.get("", response_model=list[api_keys.ApiKeyPublic])
def list_keys(session: SessionDep, user: CurrentUser) -> list[api_keys.ApiKeyPublic]:
    """The organisation's API keys without secrets (owner, auditor)."""
    return api_keys.list_keys(session, user)


@router.delete("/{key_id}", response_model=api_keys.ApiKeyPublic)
def revoke_key(key_id: KeyId, ctx: ContextDep, session: SessionDep, user: CurrentUser) -> api_keys.ApiKeyPublic:
    """Revoke a key at once (owner)."""
    return api_keys.revoke_key(session, user, key_id, now=ctx.clock())


@router.post("/{key_id}/rotate", response_model=api_keys.ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def rotate_key(
    key_id: KeyId, ctx: ContextDep, session: SessionDep, user: CurrentUser, _plan: PublicApiCaller,
    response: Response,
) -> api_keys.ApiKeyCreated:  # fmt: skip
    """Replace a key by a new one with the same scopes; the old one stops working now (owner)."""
    no_store(response)
    return api_keys.rotate_key(session, user, key_id, now=ctx.clock())
