"""The service catalogue (Leistungskatalog): labour in AW, typical parts and a price rule."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped


class Service(Timestamped, Base):
    """A catalogue service.

    ``price_rule``: ``aw`` – labour AW × AW price (parts extra); ``fixed`` – fixed net price incl. labour;
    ``from`` – "ab" price: labour by AW, but at least ``price_net``.
    """

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(String(60), index=True)
    name: Mapped[str] = mapped_column(String(160))
    aw: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("0"))
    parts: Mapped[str] = mapped_column(Text, default="")  # typical parts, "|"-separated
    price_rule: Mapped[str] = mapped_column(String(10), default="aw")
    price_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("19.00"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
