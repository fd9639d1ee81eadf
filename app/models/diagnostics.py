"""OBD-II diagnostics results kept with the vehicle (and the open work order): scans, cleared codes,
live-data recordings, and the protocol remembered per vehicle and adapter.

VIN-linked vehicle data is personal data (EuGH C-319/22): it is part of the customer's data export and
is deleted with the vehicle unless a legal hold keeps it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class ObdScan(Base):
    """One diagnostic scan: adapter, protocol, VIN read, voltage, MIL, trouble codes, readiness, freeze frame."""

    __tablename__ = "obd_scan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle.id", ondelete="CASCADE"), nullable=True, index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order.id", ondelete="SET NULL"), nullable=True, index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[str] = mapped_column(String(80), default="")
    adapter: Mapped[str] = mapped_column(String(120), default="")
    protocol: Mapped[str] = mapped_column(String(60), default="")
    vin: Mapped[str] = mapped_column(String(17), default="")
    voltage: Mapped[float | None] = mapped_column(Float, nullable=True)
    mil: Mapped[bool | None] = mapped_column(nullable=True)
    result_json: Mapped[str] = mapped_column(Text, default="{}")  # dtcs, readiness, freeze frame (versioned JSON)


class ObdRecording(Base):
    """A recorded live-data session (timestamps, values, units) attached to a vehicle and work order."""

    __tablename__ = "obd_recording"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("vehicle.id", ondelete="CASCADE"), nullable=True, index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order.id", ondelete="SET NULL"), nullable=True, index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    user: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    columns_json: Mapped[str] = mapped_column(Text, default="[]")  # [{"pid": "RPM", "unit": "rpm"}, …]
    samples: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # zlib-compressed CSV rows
    sample_count: Mapped[int] = mapped_column(Integer, default=0)


class ObdProtocolMemory(Base):
    """The protocol that worked last time for a vehicle (by VIN or vehicle id) on an adapter."""

    __tablename__ = "obd_protocol_memory"
    __table_args__ = (UniqueConstraint("vehicle_key", "adapter_key", name="uq_obd_protocol_memory_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_key: Mapped[str] = mapped_column(String(40))
    adapter_key: Mapped[str] = mapped_column(String(120))
    protocol: Mapped[str] = mapped_column(String(4))  # ELM327 protocol number, e.g. "6"
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
