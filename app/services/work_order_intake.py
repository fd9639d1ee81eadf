"""Creating work orders inside a unit of work: number, intake checks (also when the intake is corrected
later), the intake mileage reading, orders from appointments; and the parsers for amounts the counter
types (approved net, actual AW)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import validation
from app.errors import ConflictError, NotFound, ValidationError
from app.models import Appointment, Mechanic, MileageReading, Vehicle, WorkOrder
from app.money import decimal_places, parse_decimal
from app.services.order_lines import MAX_AW, Number, line_from_service
from app.services.order_rows import add_line_in, customer_in, next_number, vehicle_in
from app.services.work_order_types import Intake
from app.vehicle_rules import check_mileage_sequence, validate_mileage

MILEAGE_SOURCE: Final = "Auftrag"
ORDER_PREFIX: Final = "A"
MAX_FUEL_LEVEL: Final = 10


def parse_amount(value: Number, *, field: str, maximum: Decimal | None = None) -> Decimal:
    """A non-negative amount with at most 2 decimals (German "1.234,50" accepted)."""
    try:
        amount = parse_decimal(value)
    except ValueError as exc:
        raise ValidationError("„{value}“ ist keine Zahl.", field=field, value=value) from exc
    if not amount.is_finite() or amount < 0 or decimal_places(amount.normalize()) > 2:
        raise ValidationError("Der Wert darf nicht negativ sein (höchstens 2 Nachkommastellen).", field=field)
    if maximum is not None and amount > maximum:
        raise ValidationError("Der Wert darf höchstens {maximum} sein.", field=field, maximum=maximum)
    return amount


def parse_aw(value: Number, *, field: str = "aw_actual") -> Decimal:
    """AW between 0 and 1,000 with at most 2 decimals."""
    return parse_amount(value, field=field, maximum=MAX_AW)


def _limit(value: Number | None) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_amount(value, field="approval_limit_gross")


def _record_mileage(vehicle: Vehicle, km: int | str, day: dt.date) -> int:
    """Append the intake reading to the vehicle's history; never lower than the last one (no Tachotausch
    here – that is recorded at the vehicle with its explicit flag)."""
    last = max(vehicle.mileages, key=lambda m: (m.date, m.id or 0), default=None)
    previous = last.km if last is not None else None
    value = check_mileage_sequence(previous, km, field="mileage_in")  # type: ignore[arg-type]
    if value != previous:
        vehicle.mileages.append(MileageReading(date=day, km=value, source=MILEAGE_SOURCE))
    return value


def write_intake_in(order: WorkOrder, vehicle: Vehicle | None, intake: Intake, day: dt.date) -> bool:
    """Validate ``intake`` and write it onto ``order`` (a new one or one being corrected); returns whether
    a mileage reading was added to the vehicle's history.

    A mileage that differs from the order's goes into the history when it is higher than the vehicle's last
    reading (equal: nothing to add); lower is refused at ``mileage_in``. An empty mileage keeps the one
    recorded – readings are history and are not taken back here.
    """
    if len(intake.fuel_level.strip()) > MAX_FUEL_LEVEL:
        raise ValidationError("Der Tankfüllstand ist zu lang (höchstens 10 Zeichen).", field="fuel_level")
    phone = validation.phone(intake.approval_phone, field="approval_phone")
    limit = _limit(intake.approval_limit_gross)
    added = False
    if intake.mileage_in is not None and str(intake.mileage_in).strip():
        if vehicle is None:
            raise ValidationError("Ohne Fahrzeug kann kein Kilometerstand erfasst werden.", field="mileage_in")
        value = validate_mileage(intake.mileage_in, field="mileage_in")
        if value != order.mileage_in:
            readings = len(vehicle.mileages)
            order.mileage_in = _record_mileage(vehicle, value, day)
            added = len(vehicle.mileages) > readings
    order.fuel_level = intake.fuel_level.strip()
    order.damage_notes = intake.damage_notes.strip()
    order.customer_wishes = intake.customer_wishes.strip()
    order.approval_phone = phone
    order.approval_limit_gross = limit
    return added


def create_order_in(
    session: Session,
    *,
    customer_id: int,
    vehicle_id: int | None,
    intake: Intake,
    today: dt.date,
    estimate_id: int | None = None,
) -> WorkOrder:
    """A new draft order numbered A-<year>-nnnnn, with the intake validated and the mileage recorded."""
    customer_in(session, customer_id)
    vehicle = vehicle_in(session, vehicle_id) if vehicle_id is not None else None
    day = intake.date_of_service or today
    order = WorkOrder(customer_id=customer_id, vehicle_id=vehicle_id, estimate_id=estimate_id, status="draft")
    order.date_of_service = day
    write_intake_in(order, vehicle, intake, day)
    order.number = next_number(session, WorkOrder.number, f"{ORDER_PREFIX}-{today.year}-", 5)
    session.add(order)
    session.flush()
    return order


def order_from_appointment_in(session: Session, appointment_id: int, intake: Intake, today: dt.date) -> WorkOrder:
    """A draft order from an appointment: its customer (or the vehicle's owner), vehicle and bay; its
    services become lines, labour assigned to the appointment's mechanic while that one is active."""
    appt = session.get(Appointment, appointment_id, options=[selectinload(Appointment.services)])
    if appt is None:
        raise NotFound("Den Termin {id} gibt es nicht.", id=appointment_id)
    if appt.status in ("cancelled", "no_show"):
        raise ValidationError(
            "Aus einem abgesagten oder nicht wahrgenommenen Termin wird kein Auftrag.", field="appointment_id"
        )
    existing = session.scalar(
        select(WorkOrder.number).where(WorkOrder.appointment_id == appt.id, WorkOrder.status != "cancelled")
    )
    if existing is not None:
        raise ConflictError("Zu diesem Termin gibt es schon den Auftrag {number}.", number=existing)
    customer_id = appt.customer_id
    if customer_id is None and appt.vehicle_id is not None:
        vehicle = session.get(Vehicle, appt.vehicle_id)
        customer_id = vehicle.customer_id if vehicle is not None else None
    if customer_id is None:
        raise ValidationError("Der Termin hat keinen Kunden – bitte zuerst einen Kunden zuordnen.", field="customer_id")
    order = create_order_in(session, customer_id=customer_id, vehicle_id=appt.vehicle_id, intake=intake, today=today)
    order.appointment_id, order.bay_id = appt.id, appt.bay_id
    mechanic = session.get(Mechanic, appt.mechanic_id) if appt.mechanic_id is not None else None
    mechanic_id = mechanic.id if mechanic is not None and mechanic.active else None
    for service in appt.services:
        line = line_from_service(service)
        add_line_in(session, order.lines, replace(line, mechanic_id=mechanic_id) if line.kind == "labour" else line)
    session.flush()
    return order
