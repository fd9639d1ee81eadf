"""Appointment data types and the read helpers shared by the appointment service and its exports."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.calendar_rules import DEFAULT_OPENING_HOURS, WORKSHOP_TZ, OpeningHours, parse_opening_hours
from app.changes import Changes
from app.errors import NotFound, ValidationError
from app.i18n import N_, _
from app.models import Appointment, Base, Bay, Customer, Mechanic, Service, Vehicle, Workshop


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""Sentinel for ``move``: leave the bay or mechanic as it is (``None`` removes it)."""


@dataclass(frozen=True)
class AppointmentInput:
    """What the counter (or the chat) enters; without ``end`` the duration comes from the services' AW."""

    start: dt.datetime
    end: dt.datetime | None = None
    bay_id: int | None = None
    mechanic_id: int | None = None
    customer_id: int | None = None
    vehicle_id: int | None = None
    service_ids: Sequence[int] = ()
    title: str = ""
    notes: str = ""
    status: str = "confirmed"
    source: str = "counter"


@dataclass(frozen=True)
class AppointmentDTO:
    """An appointment with the names a calendar shows."""

    id: int
    start: dt.datetime
    end: dt.datetime
    title: str
    notes: str
    status: str
    source: str
    bay_id: int | None
    bay_name: str
    mechanic_id: int | None
    mechanic_name: str
    customer_id: int | None
    customer_name: str
    vehicle_id: int | None
    plate: str
    service_ids: tuple[int, ...]
    service_names: tuple[str, ...]
    updated_at: dt.datetime

    @property
    def label(self) -> str:
        """ "M-AB 123 – Inspektion", as calendar cells and the ICS summary show it."""
        return " – ".join(p for p in (self.plate, self.title) if p) or _("Termin")


@dataclass(frozen=True)
class Slot:
    """A free slot on a bay."""

    start: dt.datetime
    end: dt.datetime
    bay_id: int
    bay_name: str


class AppointmentResult(NamedTuple):
    """Result of a mutation: the appointment as stored now, and what changed."""

    appointment: AppointmentDTO
    changes: Changes


@dataclass(frozen=True)
class _Rules:
    hours: OpeningHours
    bundesland: str
    aw_per_hour: int
    slot_minutes: int


def _rules(s: Session) -> _Rules:
    ws = s.get(Workshop, 1)
    if ws is None:
        return _Rules(DEFAULT_OPENING_HOURS, "BY", 10, 15)
    text = (ws.opening_hours or "").strip()
    # A fresh workshop row has "{}"; an unconfigured calendar should not refuse every booking.
    hours = DEFAULT_OPENING_HOURS if text in {"", "{}"} else parse_opening_hours(text)
    return _Rules(hours, ws.bundesland, ws.aw_per_hour, ws.slot_minutes or 15)


def _local(value: dt.datetime) -> dt.datetime:
    """Stored times are naive Europe/Berlin wall-clock times; convert aware inputs."""
    return value.astimezone(WORKSHOP_TZ).replace(tzinfo=None) if value.tzinfo else value


# Select objects are immutable, so one base query serves every read.
_SELECT = select(Appointment).options(selectinload(Appointment.services)).order_by(Appointment.start, Appointment.id)


def _customer_name(c: Customer) -> str:
    if c.restricted_at is not None:
        return ""  # restricted by a GDPR request: hidden from lists (Art. 18)
    person = f"{c.first_name} {c.last_name}".strip()
    return (c.company if c.kind == "business" else person) or c.company or person or c.number


_Named = TypeVar("_Named", Bay, Mechanic)


def _names(s: Session, model: type[_Named], ids: set[int]) -> dict[int, str]:
    return {row.id: row.name for row in s.scalars(select(model).where(model.id.in_(ids)))} if ids else {}


def _by_code(services: list[Service]) -> list[Service]:
    # The relationship loads in code order; a just-assigned list keeps input order until reloaded.
    return sorted(services, key=lambda sv: sv.code)


def _dtos(s: Session, appts: Iterable[Appointment]) -> list[AppointmentDTO]:
    appts = list(appts)
    bays = _names(s, Bay, {a.bay_id for a in appts if a.bay_id})
    mechanics = _names(s, Mechanic, {a.mechanic_id for a in appts if a.mechanic_id})
    cids = {a.customer_id for a in appts if a.customer_id}
    vids = {a.vehicle_id for a in appts if a.vehicle_id}
    customers = (
        {c.id: _customer_name(c) for c in s.scalars(select(Customer).where(Customer.id.in_(cids)))} if cids else {}
    )
    plates = {v.id: v.plate for v in s.scalars(select(Vehicle).where(Vehicle.id.in_(vids)))} if vids else {}
    return [
        AppointmentDTO(
            id=a.id,
            start=a.start,
            end=a.end,
            title=a.title,
            notes=a.notes,
            status=a.status,
            source=a.source,
            bay_id=a.bay_id,
            bay_name=bays.get(a.bay_id, "") if a.bay_id else "",
            mechanic_id=a.mechanic_id,
            mechanic_name=mechanics.get(a.mechanic_id, "") if a.mechanic_id else "",
            customer_id=a.customer_id,
            customer_name=customers.get(a.customer_id, "") if a.customer_id else "",
            vehicle_id=a.vehicle_id,
            plate=plates.get(a.vehicle_id, "") if a.vehicle_id else "",
            service_ids=tuple(sv.id for sv in _by_code(a.services)),
            service_names=tuple(sv.name for sv in _by_code(a.services)),
            updated_at=a.updated_at,
        )
        for a in appts
    ]


def _overlapping(
    s: Session,
    start: dt.datetime,
    end: dt.datetime,
    *,
    bay_id: int | None,
    mechanic_id: int | None,
    ignore_id: int | None = None,
) -> list[Appointment]:
    owners = [Appointment.bay_id == bay_id] if bay_id is not None else []
    owners += [Appointment.mechanic_id == mechanic_id] if mechanic_id is not None else []
    if not owners:
        return []
    query = _SELECT.where(
        Appointment.status != "cancelled", Appointment.start < end, Appointment.end > start, or_(*owners)
    )
    if ignore_id is not None:
        query = query.where(Appointment.id != ignore_id)
    return list(s.scalars(query))


_NOT_FOUND: Final[dict[type[Base], str]] = {
    Bay: N_("Die Bühne Nr. {id} wurde nicht gefunden."),
    Mechanic: N_("Der Monteur Nr. {id} wurde nicht gefunden."),
    Customer: N_("Der Kunde Nr. {id} wurde nicht gefunden."),
    Vehicle: N_("Das Fahrzeug Nr. {id} wurde nicht gefunden."),
}
_Row = TypeVar("_Row", Bay, Mechanic, Customer, Vehicle)


def _get(s: Session, model: type[_Row], id_: int) -> _Row:
    """The row or NotFound; a deactivated bay or mechanic cannot take new bookings."""
    row = s.get(model, id_)
    if row is None:
        raise NotFound(_NOT_FOUND[model], id=id_)
    if isinstance(row, Bay | Mechanic) and not row.active:
        raise ValidationError(
            "„{name}“ ist deaktiviert und kann nicht verplant werden.",
            field=f"{model.__tablename__}_id",
            name=row.name,
        )
    return row
