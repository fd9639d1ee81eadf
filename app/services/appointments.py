"""Appointments: booking per bay and mechanic, conflicts, status changes, free slots and iCalendar export.

Mutations return an ``AppointmentResult`` named tuple ``(appointment, changes)`` so callers get both the
fresh DTO and the ``Changes`` for the view bus (``appt, changes = service.book(data)``).

Rules: an appointment must lie within the workshop's opening hours and not on a public holiday of its
Bundesland unless ``force=True`` (e.g. an agreed Saturday-afternoon repair); it may never overlap another
non-cancelled appointment on the same bay or with the same mechanic — adjacent ones (end == start) are fine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.calendar_rules import OpeningHours, check_open, duration_for_services, format_span, slot_starts
from app.changes import Changes
from app.db import Database
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.i18n import _
from app.models import Appointment, Bay, Customer, Mechanic, Service, Vehicle
from app.services.appointment_ics import PRODID, calendar_bytes
from app.services.appointment_types import (
    _SELECT,
    KEEP,
    AppointmentDTO,
    AppointmentInput,
    AppointmentResult,
    Slot,
    _dtos,
    _get,
    _Keep,
    _local,
    _overlapping,
    _Rules,
    _rules,
)

__all__ = [
    "KEEP",
    "PRODID",
    "STATUSES",
    "TRANSITIONS",
    "AppointmentDTO",
    "AppointmentInput",
    "AppointmentResult",
    "AppointmentService",
    "Slot",
]

STATUSES: Final = frozenset({"pending", "confirmed", "done", "no_show", "cancelled"})
TRANSITIONS: Final = frozenset(
    {
        ("pending", "confirmed"),
        ("pending", "cancelled"),
        ("confirmed", "cancelled"),
        ("confirmed", "done"),
        ("confirmed", "no_show"),
    }
)
_BOOKABLE: Final = frozenset({"pending", "confirmed"})
_CHANGED = Changes(appointments=True)


class AppointmentService:
    """The workshop calendar: each public method is one unit of work on ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- queries -----------------------------------------------------------------------------------

    def opening_hours(self) -> OpeningHours:
        """The workshop's opening hours (the defaults while none are configured)."""
        with self.db.unit() as s:
            return _rules(s).hours

    def get(self, appointment_id: int) -> AppointmentDTO:
        """One appointment; NotFound if it does not exist."""
        with self.db.unit() as s:
            return _dtos(s, [self._load(s, appointment_id)])[0]

    def between(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        bay_id: int | None = None,
        mechanic_id: int | None = None,
        include_cancelled: bool = False,
    ) -> list[AppointmentDTO]:
        """Appointments overlapping [start, end), by start time; optionally of one bay and/or mechanic."""
        query = _SELECT.where(Appointment.start < _local(end), Appointment.end > _local(start))
        if bay_id is not None:
            query = query.where(Appointment.bay_id == bay_id)
        if mechanic_id is not None:
            query = query.where(Appointment.mechanic_id == mechanic_id)
        if not include_cancelled:
            query = query.where(Appointment.status != "cancelled")
        with self.db.unit() as s:
            return _dtos(s, s.scalars(query))

    def day(self, day: dt.date, *, include_cancelled: bool = False) -> list[AppointmentDTO]:
        """The appointments touching ``day``."""
        start = dt.datetime.combine(day, dt.time.min)
        return self.between(start, start + dt.timedelta(days=1), include_cancelled=include_cancelled)

    def week(self, monday: dt.date, *, include_cancelled: bool = False) -> list[AppointmentDTO]:
        """The appointments of the week containing ``monday`` (any day is moved back to its Monday)."""
        start = dt.datetime.combine(monday - dt.timedelta(days=monday.weekday()), dt.time.min)
        return self.between(start, start + dt.timedelta(days=7), include_cancelled=include_cancelled)

    def conflicts(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        bay_id: int | None,
        mechanic_id: int | None,
        ignore_id: int | None = None,
    ) -> list[AppointmentDTO]:
        """Non-cancelled appointments overlapping [start, end) on ``bay_id`` or with ``mechanic_id``."""
        with self.db.unit() as s:
            found = _overlapping(
                s, _local(start), _local(end), bay_id=bay_id, mechanic_id=mechanic_id, ignore_id=ignore_id
            )
            return _dtos(s, found)

    def duration_for(self, service_ids: Sequence[int]) -> dt.timedelta:
        """The booking duration of the services (sum of AW at the workshop's AW per hour, whole slots)."""
        with self.db.unit() as s:
            rules = _rules(s)
            return self._duration(rules, self._services(s, service_ids))

    # --- mutations ---------------------------------------------------------------------------------

    def book(self, data: AppointmentInput, *, force: bool = False) -> AppointmentResult:
        """Book an appointment; ``force`` allows times outside opening hours or on a holiday, never conflicts."""
        if data.status not in _BOOKABLE:
            raise ValidationError(
                "Ein neuer Termin kann nur „pending“ oder „confirmed“ sein, nicht „{status}“.",
                field="status",
                status=data.status,
            )
        title = data.title.strip()
        if len(title) > 160:
            raise ValidationError("Der Titel ist zu lang (höchstens 160 Zeichen).", field="title")
        with self.db.unit() as s:
            rules = _rules(s)
            services = self._services(s, data.service_ids)
            start = _local(data.start)
            if data.end is not None:
                end = _local(data.end)
            elif services:
                end = start + self._duration(rules, services)
            else:
                raise ValidationError("Bitte ein Ende angeben oder mindestens eine Leistung wählen.", field="end")
            if data.bay_id is not None:
                _get(s, Bay, data.bay_id)
            if data.mechanic_id is not None:
                _get(s, Mechanic, data.mechanic_id)
            if data.customer_id is not None:
                _get(s, Customer, data.customer_id)
            customer_id = data.customer_id
            if data.vehicle_id is not None:
                vehicle = _get(s, Vehicle, data.vehicle_id)
                customer_id = customer_id if customer_id is not None else vehicle.customer_id
            self._check(s, rules, start, end, data.bay_id, data.mechanic_id, None, force)
            appt = Appointment(
                start=start,
                end=end,
                bay_id=data.bay_id,
                mechanic_id=data.mechanic_id,
                customer_id=customer_id,
                vehicle_id=data.vehicle_id,
                title=title or ", ".join(sv.name for sv in services)[:160],
                notes=data.notes.strip(),
                status=data.status,
                source=(data.source.strip() or "counter")[:12],
                services=services,
            )
            s.add(appt)
            s.flush()
            return AppointmentResult(_dtos(s, [appt])[0], _CHANGED)

    def move(
        self,
        appointment_id: int,
        *,
        start: dt.datetime,
        end: dt.datetime | None = None,
        bay_id: int | None | _Keep = KEEP,
        mechanic_id: int | None | _Keep = KEEP,
        force: bool = False,
    ) -> AppointmentResult:
        """Move to ``start`` (keeping the duration unless ``end`` is given), optionally to another bay/mechanic."""
        with self.db.unit() as s:
            appt = self._load(s, appointment_id)
            if appt.status not in _BOOKABLE:
                raise InvalidTransition(
                    "Ein Termin mit Status „{status}“ kann nicht mehr verschoben werden.", status=appt.status
                )
            new_start = _local(start)
            new_end = _local(end) if end is not None else new_start + (appt.end - appt.start)
            new_bay = appt.bay_id if isinstance(bay_id, _Keep) else bay_id
            new_mechanic = appt.mechanic_id if isinstance(mechanic_id, _Keep) else mechanic_id
            if new_bay is not None and new_bay != appt.bay_id:
                _get(s, Bay, new_bay)
            if new_mechanic is not None and new_mechanic != appt.mechanic_id:
                _get(s, Mechanic, new_mechanic)
            self._check(s, _rules(s), new_start, new_end, new_bay, new_mechanic, appt.id, force)
            appt.start, appt.end, appt.bay_id, appt.mechanic_id = new_start, new_end, new_bay, new_mechanic
            s.flush()
            return AppointmentResult(_dtos(s, [appt])[0], _CHANGED)

    def set_status(self, appointment_id: int, status: str) -> AppointmentResult:
        """Change the status along ``TRANSITIONS``; InvalidTransition otherwise."""
        return self._transition(appointment_id, status, "")

    def cancel(self, appointment_id: int, reason: str = "") -> AppointmentResult:
        """Cancel (frees the slot); the reason is appended to the notes, as there is no column for it."""
        return self._transition(appointment_id, "cancelled", reason.strip())

    # --- free slots and export ---------------------------------------------------------------------

    def free_slots(
        self,
        *,
        date_from: dt.date,
        days: int,
        duration: dt.timedelta,
        bay_id: int | None = None,
        mechanic_id: int | None = None,
        limit: int = 20,
        earliest: dt.datetime | None = None,
    ) -> list[Slot]:
        """Free slots of ``duration`` on active bays (or ``bay_id``), in time order then bay order.

        Honours opening hours (a slot never spans the lunch break), holidays and existing bookings (and
        ``mechanic_id``'s bookings when given); starts lie on the workshop's time grid; nothing before
        ``earliest`` (pass "now" for the chat).
        """
        if duration <= dt.timedelta(0) or days < 1 or limit < 1:
            raise ValidationError(
                "Dauer, Anzahl Tage und Anzahl Vorschläge müssen größer als 0 sein.", field="duration"
            )
        first = dt.datetime.combine(date_from, dt.time.min)
        last = first + dt.timedelta(days=days)
        with self.db.unit() as s:
            rules = _rules(s)
            if bay_id is not None:
                bays = [(bay_id, _get(s, Bay, bay_id).name)]
            else:
                query = select(Bay.id, Bay.name).where(Bay.active.is_(True)).order_by(Bay.sort, Bay.name)
                bays = [(row.id, row.name) for row in s.execute(query)]
            owners: list[ColumnElement[bool]] = [Appointment.bay_id.in_([b for b, _name in bays])]
            if mechanic_id is not None:
                owners.append(Appointment.mechanic_id == mechanic_id)
            columns = select(Appointment.bay_id, Appointment.mechanic_id, Appointment.start, Appointment.end)
            busy = s.execute(
                columns.where(
                    Appointment.status != "cancelled",
                    Appointment.start < last,
                    Appointment.end > first,
                    or_(*owners),
                )
            ).all()
        not_before = _local(earliest) if earliest is not None else first
        step = dt.timedelta(minutes=rules.slot_minutes)
        slots: list[Slot] = []
        for t in slot_starts(
            rules.hours, rules.bundesland, date_from=date_from, days=days, duration=duration, step=step
        ):
            if t < not_before:
                continue
            t_end = t + duration
            for bid, name in bays:
                if not any(
                    (b == bid or (mechanic_id is not None and m == mechanic_id)) and a < t_end and e > t
                    for b, m, a, e in busy
                ):
                    slots.append(Slot(t, t_end, bid, name))
                    if len(slots) >= limit:
                        return slots
        return slots

    def export_ics(self, path: Path | str | None, *, start: dt.datetime, end: dt.datetime) -> bytes:
        """The non-cancelled appointments overlapping [start, end) as iCalendar; written to ``path`` if given."""
        data = calendar_bytes(self.between(start, end))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    # --- helpers -----------------------------------------------------------------------------------

    def _load(self, s: Session, appointment_id: int) -> Appointment:
        appt = s.scalars(_SELECT.where(Appointment.id == appointment_id)).first()
        if appt is None:
            raise NotFound("Der Termin Nr. {id} wurde nicht gefunden.", id=appointment_id)
        return appt

    def _services(self, s: Session, service_ids: Sequence[int]) -> list[Service]:
        wanted = list(dict.fromkeys(service_ids))
        found = {sv.id: sv for sv in s.scalars(select(Service).where(Service.id.in_(wanted)))}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise NotFound("Die Leistung Nr. {id} wurde nicht gefunden.", id=missing[0])
        return [found[i] for i in wanted]

    @staticmethod
    def _duration(rules: _Rules, services: list[Service]) -> dt.timedelta:
        return duration_for_services(
            [sv.aw for sv in services],
            rules.aw_per_hour,
            slot_minutes=rules.slot_minutes,
            minimum=rules.slot_minutes,
        )

    def _check(
        self,
        s: Session,
        rules: _Rules,
        start: dt.datetime,
        end: dt.datetime,
        bay_id: int | None,
        mechanic_id: int | None,
        ignore_id: int | None,
        force: bool,
    ) -> None:
        """Raise if [start, end) is empty, outside opening hours, on a holiday (unless forced) or taken."""
        if end <= start:
            raise ValidationError(
                "Das Ende ({end}) muss nach dem Beginn ({start}) liegen.",
                field="end",
                start=f"{start:%d.%m.%Y %H:%M}",
                end=f"{end:%d.%m.%Y %H:%M}",
            )
        if not force:
            check_open(rules.hours, rules.bundesland, start, end)
        for other in _dtos(s, _overlapping(s, start, end, bay_id=bay_id, mechanic_id=mechanic_id, ignore_id=ignore_id)):
            params = {
                "when": format_span(other.start, other.end),
                "title": other.label,
                "appointment_id": other.id,
            }
            if bay_id is not None and other.bay_id == bay_id:
                raise ConflictError("„{bay}“ ist bereits belegt: {title} ({when}).", bay=other.bay_name, **params)
            raise ConflictError(
                "{mechanic} hat bereits einen Termin: {title} ({when}).",
                mechanic=other.mechanic_name,
                **params,
            )

    def _transition(self, appointment_id: int, status: str, reason: str) -> AppointmentResult:
        if status not in STATUSES:
            raise ValidationError("Unbekannter Terminstatus „{status}“.", field="status", status=status)
        with self.db.unit() as s:
            appt = self._load(s, appointment_id)
            if (appt.status, status) not in TRANSITIONS:
                raise InvalidTransition(
                    "Ein Termin mit Status „{old}“ kann nicht auf „{new}“ gesetzt werden.",
                    old=appt.status,
                    new=status,
                )
            appt.status = status
            if reason:
                note = _("Storniert: {reason}").format(reason=reason)
                appt.notes = f"{appt.notes}\n{note}" if appt.notes else note
            s.flush()
            return AppointmentResult(_dtos(s, [appt])[0], _CHANGED)
