"""Work order data types and the in-session helpers shared by the work order and estimate services:
loading, creating (number, intake, mileage reading), the DTO with totals, and the KVA overrun (INV-14)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Final, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.changes import Changes
from app.errors import NotFound
from app.i18n import N_, _
from app.models import Estimate, Mechanic, OrderLine, WorkOrder
from app.services.order_lines import LineDTO, Number, Totals, totals_of
from app.services.order_rows import (
    compute_totals_in,
    labour_rate,
    party_names,
    sorted_lines,
    tax_context,
)
from app.services.settings import workshop_row

STATUS_LABELS: Final = {
    "draft": N_("Entwurf"),
    "open": N_("Offen"),
    "in_progress": N_("In Arbeit"),
    "completed": N_("Abgeschlossen"),
    "invoiced": N_("Abgerechnet"),
    "cancelled": N_("Storniert"),
}
APPROVAL_CHANNELS: Final = {
    "phone": N_("Telefon"),
    "in_person": N_("persönlich"),
    "email": N_("E-Mail"),
    "sms": N_("SMS"),
    "chat": N_("Chat"),
}
MILEAGE_SOURCE: Final = "Auftrag"
ORDER_PREFIX: Final = "A"
MAX_FUEL_LEVEL = 10


@dataclass(frozen=True)
class Intake:
    """What the counter records at Auftragsannahme; ``date_of_service`` defaults to today."""

    mileage_in: int | str | None = None
    fuel_level: str = ""
    damage_notes: str = ""
    customer_wishes: str = ""
    approval_phone: str = ""
    approval_limit_gross: Number | None = None
    date_of_service: dt.date | None = None


@dataclass(frozen=True)
class ApprovalDTO:
    """A recorded customer approval: when (UTC, set by the app), how, who took it, which net amount."""

    id: int
    at: dt.datetime
    channel: str
    user: str
    approved_net: Decimal
    note: str

    @property
    def channel_label(self) -> str:
        """ "Telefon", "E-Mail" …"""
        return _(APPROVAL_CHANNELS.get(self.channel, self.channel))


@dataclass(frozen=True)
class OverrunStatus:
    """The order's projected net against its KVA (INV-14).

    ``threshold`` is the allowed overrun in percent (0 for a binding KVA); ``percent`` the actual one
    (None without a KVA or with a KVA of 0 €). ``approved``: an approval covers the projected net.
    """

    estimate_net: Decimal | None
    projected_net: Decimal
    percent: Decimal | None
    threshold: Decimal | None
    exceeded: bool
    approved: bool
    binding: bool = False
    approved_net: Decimal | None = None

    @property
    def blocked(self) -> bool:
        """Invoicing must wait for the customer's approval (the counter's red marker)."""
        return self.exceeded and not self.approved


@dataclass(frozen=True)
class MechanicTime:
    """Target AW (planned labour) against actual AW of one mechanic on one order."""

    mechanic_id: int | None
    mechanic_name: str
    target_aw: Decimal
    actual_aw: Decimal
    lines: int
    lines_without_actual: int

    @property
    def difference(self) -> Decimal:
        """Actual − target: positive means more time than planned."""
        return self.actual_aw - self.target_aw

    @property
    def performance_percent(self) -> Decimal | None:
        """Leistungsgrad = target ÷ actual × 100 (None while nothing is recorded)."""
        if not self.actual_aw:
            return None
        return (self.target_aw / self.actual_aw * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class WorkOrderDTO:
    """A work order with its intake, lines, totals, KVA overrun and approvals."""

    id: int
    number: str
    status: str
    customer_id: int
    customer_name: str
    vehicle_id: int | None
    plate: str
    estimate_id: int | None
    estimate_number: str
    appointment_id: int | None
    bay_id: int | None
    date_of_service: dt.date | None
    mileage_in: int | None
    fuel_level: str
    damage_notes: str
    customer_wishes: str
    approval_phone: str
    approval_limit_gross: Decimal | None
    lines: tuple[LineDTO, ...]
    totals: Totals
    overrun: OverrunStatus
    approvals: tuple[ApprovalDTO, ...]
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def status_label(self) -> str:
        """ "In Arbeit", "Abgeschlossen" …"""
        return _(STATUS_LABELS.get(self.status, self.status))


class OrderResult(NamedTuple):
    """Result of a mutation: the order as stored now, and what changed."""

    order: WorkOrderDTO
    changes: Changes


def load_order(session: Session, order_id: int) -> WorkOrder:
    """The order with lines and approvals, or NotFound."""
    order = session.get(WorkOrder, order_id, options=[selectinload(WorkOrder.lines), selectinload(WorkOrder.approvals)])
    if order is None:
        raise NotFound("Den Auftrag {id} gibt es nicht.", id=order_id)
    return order


def _overrun(session: Session, order: WorkOrder, projected: Decimal) -> OverrunStatus:
    best = max((a.approved_net for a in order.approvals), default=None)
    approved = best is not None and best >= projected
    estimate = session.get(Estimate, order.estimate_id) if order.estimate_id is not None else None
    if estimate is None:
        return OverrunStatus(None, projected, None, None, False, approved, approved_net=best)
    ctx = tax_context(session, estimate.customer_id, estimate.vehicle_id)
    estimate_net = totals_of(sorted_lines(estimate.lines), labour_rate(session), ctx).net
    threshold = Decimal(0) if estimate.binding else workshop_row(session).estimate_overrun_percent
    exceeded = projected > estimate_net * (1 + threshold / 100)
    percent = None
    if estimate_net:
        # Away from zero: a 0.01 € overrun of a binding KVA reads "0,1 %", never "0 %".
        percent = ((projected - estimate_net) / estimate_net * 100).quantize(Decimal("0.1"), rounding=ROUND_UP)
    return OverrunStatus(estimate_net, projected, percent, threshold, exceeded, approved, estimate.binding, best)


def overrun_in(session: Session, order: WorkOrder) -> OverrunStatus:
    """The order against its KVA; projected = the net of all lines, proposed ones included (they are
    what the customer is asked to approve)."""
    ctx = tax_context(session, order.customer_id, order.vehicle_id)
    projected = totals_of(sorted_lines(order.lines), labour_rate(session), ctx).net
    return _overrun(session, order, projected)


def order_dto(session: Session, order: WorkOrder) -> WorkOrderDTO:
    """The DTO of an order (totals via ``app.tax``)."""
    totals, lines = compute_totals_in(session, sorted_lines(order.lines), order.customer_id, order.vehicle_id)
    name, plate = party_names(session, order.customer_id, order.vehicle_id)
    estimate = session.get(Estimate, order.estimate_id) if order.estimate_id is not None else None
    return WorkOrderDTO(
        id=order.id,
        number=order.number,
        status=order.status,
        customer_id=order.customer_id,
        customer_name=name,
        vehicle_id=order.vehicle_id,
        plate=plate,
        estimate_id=order.estimate_id,
        estimate_number=estimate.number if estimate is not None else "",
        appointment_id=order.appointment_id,
        bay_id=order.bay_id,
        date_of_service=order.date_of_service,
        mileage_in=order.mileage_in,
        fuel_level=order.fuel_level,
        damage_notes=order.damage_notes,
        customer_wishes=order.customer_wishes,
        approval_phone=order.approval_phone,
        approval_limit_gross=order.approval_limit_gross,
        lines=lines,
        totals=totals,
        overrun=_overrun(session, order, totals.net),
        approvals=tuple(
            ApprovalDTO(a.id, a.at, a.channel, a.user, a.approved_net, a.note)
            for a in sorted(order.approvals, key=lambda a: (a.at, a.id))
        ),
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def time_report_in(session: Session, order: WorkOrder) -> list[MechanicTime]:
    """Per mechanic: target AW (planned labour) against the actual AW recorded; unassigned last."""
    groups: dict[int | None, list[OrderLine]] = {}
    for row in order.lines:
        if row.kind == "labour":
            groups.setdefault(row.mechanic_id, []).append(row)
    ids = [key for key in groups if key is not None]
    names = {m.id: m.name for m in session.scalars(select(Mechanic).where(Mechanic.id.in_(ids)))} if ids else {}
    report = [
        MechanicTime(
            mechanic_id=key,
            mechanic_name=names.get(key, "") if key is not None else _("nicht zugeordnet"),
            target_aw=sum((row.aw or Decimal(0) for row in rows), Decimal("0.00")),
            actual_aw=sum((row.aw_actual or Decimal(0) for row in rows), Decimal("0.00")),
            lines=len(rows),
            lines_without_actual=sum(1 for row in rows if row.aw_actual is None),
        )
        for key, rows in groups.items()
    ]
    return sorted(report, key=lambda t: (t.mechanic_id is None, t.mechanic_name.casefold()))
