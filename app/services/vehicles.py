"""Vehicles: master data with VIN/plate checks, mileage history, HU/AU due month and history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import vehicle_rules as rules
from app.changes import Changes
from app.db import Database
from app.errors import ConflictError, NotFound, ValidationError
from app.models import Appointment, Customer, MileageReading, Vehicle, VehicleEvent
from app.services.customers import display_name


@dataclass(frozen=True)
class VehicleInput:
    """What the counter types for a vehicle."""

    customer_id: int | None = None
    vin: str = ""
    plate: str = ""
    make: str = ""
    model: str = ""
    hsn: str = ""
    tsn: str = ""
    fuel: str = ""
    first_registration: dt.date | None = None
    hu_due: dt.date | None = None
    business_use: bool = False
    notes: str = ""


@dataclass(frozen=True)
class VehicleDTO:
    """A vehicle with its owner's name, HU state and last mileage."""

    id: int
    data: VehicleInput
    model_year: int | None
    customer_name: str
    hu_status: rules.HuStatus
    hu_label: str
    last_mileage: int | None

    @property
    def title(self) -> str:
        """ "M-AB 123 · VW Golf"."""
        car = " ".join(p for p in (self.data.make, self.data.model) if p)
        return " · ".join(p for p in (self.data.plate, car) if p)


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the vehicle history, newest first."""

    at: dt.datetime
    kind: str
    text: str
    user: str


def validate_vehicle(data: VehicleInput, today: dt.date) -> tuple[VehicleInput, list[ValidationError]]:
    """Normalise and check every field; all problems are returned for inline messages."""
    errors: list[ValidationError] = []
    cleaned: dict[str, object] = {}

    def check(name: str, fn: object) -> None:
        try:
            cleaned[name] = fn()  # type: ignore[operator]
        except ValidationError as exc:
            errors.append(exc)

    check("vin", lambda: rules.validate_vin(data.vin))
    check("plate", lambda: rules.normalize_plate(data.plate))
    check("hsn", lambda: rules.validate_hsn(data.hsn) if data.hsn.strip() else "")
    check("tsn", lambda: rules.validate_tsn(data.tsn) if data.tsn.strip() else "")
    if data.first_registration is not None:
        check("first_registration", lambda: rules.validate_first_registration(data.first_registration, today))
    if not (data.vin.strip() or data.plate.strip()):
        errors.append(ValidationError("Bitte Kennzeichen oder FIN angeben.", field="plate"))
    if data.hu_due is not None:
        cleaned["hu_due"] = data.hu_due.replace(day=1)
    texts = {k: v.strip() for k in ("make", "model", "fuel", "notes") if isinstance(v := getattr(data, k), str)}
    return replace(data, **(texts | cleaned)), errors  # type: ignore[arg-type]


def _default_hu_due(first_registration: dt.date | None, today: dt.date) -> dt.date | None:
    """A new car's first HU is known; for older cars only the sticker tells (left empty)."""
    if first_registration is None:
        return None
    due = rules.first_hu_due(first_registration)
    return due if due >= today.replace(day=1) else None


def _check_unique_vin(s: Session, vin: str, vehicle_id: int | None) -> None:
    if not vin:
        return
    other = s.scalar(select(Vehicle).where(Vehicle.vin == vin, Vehicle.id != (vehicle_id or -1)))
    if other is not None:
        raise ConflictError(
            "Die FIN {vin} ist schon beim Fahrzeug {plate} gespeichert.", vin=vin, plate=other.plate or other.id
        )


def _apply_vin(row: Vehicle) -> None:
    """Fill the make and model year from the VIN where it tells them."""
    if not row.vin:
        return
    info = rules.decode_vin(row.vin)
    if not row.make and info.manufacturer:
        row.make = info.manufacturer
    row.model_year = info.model_year


def _add_mileage(row: Vehicle, km: int, date: dt.date, *, source: str, allow_lower: bool) -> None:
    km = rules.validate_mileage(km)
    previous = row.mileages[-1].km if row.mileages else None
    rules.check_mileage_sequence(previous, km, allow_lower=allow_lower)
    row.mileages.append(MileageReading(date=date, km=km, source=source))


def create_in(session: Session, cleaned: VehicleInput, *, mileage: int | None, user: str, today: dt.date) -> Vehicle:
    """Insert an already validated vehicle (caller's transaction); the VIN fills in make and model year."""
    if cleaned.customer_id is not None and session.get(Customer, cleaned.customer_id) is None:
        raise NotFound("Den Kunden {id} gibt es nicht.", id=cleaned.customer_id)
    _check_unique_vin(session, cleaned.vin, None)
    row = Vehicle(**{f.name: getattr(cleaned, f.name) for f in fields(cleaned)})
    _apply_vin(row)
    if row.hu_due is None:
        row.hu_due = _default_hu_due(row.first_registration, today)
    session.add(row)
    session.flush()
    if mileage is not None:
        _add_mileage(row, mileage, today, source="Theke", allow_lower=False)
    row.events.append(VehicleEvent(kind="note", text="Fahrzeug angelegt", user=user))
    session.flush()
    return row


class VehicleService:
    """Vehicle master data, mileage and history."""

    def __init__(self, db: Database, *, today: dt.date | None = None) -> None:
        self._db = db
        self._today = today

    @property
    def today(self) -> dt.date:
        """Today (fixed in tests)."""
        return self._today or dt.date.today()

    def _dto(self, s: Session, row: Vehicle) -> VehicleDTO:
        customer = s.get(Customer, row.customer_id) if row.customer_id else None
        name = (
            display_name(customer.kind, customer.company, customer.first_name, customer.last_name) if customer else ""
        )
        status = rules.hu_status(row.hu_due, self.today)
        data = VehicleInput(**{f.name: getattr(row, f.name) for f in fields(VehicleInput)})
        last = row.mileages[-1].km if row.mileages else None
        return VehicleDTO(row.id, data, row.model_year, name, status, status.label_for(row.hu_due), last)

    def _row(self, s: Session, vehicle_id: int) -> Vehicle:
        row = s.get(Vehicle, vehicle_id, options=[selectinload(Vehicle.mileages)])
        if row is None:
            raise NotFound("Das Fahrzeug {id} gibt es nicht.", id=vehicle_id)
        return row

    def get(self, vehicle_id: int) -> VehicleDTO:
        """One vehicle."""
        with self._db.unit() as s:
            return self._dto(s, self._row(s, vehicle_id))

    def for_customer(self, customer_id: int) -> list[VehicleDTO]:
        """The customer's vehicles by plate."""
        with self._db.unit() as s:
            rows = s.scalars(
                select(Vehicle)
                .where(Vehicle.customer_id == customer_id)
                .options(selectinload(Vehicle.mileages))
                .order_by(Vehicle.plate)
            )
            return [self._dto(s, r) for r in rows]

    def create(self, data: VehicleInput, *, mileage: int | None = None, user: str = "") -> tuple[VehicleDTO, Changes]:
        """Validate and create a vehicle; the VIN fills in the make and model year where it can."""
        cleaned, errors = validate_vehicle(data, self.today)
        if errors:
            raise errors[0]
        with self._db.unit() as s:
            row = create_in(s, cleaned, mileage=mileage, user=user, today=self.today)
            return self._dto(s, row), Changes(vehicles=True)

    def update(self, vehicle_id: int, data: VehicleInput, *, user: str = "") -> tuple[VehicleDTO, Changes]:
        """Store changed master data; an owner change is written into the history."""
        cleaned, errors = validate_vehicle(data, self.today)
        if errors:
            raise errors[0]
        with self._db.unit() as s:
            row = self._row(s, vehicle_id)
            _check_unique_vin(s, cleaned.vin, vehicle_id)
            if row.customer_id != cleaned.customer_id:
                row.events.append(VehicleEvent(kind="owner", text="Halterwechsel", user=user))
            for f in fields(cleaned):
                setattr(row, f.name, getattr(cleaned, f.name))
            _apply_vin(row)
            s.flush()
            return self._dto(s, row), Changes(vehicles=True)

    def record_mileage(
        self, vehicle_id: int, km: int, *, date: dt.date | None = None, source: str = "Theke", allow_lower: bool = False
    ) -> tuple[VehicleDTO, Changes]:
        """Add an odometer reading; lower than the last one only when explicitly allowed (Tacho getauscht)."""
        with self._db.unit() as s:
            row = self._row(s, vehicle_id)
            _add_mileage(row, km, date or self.today, source=source, allow_lower=allow_lower)
            s.flush()
            return self._dto(s, row), Changes(vehicles=True)

    def record_hu(self, vehicle_id: int, inspection_date: dt.date, *, user: str = "") -> tuple[VehicleDTO, Changes]:
        """An HU/AU was passed: the next one is due 24 months later."""
        with self._db.unit() as s:
            row = self._row(s, vehicle_id)
            row.hu_due = rules.next_hu_due(inspection_date)
            row.events.append(
                VehicleEvent(kind="hu", text=f"HU/AU bestanden, nächste HU {row.hu_due:%m/%Y}", user=user)
            )
            s.flush()
            return self._dto(s, row), Changes(vehicles=True)

    def add_note(self, vehicle_id: int, text: str, *, user: str = "") -> Changes:
        """A free note in the vehicle history."""
        with self._db.unit() as s:
            row = self._row(s, vehicle_id)
            row.events.append(VehicleEvent(kind="note", text=text.strip(), user=user))
        return Changes(vehicles=True)

    def history(self, vehicle_id: int) -> list[HistoryEntry]:
        """Visits (appointments) and events, newest first."""
        with self._db.unit() as s:
            row = self._row(s, vehicle_id)
            entries = [HistoryEntry(e.at, e.kind, e.text, e.user) for e in row.events]
            entries += [
                HistoryEntry(dt.datetime.combine(m.date, dt.time()), "km", f"{m.km} km", m.source) for m in row.mileages
            ]
            visits = s.scalars(select(Appointment).where(Appointment.vehicle_id == vehicle_id))
            status_text = {"done": "Besuch", "no_show": "Nicht erschienen", "cancelled": "Termin abgesagt"}
            for a in visits:
                text = status_text.get(a.status, "Termin")
                entries.append(HistoryEntry(a.start, "visit", f"{text}: {a.title}".strip(": "), ""))
        return sorted(entries, key=lambda e: e.at, reverse=True)

    def hu_due_between(self, start: dt.date, end: dt.date) -> list[VehicleDTO]:
        """Vehicles whose HU month lies in [start, end] – work to win."""
        with self._db.unit() as s:
            rows = s.scalars(
                select(Vehicle)
                .where(Vehicle.hu_due >= start.replace(day=1), Vehicle.hu_due <= end)
                .options(selectinload(Vehicle.mileages))
                .order_by(Vehicle.hu_due)
            )
            return [self._dto(s, r) for r in rows]
