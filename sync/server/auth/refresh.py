"""Opaque refresh tokens, rotated on every use, with reuse detection per family (RFC 9700 §4.14).

A token is ``cbr_`` + 32 random bytes (``secrets.token_urlsafe``); only its SHA-256 is stored.
Login, registration and device registration start a *family*; every refresh marks the presented
token used and issues a child in the same family (idle expiry renewed, absolute expiry kept).

Reuse: presenting a token that was already used means two parties hold it, one of them a thief,
so the whole family is revoked, including the access tokens it issued, and everybody must log in
again. Concurrency grace (``refresh_reuse_grace_seconds``, default 10 s): a desktop that lost the
response of a refresh retries with the same token; inside the grace it gets another child instead
of losing its session. The cost is that a thief who replays within those seconds also gets a child;
the next use of the older token outside the grace still revokes everything.
Marking a token used is a conditional UPDATE (``… WHERE used_at IS NULL``), atomic on SQLite and
PostgreSQL alike; on PostgreSQL the row is also locked with ``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.server import audit
from sync.server.auth.revocation import RevocationList
from sync.server.auth.tokens import IssuedAccessToken
from sync.server.config import Settings
from sync.server.errors import Unauthorized
from sync.server.models import AuditKind, Clock, RefreshToken, new_id

PREFIX = "cbr_"
INVALID_REFRESH = "Die Sitzung ist abgelaufen oder ungültig. Bitte erneut anmelden."


def hash_token(token: str) -> str:
    """SHA-256 hex of a refresh token (what the database stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedRefreshToken:
    """A new refresh token; ``token`` is shown to the client once and never stored."""

    token: str
    id: str
    family_id: str
    expires_at: dt.datetime


class RefreshTokens:
    """Issue, rotate and revoke refresh tokens (each call is part of the caller's unit of work)."""

    def __init__(self, settings: Settings, clock: Clock, revocations: RevocationList) -> None:
        self._settings = settings
        self._clock = clock
        self._revocations = revocations

    def _lifetimes(self, *, device: bool) -> tuple[dt.timedelta, dt.timedelta]:
        s = self._settings
        if device:
            return dt.timedelta(days=s.device_refresh_idle_days), dt.timedelta(days=s.device_refresh_absolute_days)
        return dt.timedelta(days=s.user_refresh_idle_days), dt.timedelta(days=s.user_refresh_absolute_days)

    def issue(
        self,
        session: Session,
        *,
        user_id: str | None = None,
        device_id: str | None = None,
        parent: RefreshToken | None = None,
        access: IssuedAccessToken | None = None,
    ) -> IssuedRefreshToken:
        """A new token: a new family without ``parent``, else the parent's child."""
        now = self._clock()
        idle, absolute = self._lifetimes(device=device_id is not None)
        absolute_expires = parent.absolute_expires_at if parent is not None else now + absolute
        token = PREFIX + secrets.token_urlsafe(32)
        row = RefreshToken(
            id=new_id(),
            family_id=parent.family_id if parent is not None else new_id(),
            user_id=user_id,
            device_id=device_id,
            token_hash=hash_token(token),
            parent_id=parent.id if parent is not None else None,
            created_at=now,
            expires_at=min(now + idle, absolute_expires),
            absolute_expires_at=absolute_expires,
            access_jti=access.jti if access is not None else None,
            access_expires_at=access.expires_at if access is not None else None,
        )
        session.add(row)
        return IssuedRefreshToken(token, row.id, row.family_id, row.expires_at)

    def find(self, session: Session, token: str, *, lock: bool = False) -> RefreshToken | None:
        """The row of ``token`` (None when unknown)."""
        if not token.startswith(PREFIX):
            return None
        query = select(RefreshToken).where(RefreshToken.token_hash == hash_token(token))
        return session.scalars(query.with_for_update() if lock else query).first()

    def use(self, session: Session, token: str) -> RefreshToken:
        """Mark ``token`` used and return its row, so the caller can issue the child.

        Raises Unauthorized for unknown, expired or revoked tokens; on reuse outside the grace the
        family is revoked and COMMITTED before raising (the 401 must not roll the revocation back).
        """
        row = self.find(session, token, lock=True)
        now = self._clock()
        if row is None or row.revoked_at is not None or min(row.expires_at, row.absolute_expires_at) <= now:
            raise Unauthorized(INVALID_REFRESH, code="invalid_refresh_token")
        if row.used_at is None:
            marked = session.execute(
                update(RefreshToken)
                .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(marked, "rowcount", 0) == 1:
                row.used_at = now
                return row
            session.refresh(row)  # another request used it a moment ago
        assert row.used_at is not None
        if now - row.used_at <= dt.timedelta(seconds=self._settings.refresh_reuse_grace_seconds):
            return row
        self.revoke_family(session, row.family_id)
        audit.record(
            session,
            AuditKind.REFRESH_REUSE,
            at=now,
            user_id=row.user_id,
            device_id=row.device_id,
            detail=f"family={row.family_id}",
        )
        session.commit()
        raise Unauthorized(INVALID_REFRESH, code="refresh_reused")

    def revoke_family(self, session: Session, family_id: str) -> int:
        """Revoke every token of a family and the access tokens issued with them; returns the count."""
        now = self._clock()
        rows = session.scalars(
            select(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        ).all()
        for row in rows:
            row.revoked_at = now
            if row.access_jti and row.access_expires_at and row.access_expires_at > now:
                self._revocations.revoke(session, row.access_jti, row.access_expires_at)
        return len(rows)

    def revoke_all(self, session: Session, *, user_id: str | None = None, device_id: str | None = None) -> int:
        """Revoke every family of a user or device (device removed, user disabled)."""
        column = RefreshToken.user_id if user_id is not None else RefreshToken.device_id
        owner = user_id if user_id is not None else device_id
        families = session.scalars(
            select(RefreshToken.family_id).where(column == owner, RefreshToken.revoked_at.is_(None)).distinct()
        ).all()
        return sum(self.revoke_family(session, family) for family in families)
