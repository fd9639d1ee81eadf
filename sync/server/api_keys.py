"""API keys for integrators: created by the owner, stored hashed, shown once, scoped, rate limited.

**Format.** ``ck_live_`` + 43 URL-safe characters (``secrets.token_urlsafe(32)``: 256 random bits).
The first 16 characters (``prefix``) identify a key in lists and logs; the rest is secret.

**Storage (decision).** Only the key's SHA-256 (hex) is stored, like the refresh tokens: a key has
256 bits of entropy, so a stolen table cannot be brute-forced and a slow hash (argon2) or a pepper
would add cost per request without adding protection. Lookup is by that hash (unique index), so no
key is ever compared in clear text.

**Use.** ``Authorization: Bearer ck_live_…`` on ``/v1/public/*`` only (access tokens are refused there,
and API keys everywhere else). Per request: the key must exist and not be revoked (401), its
per-minute limit (fixed window in the shared store) must not be exceeded (429 with ``Retry-After``;
503 when the store is down: fail closed), the organisation must still have ``public_api`` (403
``plan_required``) and the key the route's scope (403 ``scope_missing``).

**Plan gating (decision).** Creating and rotating keys needs ``public_api``; listing and revoking do
not, so an owner can always see and switch off what exists, also after a downgrade.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.plans import Feature
from sync.server.api_keys_models import ApiKey
from sync.server.auth.tokens import Principal
from sync.server.context import ServerContext
from sync.server.errors import Forbidden, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized
from sync.server.models import Role
from sync.server.plans_gate import ensure_feature
from sync.server.schemas import Name, Request
from sync.server.store import StoreUnavailable

log = logging.getLogger(__name__)

KEY_PREFIX = "ck_live_"
PREFIX_LENGTH = 16
MAX_RATE_PER_MINUTE = 120
RATE_WINDOW_SECONDS = 60
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is written at most once a minute per key (no write per request)."""
INVALID_KEY = "Ungültiger oder widerrufener API-Schlüssel."


class Scope(StrEnum):
    """What an API key may do on ``/v1/public/*``."""

    APPOINTMENTS_READ = "appointments:read"
    INVOICES_READ = "invoices:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


class ApiKeyCreate(Request):
    """A new key: a name for the owner's list, its scopes and (optionally) a lower rate limit."""

    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))]
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=MAX_RATE_PER_MINUTE)] = MAX_RATE_PER_MINUTE


class ApiKeyPublic(BaseModel):
    """A key as lists show it: never the secret."""

    id: str
    name: str
    prefix: str
    scopes: list[Scope]
    rate_limit_per_minute: int
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """A new key WITH the secret ``key``: shown this once, store it in the integration's vault."""

    key: str


@dataclass(frozen=True)
class KeyCaller:
    """An authenticated API key: its id, organisation and scopes."""

    key_id: str
    organization_id: str
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> None:
        """403 unless the key has ``scope``."""
        if scope not in self.scopes:
            raise Forbidden(
                "Dem API-Schlüssel fehlt die Berechtigung „{scope}“.", code="scope_missing", scope=scope.value
            )


def hash_key(key: str) -> str:
    """The stored form of a key (SHA-256, hex)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def public(row: ApiKey) -> ApiKeyPublic:
    """The wire form of a key without the secret."""
    return ApiKeyPublic(id=row.id, name=row.name, prefix=row.prefix, scopes=[Scope(s) for s in row.scopes],
                        rate_limit_per_minute=row.rate_limit_per_minute, created_at=row.created_at,
                        last_used_at=row.last_used_at, revoked_at=row.revoked_at)  # fmt: skip


def _owner(principal: Principal) -> None:
    if not principal.is_user or principal.role != Role.OWNER:
        raise Forbidden("API-Schlüssel verwaltet nur der Inhaber.")


def _created(row: ApiKey, key: str) -> ApiKeyCreated:
    return ApiKeyCreated(**public(row).model_dump(), key=key)


def create_key(session: Session, principal: Principal, body: ApiKeyCreate, *, now: dt.datetime) -> ApiKeyCreated:
    """A new key of the caller's organisation (owner; the route checks ``public_api``)."""
    _owner(principal)
    key = _new_secret()
    row = ApiKey(organization_id=principal.organization_id, name=body.name, prefix=key[:PREFIX_LENGTH],
                 key_hash=hash_key(key), scopes=[s.value for s in dict.fromkeys(body.scopes)],
                 rate_limit_per_minute=body.rate_limit_per_minute, created_by=principal.id, created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    log.info("api key created org=%s key=%s", row.organization_id, row.id)
    return _created(row, key)


def list_keys(session: Session, principal: Principal) -> list[ApiKeyPublic]:
    """The organisation's keys, newest first (owner and auditor)."""
    if not principal.is_user or principal.role not in (Role.OWNER, Role.AUDITOR):
        raise Forbidden()
    rows = session.scalars(
        select(ApiKey).where(ApiKey.organization_id == principal.organization_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )  # fmt: skip
    return [public(row) for row in rows]


def _own_key(session: Session, principal: Principal, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or row.organization_id != principal.organization_id:
        raise NotFound("API-Schlüssel nicht gefunden.")
    return row


def revoke_key(session: Session, principal: Principal, key_id: str, *, now: dt.datetime) -> ApiKeyPublic:
    """Revoke a key at once (owner); revoking twice keeps the first time."""
    _owner(principal)
    row = _own_key(session, principal, key_id)
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        log.info("api key revoked org=%s key=%s", row.organization_id, row.id)
    return public(row)


def rotate_key(session: Session, principal: Principal, key_id: str, *, now: dt.datetime) -> ApiKeyCreated:
    """Replace a key by a new one with the same name, scopes and limit; the old one is revoked now."""
    _owner(principal)
    old = _own_key(session, principal, key_id)
    if old.revoked_at is not None:
        raise NotFound("API-Schlüssel nicht gefunden.")
    old.revoked_at = now
    body = ApiKeyCreate(name=old.name, scopes=[Scope(s) for s in old.scopes],
                        rate_limit_per_minute=old.rate_limit_per_minute)  # fmt: skip
    return create_key(session, principal, body, now=now)


def authenticate(ctx: ServerContext, session: Session, key: str) -> KeyCaller:
    """The caller behind ``key``: 401 unknown/revoked, 429 over its limit, 503 store down, 403 no plan."""
    if not key.startswith(KEY_PREFIX):
        raise Unauthorized(INVALID_KEY, code="invalid_api_key")
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized(INVALID_KEY, code="invalid_api_key")
    _rate_limit(ctx, row)
    now = ctx.clock()
    ensure_feature(session, row.organization_id, Feature.PUBLIC_API, now=now)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return KeyCaller(row.id, row.organization_id, frozenset(Scope(s) for s in row.scopes))


def _rate_limit(ctx: ServerContext, row: ApiKey) -> None:
    """Fixed one-minute window per key in the shared store; fail closed when the store is down."""
    bucket = f"rl:apikey:{row.id}"
    try:
        count = ctx.store.incr(bucket, RATE_WINDOW_SECONDS)
        if count > row.rate_limit_per_minute:
            raise TooManyRequests(
                "Zu viele Anfragen mit diesem API-Schlüssel. Bitte in {seconds} Sekunden erneut versuchen.",
                retry_after=ctx.store.ttl(bucket) or RATE_WINDOW_SECONDS,
                seconds=ctx.store.ttl(bucket) or RATE_WINDOW_SECONDS,
            )
    except StoreUnavailable as exc:
        raise ServiceUnavailable() from exc
