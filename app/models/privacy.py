"""GDPR: legal holds that keep data from erasure, and the log of data-subject requests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class LegalHold(Base):
    """A reason to keep a customer's data beyond an erasure request (Art. 17(3)(b) GDPR).

    ``category`` is a retention category of ``app.retention`` (voucher_8y, books_10y, letters_6y,
    warranty_3y, consent_proof_5y); ``until`` is the day the hold ends (end of the calendar year + N).
    Invoices (next wave) create holds of category voucher_8y. ``customer_id`` is deliberately not a
    foreign key: the hold and the request log must outlive a deleted customer row.
    """

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    until: Mapped[dt.date] = mapped_column(Date)


class PrivacyRequest(Base):
    """Log of an Art. 15/20 export or Art. 17 erasure request and its outcome (JSON)."""

    __tablename__ = "privacy_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # export | erasure
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    performed_by: Mapped[str] = mapped_column(String(80), default="")
    outcome: Mapped[str] = mapped_column(Text, default="{}")
