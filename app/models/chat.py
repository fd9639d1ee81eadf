"""Desktop-side chat bookkeeping (issue 6); the conversations themselves live on the hosted API.

The web chat's conversations and messages are server-authoritative: the desktop receives them through
the sync stream ``chat`` into ``sync_remote`` (entities ``chat_conversation``, ``chat_message``,
``chat_booking``), so the inbox works from the local copy. What only the desktop knows is kept here:

- ``chat_link``: a conversation linked by staff to a customer, vehicle or appointment (one row each);
- ``chat_booking_import``: a booking request of the web chat turned into a *pending* appointment
  (one row per request, so a request pulled twice never books twice);
- ``chat_llm_usage``: the cloud LLM's token usage and cost per bot message, priced from the versioned
  price table, for the monthly budget per location (``estimated`` when a stream broke off without
  usage figures).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class ChatLink(Base):
    """Staff linked a web-chat conversation to a customer, vehicle and/or appointment."""

    __tablename__ = "chat_link"

    conversation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"), nullable=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id", ondelete="SET NULL"), nullable=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id", ondelete="SET NULL"), nullable=True)
    read_seq: Mapped[int] = mapped_column(Integer, default=0)  # last message seq staff has seen (unread badge)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ChatBookingImport(Base):
    """A web-chat booking request that became a pending appointment in the calendar."""

    __tablename__ = "chat_booking_import"

    booking_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ChatLlmUsage(Base):
    """Token usage and cost of one bot message answered through a cloud LLM."""

    __tablename__ = "chat_llm_usage"
    __table_args__ = (Index("ix_chat_llm_usage_month", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    message_client_id: Mapped[str] = mapped_column(String(36))
    provider: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(80))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached_input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_eur: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal("0"))
    price_table_version: Mapped[str] = mapped_column(String(20))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
