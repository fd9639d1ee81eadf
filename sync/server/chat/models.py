"""Tables of the web chat on the hosted API (migration ``s0004``; docs/chat.md).

- ``chat_widget_keys``: one public widget key per location (``wk_…``), its allowed domains and branding;
- ``chat_public_profiles``: the workshop's public data (``app.chat.profile.PublicProfile.to_dict``) the
  server's own assistant answers from while the desktop is offline;
- ``chat_conversations``: one visitor's conversation: who answers (``status``), the bot task (the visitor
  message waiting for a bot answer, its lease and when the server answers itself), the lead mark;
- ``chat_messages``: numbered 1, 2, 3 … per conversation (unique ``(conversation_id, seq)``), de-duplicated
  by the sender's ``client_id`` (unique ``(conversation_id, client_id)``);
- ``chat_booking_requests``: appointments visitors asked for; staff confirm them in the desktop calendar.

Privacy: the visitor is known only by a random id inside the visitor token; the table keeps its SHA-256
(``visitor_hash``). No IP address, user agent or page URL is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync.server.models import Base, UTCDateTime, new_id, utcnow

STATUS_CHECK = "status IN ('bot', 'waiting_staff', 'staff', 'closed')"
AUTHOR_CHECK = "author IN ('visitor', 'bot', 'staff', 'system')"
LANGUAGE_CHECK = "language IN ('de', 'en', 'tr', 'pl')"


class WidgetKey(Base):
    """The widget settings of one location: public key, allowed domains (empty = any), branding."""

    __tablename__ = "chat_widget_keys"

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[str] = mapped_column(String(40), unique=True)
    allowed_domains: Mapped[list[str]] = mapped_column(JSON)
    branding: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicProfileRow(Base):
    """The last public profile a desktop of the location uploaded (``PUT /v1/chat/profile``)."""

    __tablename__ = "chat_public_profiles"

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(Base):
    """One visitor's conversation with a location (see docs/chat.md for the state machine).

    The bot task: ``bot_task_seq`` is the newest visitor message the bot should answer, ``answered_seq``
    the newest visitor message already answered (by the bot or a person). While ``bot_task_seq >
    answered_seq`` and the status is ``bot``, the task is open: leased to a desktop agent or the server
    until ``lease_until``; ``bot_due_at`` is when the server answers itself if nobody else did.
    """

    __tablename__ = "chat_conversations"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint(LANGUAGE_CHECK, name="language"),
        Index("ix_chat_conversations_location", "location_id", "updated_at"),
        Index("ix_chat_conversations_leads", "organization_id", "lead_at"),
        Index("ix_chat_conversations_created", "organization_id", "created_at"),
        Index("ix_chat_conversations_due", "bot_due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    visitor_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="bot")
    language: Mapped[str] = mapped_column(String(2), default="de")
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_visitor_seq: Mapped[int] = mapped_column(Integer, default=0)
    answered_seq: Mapped[int] = mapped_column(Integer, default=0)
    bot_task_seq: Mapped[int] = mapped_column(Integer, default=0)
    bot_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_holder: Mapped[str | None] = mapped_column(String(36), default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    handoff_reason: Mapped[str] = mapped_column(String(200), default="")
    bot_stopped_by_limit: Mapped[bool] = mapped_column(Boolean, default=False)


class Message(Base):
    """One message of a conversation."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint(AUTHOR_CHECK, name="author"),
        UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_chat_messages_client_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("chat_conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    quick_replies: Mapped[list[str]] = mapped_column(JSON)
    client_id: Mapped[str | None] = mapped_column(String(36), default=None)
    reply_to_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookingRequestRow(Base):
    """An appointment a visitor asked for; ``start``/``end`` are naive Europe/Berlin wall-clock times."""

    __tablename__ = "chat_booking_requests"
    __table_args__ = (
        UniqueConstraint("conversation_id", "client_id", name="uq_chat_booking_requests_client_id"),
        Index("ix_chat_booking_requests_location", "location_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("chat_conversations.id", ondelete="CASCADE"))
    client_id: Mapped[str | None] = mapped_column(String(36), default=None)
    service_code: Mapped[str] = mapped_column(String(20))
    service_name: Mapped[str] = mapped_column(String(200), default="")
    start: Mapped[dt.datetime] = mapped_column(DateTime)
    end: Mapped[dt.datetime] = mapped_column(DateTime)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
