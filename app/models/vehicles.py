"""Vehicles, their mileage readings and their history (visits, HU, notes; later OBD scans)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped, utcnow


class Vehicle(Timestamped, Base):
    """A customer's vehicle. ``hu_due`` is the first day of the HU/AU due month (§29 StVZO)."""

    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"), index=True, nullable=True
    )
    vin: Mapped[str] = mapped_column(String(17), default="", index=True)
    plate: Mapped[str] = mapped_column(String(12), default="", index=True)
    make: Mapped[str] = mapped_column(String(40), default="")
    model: Mapped[str] = mapped_column(String(60), default="")
    model_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hsn: Mapped[str] = mapped_column(String(4), default="")
    tsn: Mapped[str] = mapped_column(String(3), default="")
    fuel: Mapped[str] = mapped_column(String(20), default="")
    first_registration: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    hu_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    business_use: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")

    mileages: Mapped[list[MileageReading]] = relationship(
        back_populates="vehicle", cascade="all, delete-orphan", order_by="MileageReading.date"
    )
    events: Mapped[list[VehicleEvent]] = relationship(
        back_populates="vehicle", cascade="all, delete-orphan", order_by="VehicleEvent.at"
    )


class MileageReading(Base):
    """An odometer reading (km) on a date, from the counter, an order or an OBD scan."""

    __tablename__ = "mileage_reading"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    km: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), default="Theke")

    vehicle: Mapped[Vehicle] = relationship(back_populates="mileages")


class VehicleEvent(Base):
    """One entry in a vehicle's history: visit, HU done, note, owner change (later: OBD scans)."""

    __tablename__ = "vehicle_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # visit | hu | note | owner | obd | dtc_cleared | km
    text: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[str] = mapped_column(String(80), default="")

    vehicle: Mapped[Vehicle] = relationship(back_populates="events")
