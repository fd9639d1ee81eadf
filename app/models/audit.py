"""GoBD: the append-only audit log and the SHA-256 hash chain over finalised invoices, payments and cash
records. Both tables are protected against UPDATE and DELETE by triggers (migration 0002)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class AuditEntry(Base):
    """Who changed what, when: create, update, delete, finalize, cancel, or a denied attempt (GOBD-01)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[str] = mapped_column(String(80), default="")
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    old: Mapped[str] = mapped_column(Text, default="")
    new: Mapped[str] = mapped_column(Text, default="")


class ChainEntry(Base):
    """One link of the hash chain: hash = SHA-256(prev_hash || entity || entity_id || payload_sha256) (GOBD-02)."""

    __tablename__ = "hash_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
