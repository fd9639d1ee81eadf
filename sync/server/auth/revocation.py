"""Revoked access tokens: persisted in the database, mirrored in the store for fast checks.

The database table is the truth, so a revocation survives restarts and Redis flushes:
- in-process store (one worker): a miss in the mirror is confirmed in the database (a primary-key
  lookup), so several processes on one database still agree;
- Redis: the mirror is authoritative while the marker key ``revoked:loaded`` exists; when Redis lost
  its data (restart without persistence) the marker is gone too, and the next check reloads every
  unexpired revocation from the database. If writing the mirror fails, this process deletes the
  marker as soon as Redis answers again, which forces the same reload everywhere;
- Redis unreachable during a check: the database answers (correct, only slower).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from sync.server.models import Clock, RevokedAccessToken
from sync.server.store import KeyValueStore, StoreUnavailable

log = logging.getLogger(__name__)
MARKER = "revoked:loaded"


_EXPIRY = select(RevokedAccessToken.expires_at).where(RevokedAccessToken.jti == bindparam("jti"))


def _key(jti: str) -> str:
    return f"revoked:{jti}"


class RevocationList:
    """Revoke access token ids and check them on every request."""

    def __init__(self, store: KeyValueStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._mirror_failed = False

    def revoke(self, session: Session, jti: str, expires_at: dt.datetime) -> None:
        """Revoke ``jti`` until ``expires_at`` (part of the caller's unit of work)."""
        now = self._clock()
        if expires_at <= now:
            return
        session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < now))
        if session.get(RevokedAccessToken, jti) is None:
            session.add(RevokedAccessToken(jti=jti, expires_at=expires_at))
        ttl = int((expires_at - now).total_seconds()) + 1
        try:
            self._store.set(_key(jti), "1", ttl)
        except StoreUnavailable:
            log.warning("revocation mirror not written; the marker will be reset when the store is back")
            self._mirror_failed = True

    def is_revoked(self, session: Session | Connection, jti: str) -> bool:
        """True when ``jti`` was revoked."""
        try:
            if self._mirror_failed:
                self._store.delete(MARKER)
                self._mirror_failed = False
            if self._store.get(_key(jti)) is not None:
                return True
            if not self._store.shared:
                return self._in_database(session, jti)
            if self._store.get(MARKER) is None:
                self._warm(session)
                return self._in_database(session, jti)
            return False
        except StoreUnavailable:
            log.warning("store unavailable; revocation checked in the database")
            return self._in_database(session, jti)

    def _in_database(self, session: Session | Connection, jti: str) -> bool:
        # On every request: a Core statement on the connection, no ORM identity load or compile.
        conn = session if isinstance(session, Connection) else session.connection()
        expires_at = conn.execute(_EXPIRY, {"jti": jti}).scalar()
        return expires_at is not None and expires_at > self._clock()

    def _warm(self, session: Session | Connection) -> None:
        now = self._clock()
        query = select(RevokedAccessToken.jti, RevokedAccessToken.expires_at).where(RevokedAccessToken.expires_at > now)
        rows = session.execute(query).all()
        for jti, expires_at in rows:
            self._store.set(_key(jti), "1", int((expires_at - now).total_seconds()) + 1)
        self._store.set(MARKER, "1")
        log.info("revocation mirror loaded (%d entries)", len(rows))
