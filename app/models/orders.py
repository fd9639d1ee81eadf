"""Estimates (Kostenvoranschlag), work orders (Werkstattauftrag), their lines and customer approvals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped, utcnow


class Estimate(Timestamped, Base):
    """A Kostenvoranschlag: binding or not, with validity, charged or free (§632 Abs. 3 BGB).

    Status: draft → sent → accepted | rejected; an accepted estimate converts into a work order.
    """

    __tablename__ = "estimate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id", ondelete="RESTRICT"), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    binding: Mapped[bool] = mapped_column(Boolean, default=False)
    charged: Mapped[bool] = mapped_column(Boolean, default=False)
    fee_net: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="estimate",
        cascade="all, delete-orphan",
        order_by="OrderLine.position",
        foreign_keys="OrderLine.estimate_id",
    )


class WorkOrder(Timestamped, Base):
    """A Werkstattauftrag. Transitions are written down in ``app.services.work_orders.TRANSITIONS``."""

    __tablename__ = "work_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id", ondelete="RESTRICT"), nullable=True)
    estimate_id: Mapped[int | None] = mapped_column(ForeignKey("estimate.id", ondelete="RESTRICT"), nullable=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id", ondelete="SET NULL"), nullable=True)
    bay_id: Mapped[int | None] = mapped_column(ForeignKey("bay.id", ondelete="RESTRICT"), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    date_of_service: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    mileage_in: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fuel_level: Mapped[str] = mapped_column(String(10), default="")
    damage_notes: Mapped[str] = mapped_column(Text, default="")
    customer_wishes: Mapped[str] = mapped_column(Text, default="")
    approval_phone: Mapped[str] = mapped_column(String(40), default="")
    approval_limit_gross: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="work_order",
        cascade="all, delete-orphan",
        order_by="OrderLine.position",
        foreign_keys="OrderLine.work_order_id",
    )
    approvals: Mapped[list[OrderApproval]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="OrderApproval.at"
    )


class OrderLine(Base):
    """A line of an estimate or a work order (exactly one of both).

    kind: labour | part | exchange_part | fee | discount. Labour stores AW (target) and the actual AW of
    the mechanic; its price follows the workshop's AW price at invoicing. ``proposed`` lines come from
    diagnostics and need the counter's confirmation.
    """

    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("(estimate_id IS NULL) != (work_order_id IS NULL)", name="one_parent"),
        CheckConstraint("kind IN ('labour','part','exchange_part','fee','discount')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estimate_id: Mapped[int | None] = mapped_column(
        ForeignKey("estimate.id", ondelete="CASCADE"), nullable=True, index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), nullable=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))
    part_no: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3), default=Decimal("1"))
    unit_code: Mapped[str] = mapped_column(String(8), default="C62")
    unit_label: Mapped[str] = mapped_column(String(12), default="Stk")
    unit_price_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 4), nullable=True)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("19.00"))
    aw: Mapped[Decimal | None] = mapped_column(Numeric(8, 2), nullable=True)
    aw_actual: Mapped[Decimal | None] = mapped_column(Numeric(8, 2), nullable=True)
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    discount_amount_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"), nullable=True)
    mechanic_id: Mapped[int | None] = mapped_column(ForeignKey("mechanic.id", ondelete="SET NULL"), nullable=True)
    proposed: Mapped[bool] = mapped_column(Boolean, default=False)

    estimate: Mapped[Estimate | None] = relationship(back_populates="lines", foreign_keys=[estimate_id])
    work_order: Mapped[WorkOrder | None] = relationship(back_populates="lines", foreign_keys=[work_order_id])


class OrderApproval(Base):
    """The customer's approval of a (higher) amount: when, how, who took it (INV-14)."""

    __tablename__ = "order_approval"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(20))  # phone | in_person | email | sms | chat
    user: Mapped[str] = mapped_column(String(80))
    approved_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    note: Mapped[str] = mapped_column(Text, default="")

    work_order: Mapped[WorkOrder] = relationship(back_populates="approvals")
