"""Customers, their additional contacts and consent records."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped, utcnow


class Customer(Timestamped, Base):
    """A private or business customer. ``restricted_at`` is set by a GDPR erasure request that
    had to keep data under a legal hold: such customers vanish from search and lists."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="private")  # private | business
    salutation: Mapped[str] = mapped_column(String(20), default="")
    first_name: Mapped[str] = mapped_column(String(80), default="")
    last_name: Mapped[str] = mapped_column(String(80), default="")
    company: Mapped[str] = mapped_column(String(120), default="")
    street: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(2), default="DE")
    vat_id: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    mobile: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    restricted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Consent.id"
    )


class Contact(Base):
    """An additional contact person of a (mostly business) customer."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(120), default="")

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Consent(Base):
    """One consent event (granted or withdrawn) for a channel and purpose, append-only.

    The current state per channel is the newest row; the history is the proof (§7a UWG).
    """

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | sms | phone | letter
    purpose: Mapped[str] = mapped_column(String(30), default="reminders")
    granted: Mapped[bool] = mapped_column(Boolean)
    text_version: Mapped[str] = mapped_column(String(20), default="2026-1")
    source: Mapped[str] = mapped_column(String(30), default="Theke")
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="consents")
