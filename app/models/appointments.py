"""Appointments per bay and mechanic, with the catalogue services they were booked for."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped
from app.models.catalog import Service

appointment_service = Table(
    "appointment_service",
    Base.metadata,
    Column("appointment_id", ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("service.id", ondelete="RESTRICT"), primary_key=True),
)


class Appointment(Timestamped, Base):
    """A booked slot. Status: pending (request, e.g. from chat) → confirmed → done | no_show;
    pending/confirmed → cancelled. Times are local wall-clock times of the workshop."""

    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    end: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    bay_id: Mapped[int | None] = mapped_column(ForeignKey("bay.id", ondelete="RESTRICT"), nullable=True)
    mechanic_id: Mapped[int | None] = mapped_column(ForeignKey("mechanic.id", ondelete="RESTRICT"), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"), nullable=True, index=True
    )
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(160), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="confirmed")
    source: Mapped[str] = mapped_column(String(12), default="counter")

    services: Mapped[list[Service]] = relationship(secondary=appointment_service, order_by="Service.code")
