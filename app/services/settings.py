"""Workshop master data: read, validate and change the workshop's settings, bays and mechanics."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import validation
from app.calendar_rules import DEFAULT_OPENING_HOURS, parse_opening_hours
from app.changes import Changes
from app.db import Database
from app.errors import ConflictError, NotFound, ValidationError
from app.models import Bay, Mechanic, Workshop
from app.money import decimal_places, parse_decimal, round_money

AW_PER_HOUR_CHOICES = (10, 12, 100)


@dataclass(frozen=True)
class WorkshopSettings:
    """A snapshot of the workshop's master data."""

    name: str
    owner_name: str
    street: str
    postcode: str
    city: str
    country: str
    phone: str
    email: str
    website: str
    tax_number: str
    vat_id: str
    iban: str
    bic: str
    bank_name: str
    labour_rate_net: Decimal
    aw_per_hour: int
    bundesland: str
    opening_hours: str
    slot_minutes: int
    current_user: str
    kleinunternehmer: bool
    previous_year_turnover: Decimal
    estimate_overrun_percent: Decimal
    payment_terms_days: int
    accent_color: str
    logo_path: str
    reminder_fee_1: Decimal
    reminder_fee_2: Decimal

    @property
    def aw_price(self) -> Decimal:
        """Net price of one AW = hourly rate ÷ AW per hour (unrounded; round per line)."""
        return self.labour_rate_net / Decimal(self.aw_per_hour)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (Decimals as strings)."""
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class BayDTO:
    """A bay or lift."""

    id: int
    name: str
    kind: str
    active: bool


@dataclass(frozen=True)
class MechanicDTO:
    """A mechanic."""

    id: int
    name: str
    active: bool
    hours_per_day: Decimal


SETTING_KEYS = tuple(f.name for f in fields(WorkshopSettings))


def _labour_rate(value: Any) -> Decimal:
    try:
        rate = parse_decimal(value)
    except ValueError as exc:
        raise ValidationError(
            "Der Stundenverrechnungssatz „{value}“ ist keine Zahl.", field="labour_rate_net", value=value
        ) from exc
    if rate < 0 or rate > Decimal("9999") or decimal_places(rate) > 2:
        raise ValidationError(
            "Der Stundenverrechnungssatz muss zwischen 0 und 9.999 € liegen (höchstens 2 Nachkommastellen).",
            field="labour_rate_net",
        )
    return round_money(rate)


def _aw_per_hour(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number not in AW_PER_HOUR_CHOICES:
        raise ValidationError(
            "AW pro Stunde muss 10, 12 oder 100 sein (nicht „{value}“).", field="aw_per_hour", value=value
        )
    return number


def _bundesland(value: Any) -> str:
    code = str(value).strip().upper()
    if code not in validation.BUNDESLAENDER:
        raise ValidationError(
            "Unbekanntes Bundesland „{value}“ – bitte das Kürzel angeben, z. B. BY, NW, BE.",
            field="bundesland",
            value=value,
        )
    return code


def _slot_minutes(value: Any) -> int:
    number = int(str(value))
    if number not in (5, 10, 15, 20, 30, 60):
        raise ValidationError("Das Terminraster muss 5, 10, 15, 20, 30 oder 60 Minuten sein.", field="slot_minutes")
    return number


def _amount(value: Any, *, field: str, label: str, maximum: Decimal = Decimal("99999999")) -> Decimal:
    try:
        amount = parse_decimal(value)
    except ValueError as exc:
        raise ValidationError("„{label}“: „{value}“ ist keine Zahl.", field=field, label=label, value=value) from exc
    if amount < 0 or amount > maximum or decimal_places(amount) > 2:
        raise ValidationError(
            "„{label}“ muss zwischen 0 und {maximum} liegen (höchstens 2 Nachkommastellen).",
            field=field,
            label=label,
            maximum=maximum,
        )
    return round_money(amount)


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "ja", "yes", "wahr", "on")


def _days(value: Any) -> int:
    try:
        days = int(str(value).strip())
    except ValueError:
        days = -1
    if not 0 <= days <= 120:
        raise ValidationError("Das Zahlungsziel muss 0 bis 120 Tage sein.", field="payment_terms_days")
    return days


def _color(value: Any) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise ValidationError("Die Farbe muss als #RRGGBB angegeben werden, z. B. #1f4e79.", field="accent_color")
    return text.lower()


def _clean(key: str, value: Any, current: dict[str, Any]) -> Any:
    """Validate one setting; ``current`` has the other (new) values for cross-field rules."""
    text = "" if value is None else str(value)
    cleaners: dict[str, Any] = {
        "name": lambda: validation.required(text, field="name", label="Name der Werkstatt"),
        "postcode": lambda: validation.postcode(text, current.get("country", "DE")),
        "country": lambda: text.strip().upper()[:2] or "DE",
        "phone": lambda: validation.phone(text),
        "email": lambda: validation.email(text),
        "tax_number": lambda: validation.tax_number(text, current.get("bundesland", "")),
        "vat_id": lambda: validation.vat_id(text),
        "iban": lambda: validation.iban(text),
        "bic": lambda: validation.bic(text),
        "labour_rate_net": lambda: _labour_rate(value),
        "aw_per_hour": lambda: _aw_per_hour(value),
        "bundesland": lambda: _bundesland(value),
        "opening_hours": lambda: parse_opening_hours(text).to_json(),
        "slot_minutes": lambda: _slot_minutes(value),
        "kleinunternehmer": lambda: _flag(value),
        "previous_year_turnover": lambda: _amount(value, field=key, label="Vorjahresumsatz"),
        "estimate_overrun_percent": lambda: _amount(
            value, field=key, label="Toleranz für KVA-Überschreitung (%)", maximum=Decimal("100")
        ),
        "payment_terms_days": lambda: _days(value),
        "accent_color": lambda: _color(value),
        "reminder_fee_1": lambda: _amount(value, field=key, label="Mahngebühr 1. Mahnung", maximum=Decimal("100")),
        "reminder_fee_2": lambda: _amount(value, field=key, label="Mahngebühr 2. Mahnung", maximum=Decimal("100")),
    }
    if key not in SETTING_KEYS:
        raise ValidationError(
            "Unbekannte Einstellung „{key}“. Erlaubt: {keys}.", field=key, key=key, keys=", ".join(SETTING_KEYS)
        )
    cleaner = cleaners.get(key)
    return cleaner() if cleaner else text.strip()


def _snapshot(row: Workshop) -> WorkshopSettings:
    return WorkshopSettings(**{key: getattr(row, key) for key in SETTING_KEYS})


def workshop_row(session: Session) -> Workshop:
    """The single workshop row, created with defaults on first use."""
    row = session.get(Workshop, 1)
    if row is None:
        row = Workshop(id=1, opening_hours=DEFAULT_OPENING_HOURS.to_json(), labour_rate_net=Decimal("0.00"))
        session.add(row)
        session.flush()
    return row


class SettingsService:
    """Reads and changes the workshop's master data, bays and mechanics."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self) -> WorkshopSettings:
        """The current settings (defaults on a new database)."""
        with self._db.unit() as s:
            return _snapshot(workshop_row(s))

    def update(self, **changes: Any) -> tuple[WorkshopSettings, Changes]:
        """Validate and store several settings at once – all or nothing."""
        with self._db.unit() as s:
            row = workshop_row(s)
            merged = {key: getattr(row, key) for key in SETTING_KEYS} | changes
            cleaned = {key: _clean(key, value, merged) for key, value in changes.items()}
            if "bundesland" in changes and "tax_number" not in changes and row.tax_number:
                cleaned["tax_number"] = _clean("tax_number", row.tax_number, merged)
            for key, value in cleaned.items():
                setattr(row, key, value)
            s.flush()
            return _snapshot(row), Changes(settings=True)

    def bays(self, *, include_inactive: bool = False) -> list[BayDTO]:
        """Bays in display order."""
        with self._db.unit() as s:
            query = select(Bay).order_by(Bay.sort, Bay.id)
            if not include_inactive:
                query = query.where(Bay.active.is_(True))
            return [BayDTO(b.id, b.name, b.kind, b.active) for b in s.scalars(query)]

    def add_bay(self, name: str, kind: str = "Hebebühne") -> BayDTO:
        """Add a bay; names are unique."""
        name = validation.required(name, field="name", label="Name der Bühne")
        with self._db.unit() as s:
            if s.scalar(select(Bay).where(Bay.name == name)):
                raise ConflictError("Eine Bühne „{name}“ gibt es schon.", name=name)
            sort = len(s.scalars(select(Bay.id)).all())
            bay = Bay(name=name, kind=kind, sort=sort)
            s.add(bay)
            s.flush()
            return BayDTO(bay.id, bay.name, bay.kind, bay.active)

    def set_bay_active(self, bay_id: int, active: bool) -> None:
        """Retire or re-activate a bay (never deleted: appointments refer to it)."""
        with self._db.unit() as s:
            bay = s.get(Bay, bay_id)
            if bay is None:
                raise NotFound("Die Bühne {id} gibt es nicht.", id=bay_id)
            bay.active = active

    def mechanics(self, *, include_inactive: bool = False) -> list[MechanicDTO]:
        """Mechanics by name."""
        with self._db.unit() as s:
            query = select(Mechanic).order_by(Mechanic.name)
            if not include_inactive:
                query = query.where(Mechanic.active.is_(True))
            return [MechanicDTO(m.id, m.name, m.active, m.hours_per_day) for m in s.scalars(query)]

    def add_mechanic(self, name: str, hours_per_day: Decimal = Decimal("8")) -> MechanicDTO:
        """Add a mechanic; names are unique."""
        name = validation.required(name, field="name", label="Name des Monteurs")
        with self._db.unit() as s:
            if s.scalar(select(Mechanic).where(Mechanic.name == name)):
                raise ConflictError("Einen Monteur „{name}“ gibt es schon.", name=name)
            mech = Mechanic(name=name, hours_per_day=hours_per_day)
            s.add(mech)
            s.flush()
            return MechanicDTO(mech.id, mech.name, mech.active, mech.hours_per_day)

    def set_mechanic_active(self, mechanic_id: int, active: bool) -> None:
        """Retire or re-activate a mechanic."""
        with self._db.unit() as s:
            mech = s.get(Mechanic, mechanic_id)
            if mech is None:
                raise NotFound("Den Monteur {id} gibt es nicht.", id=mechanic_id)
            mech.active = active
