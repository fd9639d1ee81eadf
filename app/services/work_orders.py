"""Work orders (Werkstattauftrag): intake, lines, mechanics' time, the KVA overrun check and the status machine.

Status: draft → open (intake done) → in_progress → completed → invoiced; completed → in_progress (reopen);
invoiced → completed when the invoice is cancelled (Storno, then a new invoice);
draft/open/in_progress → cancelled. Lines can be changed until the order is completed (reopen to change
more). An order made from a Kostenvoranschlag is checked against it (INV-14, §2.12): a non-binding KVA
may be exceeded by ``Workshop.estimate_overrun_percent`` (default 15 %), a binding one not at all; beyond
that the order can only be invoiced once the customer's approval of at least the projected net is
recorded (time, channel, who). The invoicing service calls :func:`check_invoiceable` and
:func:`mark_invoiced_in` inside its own transaction.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import formatting
from app.changes import Changes
from app.db import Database
from app.errors import InvalidTransition, NotFound, ValidationError
from app.i18n import N_, _
from app.models import Appointment, Mechanic, OrderApproval, OrderLine, Service, Vehicle, WorkOrder
from app.services.order_lines import LineInput, Number, Totals, clean_line, line_from_service
from app.services.order_rows import add_line_in, check_refs, renumber, reorder_lines, sorted_lines, write_line
from app.services.work_order_intake import (
    create_order_in,
    order_from_appointment_in,
    parse_amount,
    parse_aw,
    write_intake_in,
)
from app.services.work_order_types import (
    APPROVAL_CHANNELS,
    STATUS_LABELS,
    ApprovalDTO,
    Intake,
    MechanicTime,
    OrderResult,
    OverrunStatus,
    WorkOrderDTO,
    load_order,
    order_dto,
    overrun_in,
    time_report_in,
)

__all__ = [
    "APPROVAL_CHANNELS",
    "EDITABLE",
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "ApprovalDTO",
    "Intake",
    "MechanicTime",
    "OrderResult",
    "OverrunStatus",
    "WorkOrderDTO",
    "WorkOrderService",
    "check_invoiceable",
    "mark_invoiced_in",
    "invoice_cancelled_in",
]

STATUSES: Final = ("draft", "open", "in_progress", "completed", "invoiced", "cancelled")
TRANSITIONS: Final = frozenset(
    {
        ("draft", "open"),
        ("open", "in_progress"),
        ("in_progress", "completed"),
        ("completed", "in_progress"),
        ("draft", "cancelled"),
        ("open", "cancelled"),
        ("in_progress", "cancelled"),
        ("completed", "invoiced"),
        # Its invoice was cancelled by a Stornorechnung: the order can be invoiced anew (a new invoice).
        ("invoiced", "completed"),
    }
)
EDITABLE: Final = frozenset({"draft", "open", "in_progress"})
OPEN_STATUSES: Final = ("draft", "open", "in_progress", "completed")
# action → (the statuses it starts from, its target); start and reopen share a target.
_ACTIONS: Final = {
    "open": (frozenset({"draft"}), "open"),
    "start": (frozenset({"open"}), "in_progress"),
    "complete": (frozenset({"in_progress"}), "completed"),
    "reopen": (frozenset({"completed"}), "in_progress"),
    "cancel": (frozenset({"draft", "open", "in_progress"}), "cancelled"),
    "mark_invoiced": (frozenset({"completed"}), "invoiced"),
    "invoice_cancelled": (frozenset({"invoiced"}), "completed"),
}
_REFUSALS: Final = {
    "open": N_("Ein Auftrag im Status „{status}“ kann nicht eröffnet werden."),
    "start": N_("Ein Auftrag im Status „{status}“ kann nicht begonnen werden."),
    "complete": N_("Ein Auftrag im Status „{status}“ kann nicht abgeschlossen werden."),
    "reopen": N_("Ein Auftrag im Status „{status}“ kann nicht wieder geöffnet werden."),
    "cancel": N_("Ein Auftrag im Status „{status}“ kann nicht storniert werden."),
    "mark_invoiced": N_("Ein Auftrag im Status „{status}“ kann nicht abgerechnet werden."),
    "invoice_cancelled": N_("Ein Auftrag im Status „{status}“ hat keine Rechnung, die storniert werden könnte."),
}
_CHANGED: Final = Changes(orders=True)


def _status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def _target(order: WorkOrder, action: str) -> str:
    """The status ``action`` leads to from the order's status; InvalidTransition if it may not."""
    sources, target = _ACTIONS[action]
    if order.status not in sources or (order.status, target) not in TRANSITIONS:
        raise InvalidTransition(_REFUSALS[action], status=_status_label(order.status))
    return target


def check_invoiceable(session: Session, order_id: int) -> None:
    """Raise ValidationError unless the order is completed and within its KVA or approved (INV-14)."""
    order = load_order(session, order_id)
    if order.status != "completed":
        raise ValidationError(
            "Nur abgeschlossene Aufträge können abgerechnet werden – der Auftrag {number} hat den Status „{status}“.",
            field="status",
            number=order.number,
            status=_status_label(order.status),
        )
    overrun = overrun_in(session, order)
    if not overrun.blocked:
        return
    if overrun.percent is None:
        raise ValidationError(
            "Der Auftrag überschreitet den Kostenvoranschlag – bitte zuerst die Zustimmung des Kunden erfassen "
            "(Zeit, Weg, Mitarbeiter).",
            field="approval",
        )
    raise ValidationError(
        "Der Auftrag überschreitet den Kostenvoranschlag um {percent} % – bitte zuerst die Zustimmung des Kunden "
        "erfassen (Zeit, Weg, Mitarbeiter).",
        field="approval",
        percent=formatting.number(overrun.percent, 1),
    )


def mark_invoiced_in(session: Session, order_id: int) -> None:
    """completed → invoiced inside the caller's transaction (the invoice is finalised there)."""
    order = load_order(session, order_id)
    target = _target(order, "mark_invoiced")
    # Again here, not only when the draft was made: the order may have been reopened and extended since.
    check_invoiceable(session, order_id)
    order.status = target
    session.flush()


def invoice_cancelled_in(session: Session, order_id: int) -> None:
    """invoiced → completed inside the caller's transaction, when the order's invoice gets a Stornorechnung."""
    order = load_order(session, order_id)
    order.status = _target(order, "invoice_cancelled")
    session.flush()


class WorkOrderService:
    """Use cases of work orders; each public method is one unit of work on ``db``."""

    def __init__(self, db: Database, *, today: dt.date | None = None) -> None:
        self._db = db
        self._today = today

    @property
    def today(self) -> dt.date:
        """Today (fixed in tests)."""
        return self._today or dt.date.today()

    # --- queries -----------------------------------------------------------------------------------

    def get(self, order_id: int) -> WorkOrderDTO:
        """One order with lines, totals and overrun status; NotFound if it does not exist."""
        with self._db.unit() as s:
            return order_dto(s, load_order(s, order_id))

    def list(
        self, *, status: str | None = None, customer_id: int | None = None, vehicle_id: int | None = None
    ) -> builtins.list[WorkOrderDTO]:
        """Orders, newest first, optionally of one status, customer and/or vehicle."""
        if status is not None and status not in STATUSES:
            raise ValidationError("Unbekannter Auftragsstatus „{status}“.", field="status", status=status)
        query = select(WorkOrder).options(selectinload(WorkOrder.lines), selectinload(WorkOrder.approvals))
        if status is not None:
            query = query.where(WorkOrder.status == status)
        if customer_id is not None:
            query = query.where(WorkOrder.customer_id == customer_id)
        if vehicle_id is not None:
            query = query.where(WorkOrder.vehicle_id == vehicle_id)
        with self._db.unit() as s:
            return [order_dto(s, row) for row in s.scalars(query.order_by(WorkOrder.id.desc()))]

    def open_for_vehicle(self, vehicle_id: int) -> builtins.list[WorkOrderDTO]:
        """The vehicle's orders that are neither invoiced nor cancelled (the vehicle card shows them)."""
        query = (
            select(WorkOrder)
            .where(WorkOrder.vehicle_id == vehicle_id, WorkOrder.status.in_(OPEN_STATUSES))
            .options(selectinload(WorkOrder.lines), selectinload(WorkOrder.approvals))
            .order_by(WorkOrder.id.desc())
        )
        with self._db.unit() as s:
            return [order_dto(s, row) for row in s.scalars(query)]

    def totals(self, order_id: int) -> Totals:
        """Net per rate, VAT, gross and Altteilsteuer of all lines (proposed ones included)."""
        return self.get(order_id).totals

    def overrun(self, order_id: int) -> OverrunStatus:
        """The order against its KVA (INV-14)."""
        with self._db.unit() as s:
            return overrun_in(s, load_order(s, order_id))

    def check_invoiceable(self, session: Session, order_id: int) -> None:
        """See :func:`check_invoiceable` – runs in the caller's ``session``."""
        check_invoiceable(session, order_id)

    def mark_invoiced_in(self, session: Session, order_id: int) -> None:
        """See :func:`mark_invoiced_in` – runs in the caller's ``session``."""
        mark_invoiced_in(session, order_id)

    def time_report(self, order_id: int) -> builtins.list[MechanicTime]:
        """Per mechanic: target AW (planned labour) against the actual AW recorded; unassigned last."""
        with self._db.unit() as s:
            return time_report_in(s, load_order(s, order_id))

    # --- creating ----------------------------------------------------------------------------------

    def create(
        self,
        customer_id: int,
        vehicle_id: int | None,
        appointment_id: int | None = None,
        intake: Intake | None = None,
        *,
        lines: Sequence[LineInput] = (),
    ) -> OrderResult:
        """A new draft order; ``intake.mileage_in`` goes into the vehicle's mileage history (source "Auftrag")."""
        with self._db.unit() as s:
            if appointment_id is not None and s.get(Appointment, appointment_id) is None:
                raise NotFound("Den Termin {id} gibt es nicht.", id=appointment_id)
            order = create_order_in(
                s, customer_id=customer_id, vehicle_id=vehicle_id, intake=intake or Intake(), today=self.today
            )
            order.appointment_id = appointment_id
            for line in lines:
                add_line_in(s, order.lines, line)
            s.flush()
            return self._result(s, order, vehicles=order.mileage_in is not None)

    def create_from_appointment(self, appointment_id: int, intake: Intake | None = None) -> OrderResult:
        """ "Neuer Auftrag" from an appointment: its customer, vehicle, bay, and its services as lines
        (labour gets the appointment's mechanic)."""
        with self._db.unit() as s:
            order = order_from_appointment_in(s, appointment_id, intake or Intake(), self.today)
            return self._result(s, order, vehicles=order.mileage_in is not None)

    def update_intake(self, order_id: int, intake: Intake) -> OrderResult:
        """Correct the intake data while the order is draft, open or in progress, checked as at creation.

        A changed mileage is added to the vehicle's history only when it is higher than the last reading;
        lower is refused at ``mileage_in`` (the history only grows here; a Tachotausch is recorded at the
        vehicle). An empty mileage keeps the recorded one; ``date_of_service`` None keeps it.
        """
        with self._db.unit() as s:
            order = self._editable(s, order_id)
            vehicle = s.get(Vehicle, order.vehicle_id) if order.vehicle_id is not None else None
            order.date_of_service = intake.date_of_service or order.date_of_service
            added = write_intake_in(order, vehicle, intake, order.date_of_service or self.today)
            s.flush()
            return self._result(s, order, vehicles=added)

    # --- status ------------------------------------------------------------------------------------

    def open(self, order_id: int) -> OrderResult:
        """draft → open: the intake is done, the car is on site."""
        return self._step(order_id, "open")

    def start(self, order_id: int) -> OrderResult:
        """open → in_progress: work has begun."""
        return self._step(order_id, "start")

    def complete(self, order_id: int) -> OrderResult:
        """in_progress → completed; refused while lines proposed by diagnostics are still undecided."""
        with self._db.unit() as s:
            order = load_order(s, order_id)
            target = _target(order, "complete")
            undecided = [row.position for row in sorted_lines(order.lines) if row.proposed]
            if undecided:
                raise ValidationError(
                    "Position {positions} ist nur vorgeschlagen – bitte bestätigen oder entfernen, bevor der Auftrag "
                    "abgeschlossen wird.",
                    field="lines",
                    positions=", ".join(str(p) for p in undecided),
                )
            order.status = target
            s.flush()
            return self._result(s, order)

    def reopen(self, order_id: int) -> OrderResult:
        """completed → in_progress, e.g. to add work before invoicing."""
        return self._step(order_id, "reopen")

    def cancel(self, order_id: int) -> OrderResult:
        """draft/open/in_progress → cancelled."""
        return self._step(order_id, "cancel")

    def mark_invoiced(self, order_id: int) -> OrderResult:
        """completed → invoiced as its own unit of work (the invoicing service uses :func:`mark_invoiced_in`)."""
        with self._db.unit() as s:
            mark_invoiced_in(s, order_id)
            return self._result(s, load_order(s, order_id))

    def _step(self, order_id: int, action: str) -> OrderResult:
        with self._db.unit() as s:
            order = load_order(s, order_id)
            order.status = _target(order, action)
            s.flush()
            return self._result(s, order)

    # --- lines -------------------------------------------------------------------------------------

    def add_line(self, order_id: int, line: LineInput) -> OrderResult:
        """Append a line (``proposed=True`` for work suggested by diagnostics)."""
        with self._db.unit() as s:
            order = self._editable(s, order_id)
            add_line_in(s, order.lines, line)
            s.flush()
            return self._result(s, order)

    def add_service(
        self, order_id: int, service_id: int, quantity: Number = 1, *, proposed: bool = False
    ) -> OrderResult:
        """Append a catalogue service: AW (or the fixed price) filled in from the catalogue."""
        with self._db.unit() as s:
            order = self._editable(s, order_id)
            service = s.get(Service, service_id)
            if service is None:
                raise NotFound("Die Leistung {id} gibt es nicht.", id=service_id)
            if not service.active:
                raise ValidationError("Die Leistung „{name}“ ist deaktiviert.", field="service_id", name=service.name)
            line = line_from_service(service, quantity)
            add_line_in(s, order.lines, replace(line, proposed=proposed))
            s.flush()
            return self._result(s, order)

    def update_line(self, line_id: int, line: LineInput) -> OrderResult:
        """Replace a line's fields (the recorded actual AW stay)."""
        with self._db.unit() as s:
            row, order = self._line(s, line_id)
            clean = clean_line(line, row.position - 1)
            check_refs(s, clean, row.position - 1)
            write_line(row, clean)
            s.flush()
            return self._result(s, order)

    def confirm_line(self, line_id: int) -> OrderResult:
        """The customer agreed to a proposed line: it becomes a normal line."""
        with self._db.unit() as s:
            row, order = self._line(s, line_id)
            row.proposed = False
            s.flush()
            return self._result(s, order)

    def remove_line(self, line_id: int) -> OrderResult:
        """Remove a line; the positions close up."""
        with self._db.unit() as s:
            row, order = self._line(s, line_id)
            order.lines.remove(row)
            renumber(order.lines)
            s.flush()
            return self._result(s, order)

    def reorder(self, order_id: int, line_ids: Sequence[int]) -> OrderResult:
        """Put the lines into the order of ``line_ids`` (each line exactly once)."""
        with self._db.unit() as s:
            order = self._editable(s, order_id)
            reorder_lines(order.lines, line_ids)
            s.flush()
            return self._result(s, order)

    def assign_mechanic(self, line_id: int, mechanic_id: int | None) -> OrderResult:
        """Give a labour line to a mechanic (None removes the assignment)."""
        with self._db.unit() as s:
            row, order = self._line(s, line_id, labour=True)
            if mechanic_id is not None:
                mechanic = s.get(Mechanic, mechanic_id)
                if mechanic is None or not mechanic.active:
                    raise ValidationError(
                        "Den Monteur {id} gibt es nicht (oder er ist deaktiviert).", field="mechanic_id", id=mechanic_id
                    )
            row.mechanic_id = mechanic_id
            s.flush()
            return self._result(s, order)

    def record_actual_aw(self, line_id: int, aw: Number | None) -> OrderResult:
        """The AW the mechanic actually needed for a labour line (None clears it)."""
        actual = None if aw is None else parse_aw(aw)
        with self._db.unit() as s:
            row, order = self._line(s, line_id, labour=True)
            row.aw_actual = actual
            s.flush()
            return self._result(s, order)

    # --- approvals ---------------------------------------------------------------------------------

    def record_approval(
        self, order_id: int, channel: str, user: str, approved_net: Number | None = None, note: str = ""
    ) -> OrderResult:
        """Record the customer's approval (INV-14): now, over ``channel``, taken by ``user``; the approved
        net defaults to the current projected net."""
        if channel not in APPROVAL_CHANNELS:
            raise ValidationError(
                "Unbekannter Weg „{channel}“ – erlaubt: {channels}.",
                field="channel",
                channel=channel,
                channels=", ".join(APPROVAL_CHANNELS),
            )
        user = user.strip()
        if not user or len(user) > 80:
            raise ValidationError("Bitte angeben, wer die Zustimmung entgegengenommen hat.", field="user")
        amount = None if approved_net is None else parse_amount(approved_net, field="approved_net")
        with self._db.unit() as s:
            order = load_order(s, order_id)
            if order.status in ("invoiced", "cancelled"):
                raise InvalidTransition(
                    "Für einen Auftrag im Status „{status}“ kann keine Zustimmung mehr erfasst werden.",
                    status=_status_label(order.status),
                )
            if amount is None:
                amount = overrun_in(s, order).projected_net
            order.approvals.append(OrderApproval(channel=channel, user=user, approved_net=amount, note=note.strip()))
            s.flush()
            return self._result(s, order)

    # --- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _editable(s: Session, order_id: int) -> WorkOrder:
        order = load_order(s, order_id)
        if order.status not in EDITABLE:
            raise InvalidTransition(
                "Ein Auftrag im Status „{status}“ kann nicht mehr geändert werden.", status=_status_label(order.status)
            )
        return order

    def _line(self, s: Session, line_id: int, *, labour: bool = False) -> tuple[OrderLine, WorkOrder]:
        row = s.get(OrderLine, line_id)
        if row is None or row.work_order_id is None:
            raise NotFound("Die Auftragsposition {id} gibt es nicht.", id=line_id)
        order = self._editable(s, row.work_order_id)
        if labour and row.kind != "labour":
            raise ValidationError(
                "Monteure und Ist-AW gibt es nur bei Arbeitspositionen (Position {position}).",
                field="line_id",
                position=row.position,
            )
        return row, order

    @staticmethod
    def _result(s: Session, order: WorkOrder, *, vehicles: bool = False) -> OrderResult:
        return OrderResult(order_dto(s, order), _CHANGED | Changes(vehicles=vehicles))
