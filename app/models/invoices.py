"""Invoices (GoBD): drafts, finalised invoices and Stornorechnungen, their frozen lines, number ranges,
the archive of issued files, payments and cash records.

Finalised rows are protected by database triggers (migration 0002) as well as by the services: no
UPDATE or DELETE of a finalised invoice, its lines, archive entries, payments, cash records, the audit
log or the hash chain.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow


class NumberRange(Base):
    """An invoice number range per location/device: prefix (e.g. "W1") and a start value set once."""

    __tablename__ = "number_range"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(10), unique=True)
    start_value: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class NumberCounter(Base):
    """The next number of a range within one calendar year (numbers look like W1-2026-000123)."""

    __tablename__ = "number_counter"
    __table_args__ = (UniqueConstraint("range_id", "year", name="uq_number_counter_range_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    range_id: Mapped[int] = mapped_column(ForeignKey("number_range.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    next_value: Mapped[int] = mapped_column(Integer)


class Invoice(Base):
    """An invoice. ``status``: draft → final. A Stornorechnung is its own final invoice (kind "storno")
    with ``cancels_id`` pointing at the original, which itself never changes again."""

    __tablename__ = "invoice"
    __table_args__ = (
        CheckConstraint("status IN ('draft','final')", name="status"),
        CheckConstraint("kind IN ('invoice','storno')", name="kind"),
        CheckConstraint("status = 'draft' OR number IS NOT NULL", name="final_has_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), nullable=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id", ondelete="RESTRICT"), nullable=True)
    kind: Mapped[str] = mapped_column(String(8), default="invoice")
    status: Mapped[str] = mapped_column(String(8), default="draft", index=True)
    number: Mapped[str | None] = mapped_column(String(30), unique=True, nullable=True)
    range_id: Mapped[int | None] = mapped_column(ForeignKey("number_range.id", ondelete="RESTRICT"), nullable=True)
    cancels_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="RESTRICT"), nullable=True, unique=True
    )
    issue_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    service_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=14)
    mileage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # cancellation reason of a Storno
    net_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    tax_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    gross_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    altteil_tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    reverse_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    small_invoice: Mapped[bool] = mapped_column(Boolean, default=False)
    document_json: Mapped[str] = mapped_column(Text, default="")  # the frozen InvoiceDocument
    finalized_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finalized_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.id")


class InvoiceLine(Base):
    """A line of an invoice draft; frozen once the invoice is final (trigger-protected)."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))
    part_no: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_code: Mapped[str] = mapped_column(String(8), default="C62")
    unit_label: Mapped[str] = mapped_column(String(12), default="Stk")
    unit_price_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 4), nullable=True)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    aw: Mapped[Decimal | None] = mapped_column(Numeric(8, 2), nullable=True)
    aw_per_hour: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    discount_amount_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    net: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceArchive(Base):
    """The issued files, byte for byte: PDF/A-3 with embedded XML, and the XML alone (INV-07)."""

    __tablename__ = "invoice_archive"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Payment(Base):
    """A payment on an invoice (cash, card, transfer, SEPA direct debit). Never changed; a correction is a
    negative payment. Cash goes through the cash register service (TSE later)."""

    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("method IN ('cash','card','transfer','sepa_dd')", name="method"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    method: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str] = mapped_column(String(140), default="")
    user: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")


class CashRecord(Base):
    """One cash movement at the counter. ``tse_*`` stay empty until a certified TSE signs (KassenSichV wave)."""

    __tablename__ = "cash_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    tse_transaction: Mapped[str] = mapped_column(String(40), default="")
    tse_signature: Mapped[str] = mapped_column(Text, default="")
    tse_status: Mapped[str] = mapped_column(String(20), default="no_tse")


class Reminder(Base):
    """A payment reminder (level 0) or dunning letter (1, 2) for an invoice, with its PDF."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    fee: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    new_due_date: Mapped[dt.date] = mapped_column(Date)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    user: Mapped[str] = mapped_column(String(80), default="")
