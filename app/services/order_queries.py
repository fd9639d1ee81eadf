"""Read model for the order list: one row per work order from ONE query (customer, plate, KVA number and
the line count joined and counted in SQL), instead of loading every order with its lines and totals.

Totals are left out on purpose: an order's net needs the VAT engine (AW × the current rate, discounts
spread over the rates before them), which SQL would only imitate – the editor shows the real figures.
A customer whose data is restricted (Art. 18 DSGVO) appears without a name, as everywhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.db import Database
from app.errors import ValidationError
from app.i18n import _
from app.models import Customer, Estimate, OrderLine, Vehicle, WorkOrder
from app.services.catalog import fold
from app.services.customers import display_name
from app.services.work_order_types import STATUS_LABELS
from app.services.work_orders import STATUSES

__all__ = ["OrderRow", "order_rows"]


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One work order as the list shows it."""

    id: int
    number: str
    date_of_service: dt.date | None
    status: str
    customer_id: int
    customer_name: str
    vehicle_id: int | None
    plate: str
    estimate_number: str
    line_count: int
    customer_wishes: str

    @property
    def status_label(self) -> str:
        """ "Entwurf", "In Arbeit" …"""
        return _(STATUS_LABELS.get(self.status, self.status))

    def matches(self, search: str) -> bool:
        """Every word of ``search`` occurs in the number, the plate (also without blanks and hyphens), the
        customer's name or the KVA number; case and accents do not matter ("muller" finds "Müller")."""
        plate = self.plate.replace("-", "").replace(" ", "")
        haystack = fold(f"{self.number} {self.plate} {plate} {self.customer_name} {self.estimate_number}")
        return all(word in haystack for word in fold(search).split())


def order_rows(db: Database, *, status: str | Iterable[str] | None = None, search: str | None = None) -> list[OrderRow]:
    """Orders newest first, optionally of one status or several, and matching ``search`` (see
    :meth:`OrderRow.matches`)."""
    statuses = None if status is None else ([status] if isinstance(status, str) else list(status))
    unknown = [value for value in statuses or () if value not in STATUSES]
    if unknown:
        raise ValidationError("Unbekannter Auftragsstatus „{status}“.", field="status", status=unknown[0])
    counts = (
        select(OrderLine.work_order_id.label("order_id"), func.count(OrderLine.id).label("lines"))
        .where(OrderLine.work_order_id.is_not(None))
        .group_by(OrderLine.work_order_id)
        .subquery()
    )
    query = (
        select(
            WorkOrder.id,
            WorkOrder.number,
            WorkOrder.date_of_service,
            WorkOrder.status,
            WorkOrder.customer_id,
            Customer.kind,
            Customer.company,
            Customer.first_name,
            Customer.last_name,
            Customer.restricted_at,
            WorkOrder.vehicle_id,
            Vehicle.plate,
            Estimate.number,
            func.coalesce(counts.c.lines, 0),
            WorkOrder.customer_wishes,
        )
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .outerjoin(Vehicle, Vehicle.id == WorkOrder.vehicle_id)
        .outerjoin(Estimate, Estimate.id == WorkOrder.estimate_id)
        .outerjoin(counts, counts.c.order_id == WorkOrder.id)
        .order_by(WorkOrder.id.desc())
    )
    if statuses is not None:
        query = query.where(WorkOrder.status.in_(statuses))
    with db.unit() as s:
        result = s.execute(query).all()
    rows = [_row(values) for values in result]
    return [row for row in rows if row.matches(search)] if search and search.strip() else rows


def _row(values: Any) -> OrderRow:
    (
        order_id,
        number,
        day,
        status,
        customer_id,
        kind,
        company,
        first,
        last,
        restricted_at,
        vehicle_id,
        plate,
        estimate_number,
        line_count,
        wishes,
    ) = values
    name = "" if restricted_at is not None else display_name(kind, company or "", first or "", last or "")
    return OrderRow(
        id=order_id,
        number=number,
        date_of_service=day,
        status=status,
        customer_id=customer_id,
        customer_name=name,
        vehicle_id=vehicle_id,
        plate=plate or "",
        estimate_number=estimate_number or "",
        line_count=int(line_count),
        customer_wishes=wishes or "",
    )
