"""Workshop master data (one row), bays/lifts and mechanics."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped


class Workshop(Timestamped, Base):
    """The workshop's own data: address, tax ids, bank, labour rate and calendar settings.

    Exactly one row (id = 1). Opening hours are JSON: {"0": [["07:30", "12:00"], ["13:00", "17:30"]], …}
    with Monday = "0"; a missing or empty day is closed.
    """

    __tablename__ = "workshop"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    owner_name: Mapped[str] = mapped_column(String(120), default="")
    street: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(2), default="DE")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(120), default="")
    tax_number: Mapped[str] = mapped_column(String(20), default="")
    vat_id: Mapped[str] = mapped_column(String(20), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    bank_name: Mapped[str] = mapped_column(String(80), default="")
    labour_rate_net: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    aw_per_hour: Mapped[int] = mapped_column(Integer, default=10)
    bundesland: Mapped[str] = mapped_column(String(2), default="BY")
    opening_hours: Mapped[str] = mapped_column(Text, default="{}")
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)
    current_user: Mapped[str] = mapped_column(String(80), default="Theke")
    # Invoicing (issue 3)
    kleinunternehmer: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_year_turnover: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    estimate_overrun_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("15.00"))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=14)
    accent_color: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    logo_path: Mapped[str] = mapped_column(String(260), default="")
    reminder_fee_1: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("0.00"))
    reminder_fee_2: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("5.00"))


class Bay(Base):
    """A lift or work bay; appointments are planned per bay."""

    __tablename__ = "bay"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="Hebebühne")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Mechanic(Base):
    """A mechanic (Monteur) who can be assigned to appointments."""

    __tablename__ = "mechanic"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hours_per_day: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("8.00"))
