"""Sync bookkeeping of the desktop: the outbox, the sync state, the dirty days and the server's records.

- ``outbox``: one row per captured change, written in the same transaction as the business change
  (``app.sync_outbox``); the sync client pushes pending rows in id order and marks the results.
- ``sync_state``: exactly one row (id = 1): which device this installation is, the pull cursor, the
  last sync and the last error, the last entitlement token and the JWKS to verify it offline.
  The refresh token is never stored here but in the OS keyring (``sync.credentials``).
- ``sync_dirty_day``: local dates whose daily facts must be recomputed and pushed.
- ``sync_remote``: the desktop's copy of the server-authoritative records it pulled (settings, …).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow

OUTBOX_STATES = ("pending", "sent", "acked", "rejected", "conflict")


class OutboxEntry(Base):
    """A change waiting to be pushed (or already answered). ``payload`` is JSON text."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("op IN ('upsert','delete')", name="op"),
        CheckConstraint("state IN ('pending','sent','acked','rejected','conflict')", name="state"),
        Index("ix_outbox_state_id", "state", "id"),
        Index("ix_outbox_entity", "entity", "entity_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    hlc: Mapped[str] = mapped_column(String(64))
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # server version after ack
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class SyncState(Base):
    """The installation's sync registration and progress (one row, id = 1)."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_url: Mapped[str] = mapped_column(String(300), default="")
    device_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    location_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    entitlement_token: Mapped[str] = mapped_column(Text, default="")
    jwks_json: Mapped[str] = mapped_column(Text, default="")


class SyncDirtyDay(Base):
    """A local date whose daily facts changed since they were last queued for the server."""

    __tablename__ = "sync_dirty_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class RemoteRecord(Base):
    """A server-authoritative record as last pulled (``data`` JSON text; tombstones keep ``deleted``)."""

    __tablename__ = "sync_remote"
    __table_args__ = (UniqueConstraint("stream", "entity", "entity_id", name="uq_sync_remote_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text, default="{}")
    deleted: Mapped[bool] = mapped_column(default=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
