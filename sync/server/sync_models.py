"""Tables of the sync protocol on the server (same declarative base and Alembic history as models.py).

- ``sync_counters``: one row per organisation with the newest change sequence (``last_seq``) and the
  highest sequence already pruned from the change log (``pruned_seq``, for ``410 Gone``).
- ``sync_records``: the current state of every synced record, unique per organisation, location,
  entity and entity id; ``data`` is None and ``deleted_at`` set for a tombstone. Organisation-wide
  records (settings) use the location ``""``.
- ``sync_applied_ops``: every op id the server has answered, with the stored result (duplicates get
  it back). Kept at least 60 days.
- ``sync_change_log``: what changed, in order: primary key ``(organization_id, seq)``.
- ``sync_daily_facts``: the daily facts per location and day, typed for the roll-ups.
- ``sync_number_prefixes``: which location of an organisation issues invoices with which number prefix.

**The sequence.** ``seq`` is per organisation and gap-free in commit order. A push allocates its block
of sequence numbers at the very end of its transaction with ``UPDATE sync_counters SET last_seq =
last_seq + n ... RETURNING last_seq``: on PostgreSQL that row lock is held until COMMIT, so two pushes
of one organisation commit in the order of their sequence numbers (the lock is taken last, so it is held
only for the change-log insert and the commit); SQLite has a single writer anyway (``BEGIN IMMEDIATE``).
A reader that reads ``last_seq`` first therefore sees every change up to it once committed, and pulls
``seq > since AND seq <= last_seq``: nothing committed later can slip in below its cursor.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models import Base, UTCDateTime, utcnow

ORG_WIDE = ""
"""The location of organisation-wide records and changes."""


class SyncCounter(Base):
    """The organisation's change sequence (see the module docstring)."""

    __tablename__ = "sync_counters"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncRecord(Base):
    """The server's copy of one record (last write wins by HLC, or immutable, per entity policy)."""

    __tablename__ = "sync_records"
    __table_args__ = (
        UniqueConstraint("organization_id", "location_id", "entity", "entity_id", name="uq_sync_records_key"),
        Index("ix_sync_records_stream", "organization_id", "stream", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    location_id: Mapped[str] = mapped_column(String(36))
    stream: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    hlc: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    origin_device: Mapped[str | None] = mapped_column(String(36), nullable=True)


class AppliedOp(Base):
    """An op the server answered without a change-log entry (conflict, rejection, duplicate content), with its
    stored result (the protocol's ``OpResult`` as JSON); applied ops are found by ``ChangeLogEntry.op_id``."""

    __tablename__ = "sync_applied_ops"

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    device_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ChangeLogEntry(Base):
    """One accepted change in the organisation's order (``data`` None for deletes)."""

    __tablename__ = "sync_change_log"
    __table_args__ = (
        Index("ix_sync_change_log_stream", "organization_id", "stream", "seq"),
        Index("ux_sync_change_log_op_id", "op_id", unique=True),
    )

    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stream: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[str] = mapped_column(String(36))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    origin_device: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The op that made this change and the version it gave the record: a resent op is found here (its
    # answer is "duplicate" with this version and seq), so an applied op needs no sync_applied_ops row.
    # None for changes the server made itself (number-prefix claims).
    op_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DailyFactRow(Base):
    """The daily facts of one location and day (``sync.protocol.DailyFacts``), typed for roll-ups."""

    __tablename__ = "sync_daily_facts"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    hlc: Mapped[str] = mapped_column(String(64), default="")
    revenue: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{vat_rate, net, tax, gross}]
    net_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    tax_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    gross_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    altteil_tax: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    invoice_count: Mapped[int] = mapped_column(Integer)
    storno_count: Mapped[int] = mapped_column(Integer)
    aw_sold: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    labour_net: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    parts_net: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    other_net: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    new_customers: Mapped[int] = mapped_column(Integer)
    appointments: Mapped[int] = mapped_column(Integer)
    chats: Mapped[int] = mapped_column(Integer)
    leads: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NumberPrefix(Base):
    """An invoice number prefix and the one location allowed to use it (first use claims it)."""

    __tablename__ = "sync_number_prefixes"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
