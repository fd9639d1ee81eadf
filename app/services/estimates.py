"""Kostenvoranschläge (KVA, §2.12): terms, lines, the status machine and the conversion into a work order.

A KVA is binding (works like a fixed price) or not (the order may exceed it by the workshop's threshold,
default 15 %, before the customer must approve – see ``app.services.work_orders``), valid until a date
(default four weeks), and free or charged (only when agreed, §632 Abs. 3 BGB). Status: draft → sent →
accepted | rejected, or accepted/rejected straight from draft (the customer decides at the counter).
Lines can only be changed in draft. Numbers run per year: KVA-2026-0001.

The fee of a charged KVA is not carried into the work order: in practice it is credited against the
repair once the customer places the order. Only a rejected charged KVA is invoiced on its own.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.changes import Changes
from app.db import Database
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.i18n import N_, _
from app.models import Estimate, OrderLine, Service, WorkOrder
from app.services.order_lines import LineDTO, LineInput, Number, Totals, clean_line, line_from_service
from app.services.order_rows import (
    add_line_in,
    check_refs,
    compute_totals_in,
    copy_line,
    customer_in,
    next_number,
    party_names,
    renumber,
    reorder_lines,
    sorted_lines,
    vehicle_in,
    write_line,
)
from app.services.work_order_intake import create_order_in, parse_amount
from app.services.work_order_types import Intake, OrderResult, order_dto

__all__ = ["STATUSES", "STATUS_LABELS", "TRANSITIONS", "EstimateDTO", "EstimateResult", "EstimateService"]

STATUSES: Final = ("draft", "sent", "accepted", "rejected")
STATUS_LABELS: Final = {
    "draft": N_("Entwurf"),
    "sent": N_("Versendet"),
    "accepted": N_("Angenommen"),
    "rejected": N_("Abgelehnt"),
}
TRANSITIONS: Final = frozenset(
    {("draft", "sent"), ("draft", "accepted"), ("sent", "accepted"), ("sent", "rejected"), ("draft", "rejected")}
)
_ACTIONS: Final = {
    "send": ("sent", N_("Ein Kostenvoranschlag im Status „{status}“ kann nicht versendet werden.")),
    "accept": ("accepted", N_("Ein Kostenvoranschlag im Status „{status}“ kann nicht angenommen werden.")),
    "reject": ("rejected", N_("Ein Kostenvoranschlag im Status „{status}“ kann nicht abgelehnt werden.")),
}
VALID_DAYS: Final = 28
PREFIX: Final = "KVA"
_CHANGED: Final = Changes(orders=True)


@dataclass(frozen=True)
class EstimateDTO:
    """A KVA with its terms, lines and totals, and the order made from it (if any)."""

    id: int
    number: str
    status: str
    customer_id: int
    customer_name: str
    vehicle_id: int | None
    plate: str
    binding: bool
    charged: bool
    fee_net: Decimal
    valid_until: dt.date | None
    notes: str
    lines: tuple[LineDTO, ...]
    totals: Totals
    work_order_id: int | None
    work_order_number: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def status_label(self) -> str:
        """ "Entwurf", "Versendet" …"""
        return _(STATUS_LABELS.get(self.status, self.status))

    def is_expired(self, today: dt.date) -> bool:
        """Still open (draft or sent) but past its validity."""
        return self.status in ("draft", "sent") and self.valid_until is not None and self.valid_until < today


class EstimateResult(NamedTuple):
    """Result of a mutation: the KVA as stored now, and what changed."""

    estimate: EstimateDTO
    changes: Changes


def _status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def _load(s: Session, estimate_id: int) -> Estimate:
    row = s.get(Estimate, estimate_id, options=[selectinload(Estimate.lines)])
    if row is None:
        raise NotFound("Den Kostenvoranschlag {id} gibt es nicht.", id=estimate_id)
    return row


def _order_of(s: Session, estimate_id: int) -> WorkOrder | None:
    """The live (not cancelled) order made from the KVA."""
    query = select(WorkOrder).where(WorkOrder.estimate_id == estimate_id, WorkOrder.status != "cancelled")
    return s.scalars(query.order_by(WorkOrder.id)).first()


def _dto(s: Session, row: Estimate) -> EstimateDTO:
    lines = sorted_lines(row.lines)
    totals, line_dtos = compute_totals_in(s, lines, row.customer_id, row.vehicle_id)
    name, plate = party_names(s, row.customer_id, row.vehicle_id)
    order = _order_of(s, row.id)
    return EstimateDTO(
        id=row.id,
        number=row.number,
        status=row.status,
        customer_id=row.customer_id,
        customer_name=name,
        vehicle_id=row.vehicle_id,
        plate=plate,
        binding=row.binding,
        charged=row.charged,
        fee_net=row.fee_net,
        valid_until=row.valid_until,
        notes=row.notes,
        lines=line_dtos,
        totals=totals,
        work_order_id=order.id if order is not None else None,
        work_order_number=order.number if order is not None else "",
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class EstimateService:
    """Use cases of the Kostenvoranschlag; each public method is one unit of work on ``db``."""

    def __init__(self, db: Database, *, today: dt.date | None = None) -> None:
        self._db = db
        self._today = today

    @property
    def today(self) -> dt.date:
        """Today (fixed in tests)."""
        return self._today or dt.date.today()

    # --- queries -----------------------------------------------------------------------------------

    def get(self, estimate_id: int) -> EstimateDTO:
        """One KVA; NotFound if it does not exist."""
        with self._db.unit() as s:
            return _dto(s, _load(s, estimate_id))

    def list(self, *, status: str | None = None, customer_id: int | None = None) -> builtins.list[EstimateDTO]:
        """KVAs, newest first, optionally of one status and/or customer."""
        query = select(Estimate).options(selectinload(Estimate.lines)).order_by(Estimate.id.desc())
        if status is not None:
            query = query.where(Estimate.status == status)
        if customer_id is not None:
            query = query.where(Estimate.customer_id == customer_id)
        with self._db.unit() as s:
            return [_dto(s, row) for row in s.scalars(query)]

    def expired(self, today: dt.date | None = None) -> builtins.list[EstimateDTO]:
        """Open KVAs (draft or sent) whose validity ended before ``today`` – to follow up or close."""
        day = today or self.today
        query = (
            select(Estimate)
            .where(Estimate.status.in_(("draft", "sent")), Estimate.valid_until < day)
            .options(selectinload(Estimate.lines))
            .order_by(Estimate.valid_until, Estimate.id)
        )
        with self._db.unit() as s:
            return [_dto(s, row) for row in s.scalars(query)]

    def totals(self, estimate_id: int) -> Totals:
        """Net per rate, VAT, gross and Altteilsteuer, computed like the later invoice."""
        return self.get(estimate_id).totals

    # --- creating and terms ------------------------------------------------------------------------

    def create(
        self,
        customer_id: int,
        vehicle_id: int | None = None,
        *,
        binding: bool = False,
        charged: bool = False,
        fee_net: Number = Decimal("0.00"),
        valid_until: dt.date | None = None,
        notes: str = "",
        lines: Sequence[LineInput] = (),
    ) -> EstimateResult:
        """A new draft KVA numbered KVA-<year>-nnnn, valid four weeks unless ``valid_until`` says otherwise."""
        fee = self._terms(charged, fee_net, valid_until)
        with self._db.unit() as s:
            customer_in(s, customer_id)
            if vehicle_id is not None:
                vehicle_in(s, vehicle_id)
            row = Estimate(
                number=next_number(s, Estimate.number, f"{PREFIX}-{self.today.year}-", 4),
                customer_id=customer_id,
                vehicle_id=vehicle_id,
                status="draft",
                binding=binding,
                charged=charged,
                fee_net=fee,
                valid_until=valid_until or self.today + dt.timedelta(days=VALID_DAYS),
                notes=notes.strip(),
            )
            s.add(row)
            for line in lines:
                add_line_in(s, row.lines, line)
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    def set_terms(
        self,
        estimate_id: int,
        *,
        binding: bool | None = None,
        charged: bool | None = None,
        fee_net: Number | None = None,
        valid_until: dt.date | None = None,
        notes: str | None = None,
    ) -> EstimateResult:
        """Change binding, charged/fee, validity or notes of a draft; None keeps a value."""
        with self._db.unit() as s:
            row = self._draft(s, estimate_id)
            new_charged = row.charged if charged is None else charged
            fee = self._terms(new_charged, row.fee_net if fee_net is None else fee_net, valid_until)
            row.charged, row.fee_net = new_charged, fee
            row.binding = row.binding if binding is None else binding
            row.valid_until = valid_until or row.valid_until
            row.notes = row.notes if notes is None else notes.strip()
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    def _terms(self, charged: bool, fee_net: Number, valid_until: dt.date | None) -> Decimal:
        fee = parse_amount(fee_net, field="fee_net")
        if charged and not fee:
            raise ValidationError(
                "Für einen kostenpflichtigen Kostenvoranschlag bitte die vereinbarte Gebühr angeben.", field="fee_net"
            )
        if fee and not charged:
            raise ValidationError(
                "Eine Gebühr gibt es nur, wenn der Kostenvoranschlag als kostenpflichtig vereinbart ist "
                "(§ 632 Abs. 3 BGB).",
                field="fee_net",
            )
        if valid_until is not None and valid_until < self.today:
            raise ValidationError("Das Gültigkeitsdatum liegt in der Vergangenheit.", field="valid_until")
        return fee

    # --- lines -------------------------------------------------------------------------------------

    def add_line(self, estimate_id: int, line: LineInput) -> EstimateResult:
        """Append a line to a draft."""
        with self._db.unit() as s:
            row = self._draft(s, estimate_id)
            add_line_in(s, row.lines, line)
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    def add_service(self, estimate_id: int, service_id: int, quantity: Number = 1) -> EstimateResult:
        """Append a catalogue service (AW or fixed price filled in)."""
        with self._db.unit() as s:
            row = self._draft(s, estimate_id)
            service = s.get(Service, service_id)
            if service is None:
                raise NotFound("Die Leistung {id} gibt es nicht.", id=service_id)
            add_line_in(s, row.lines, line_from_service(service, quantity))
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    def update_line(self, line_id: int, line: LineInput) -> EstimateResult:
        """Replace a line's fields."""
        with self._db.unit() as s:
            item, row = self._line(s, line_id)
            clean = clean_line(line, item.position - 1)
            check_refs(s, clean, item.position - 1)
            write_line(item, clean)
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    def remove_line(self, line_id: int) -> EstimateResult:
        """Remove a line; the positions close up."""
        with self._db.unit() as s:
            item, row = self._line(s, line_id)
            row.lines.remove(item)
            renumber(row.lines)
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    def reorder(self, estimate_id: int, line_ids: Sequence[int]) -> EstimateResult:
        """Put the lines into the order of ``line_ids`` (each line exactly once)."""
        with self._db.unit() as s:
            row = self._draft(s, estimate_id)
            reorder_lines(row.lines, line_ids)
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    # --- status ------------------------------------------------------------------------------------

    def send(self, estimate_id: int) -> EstimateResult:
        """draft → sent (handed or mailed to the customer)."""
        return self._step(estimate_id, "send")

    def accept(self, estimate_id: int) -> EstimateResult:
        """draft/sent → accepted: the customer places the order."""
        return self._step(estimate_id, "accept")

    def reject(self, estimate_id: int) -> EstimateResult:
        """draft/sent → rejected."""
        return self._step(estimate_id, "reject")

    def convert_to_order(self, estimate_id: int, intake: Intake | None = None) -> OrderResult:
        """An accepted KVA becomes a work order linked to it, its lines copied as they are (DOM-04).

        The KVA fee is not added to the order (credited in practice, see the module docstring). A KVA
        converts once; after the order was cancelled it may convert again.
        """
        with self._db.unit() as s:
            row = _load(s, estimate_id)
            if row.status != "accepted":
                raise InvalidTransition(
                    "Nur ein angenommener Kostenvoranschlag wird zum Auftrag – dieser hat den Status „{status}“.",
                    status=_status_label(row.status),
                )
            existing = _order_of(s, row.id)
            if existing is not None:
                raise ConflictError(
                    "Aus dem Kostenvoranschlag {estimate} wurde schon der Auftrag {order} erstellt.",
                    estimate=row.number,
                    order=existing.number,
                )
            order = create_order_in(
                s,
                customer_id=row.customer_id,
                vehicle_id=row.vehicle_id,
                intake=intake or Intake(),
                today=self.today,
                estimate_id=row.id,
            )
            order.lines.extend(copy_line(item) for item in sorted_lines(row.lines))
            s.flush()
            return OrderResult(order_dto(s, order), _CHANGED | Changes(vehicles=order.mileage_in is not None))

    # --- helpers -----------------------------------------------------------------------------------

    def _step(self, estimate_id: int, action: str) -> EstimateResult:
        target, refusal = _ACTIONS[action]
        with self._db.unit() as s:
            row = _load(s, estimate_id)
            if (row.status, target) not in TRANSITIONS:
                raise InvalidTransition(refusal, status=_status_label(row.status))
            if target != "rejected" and not row.lines:
                raise ValidationError(
                    "Der Kostenvoranschlag {number} hat noch keine Positionen.", field="lines", number=row.number
                )
            row.status = target
            s.flush()
            return EstimateResult(_dto(s, row), _CHANGED)

    @staticmethod
    def _draft(s: Session, estimate_id: int) -> Estimate:
        row = _load(s, estimate_id)
        if row.status != "draft":
            raise InvalidTransition(
                "Ein Kostenvoranschlag im Status „{status}“ kann nicht mehr geändert werden.",
                status=_status_label(row.status),
            )
        return row

    def _line(self, s: Session, line_id: int) -> tuple[OrderLine, Estimate]:
        item = s.get(OrderLine, line_id)
        if item is None or item.estimate_id is None:
            raise NotFound("Die Position {id} gibt es in keinem Kostenvoranschlag.", id=line_id)
        return item, self._draft(s, item.estimate_id)
