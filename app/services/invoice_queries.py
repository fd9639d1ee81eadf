"""Read models for invoice lists: one row per issued invoice with paid, open amount and status.

The counter's invoice list shows every finalised invoice and Stornorechnung at once (tens of thousands
after a few years) and filters them in memory, so the rows come from ONE query with aggregates –
payments summed per invoice, the highest reminder level, the Storno that cancels an invoice – instead
of one query per invoice. Amounts are summed as integer cents: SQLite would add NUMERIC values as
floats. Status rules (the same as :mod:`app.services.payments`): a cancelled invoice and the Storno
itself are never open; an invoice is overdue when something is open after its due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.orm import aliased

from app.db import Database
from app.i18n import N_, _
from app.models import Customer, Invoice, Payment, Reminder, Vehicle, WorkOrder
from app.services.customers import display_name

STATUSES: Final = ("open", "overdue", "paid", "cancelled", "storno")
STATUS_LABELS: Final = {
    "open": N_("offen"),
    "overdue": N_("überfällig"),
    "paid": N_("bezahlt"),
    "cancelled": N_("storniert"),
    "storno": N_("Stornorechnung"),
}
_CENT: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One issued invoice (or Stornorechnung) as the invoice list shows it.

    ``related_number`` is the Storno of a cancelled invoice, or the invoice a Storno cancels.
    ``reminder_level`` is the highest reminder sent (0 Zahlungserinnerung, 1/2 Mahnung), None if none.
    """

    id: int
    number: str
    kind: str
    issue_date: dt.date | None
    due_date: dt.date | None
    customer_id: int | None
    customer_name: str
    plate: str
    order_number: str
    gross: Decimal
    paid: Decimal
    open: Decimal
    status: str
    days_overdue: int = 0
    reminder_level: int | None = None
    related_number: str = ""

    @property
    def status_label(self) -> str:
        """ "offen", "überfällig", "bezahlt", "storniert" or "Stornorechnung"."""
        return _(STATUS_LABELS.get(self.status, self.status))

    @property
    def payable(self) -> bool:
        """Whether a payment can be recorded (something open, not cancelled)."""
        return self.status in ("open", "overdue") and self.open > 0


def _cents(column: Any) -> Any:
    """An amount column as whole cents (exact integer arithmetic in SQL)."""
    return cast(func.round(column * 100), Integer)


def invoice_rows(db: Database, *, today: dt.date, customer_id: int | None = None) -> list[InvoiceRow]:
    """Every final invoice and Storno, newest first, with paid/open/status computed in one query."""
    paid_sq = (
        select(Payment.invoice_id.label("invoice_id"), func.sum(_cents(Payment.amount)).label("cents"))
        .group_by(Payment.invoice_id)
        .subquery()
    )
    level_sq = (
        select(Reminder.invoice_id.label("invoice_id"), func.max(Reminder.level).label("level"))
        .group_by(Reminder.invoice_id)
        .subquery()
    )
    storno = aliased(Invoice)  # the Storno that cancels the row's invoice
    original = aliased(Invoice)  # the invoice a Storno row cancels
    gross = _cents(Invoice.gross_total)
    paid = func.coalesce(paid_sq.c.cents, 0)
    payable = and_(Invoice.kind == "invoice", storno.id.is_(None))
    open_cents = case((payable, gross - paid), else_=0)
    status = case(
        (Invoice.kind == "storno", "storno"),
        (storno.id.is_not(None), "cancelled"),
        (gross - paid <= 0, "paid"),
        (and_(Invoice.due_date.is_not(None), Invoice.due_date < today), "overdue"),
        else_="open",
    )
    query = (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.kind,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.customer_id,
            Customer.kind,
            Customer.company,
            Customer.first_name,
            Customer.last_name,
            Vehicle.plate,
            WorkOrder.number,
            gross,
            paid,
            open_cents,
            status,
            level_sq.c.level,
            func.coalesce(storno.number, original.number, ""),
        )
        .outerjoin(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(Vehicle, Vehicle.id == Invoice.vehicle_id)
        .outerjoin(WorkOrder, WorkOrder.id == Invoice.work_order_id)
        .outerjoin(paid_sq, paid_sq.c.invoice_id == Invoice.id)
        .outerjoin(level_sq, level_sq.c.invoice_id == Invoice.id)
        .outerjoin(storno, storno.cancels_id == Invoice.id)
        .outerjoin(original, original.id == Invoice.cancels_id)
        .where(Invoice.status == "final")
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    )
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    with db.unit() as s:
        result = s.execute(query).all()
    return [_row(values, today) for values in result]


def _row(values: Any, today: dt.date) -> InvoiceRow:
    (
        invoice_id,
        number,
        kind,
        issued,
        due,
        customer_id,
        customer_kind,
        company,
        first,
        last,
        plate,
        order_number,
        gross,
        paid,
        open_cents,
        status,
        level,
        related,
    ) = values
    name = display_name(customer_kind, company or "", first or "", last or "") if customer_kind else ""
    return InvoiceRow(
        id=invoice_id,
        number=number or "",
        kind=kind,
        issue_date=issued,
        due_date=due,
        customer_id=customer_id,
        customer_name=name,
        plate=plate or "",
        order_number=order_number or "",
        gross=Decimal(gross) * _CENT,
        paid=Decimal(paid) * _CENT,
        open=Decimal(open_cents) * _CENT,
        status=status,
        days_overdue=(today - due).days if status == "overdue" and due is not None else 0,
        reminder_level=level,
        related_number=related or "",
    )
