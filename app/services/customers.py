"""Customers: create, edit, consents and contacts, with German validation per field."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app import validation
from app.changes import Changes
from app.db import Database
from app.errors import NotFound, ValidationError
from app.models import Consent, Contact, Customer, Vehicle
from app.models.base import utcnow

KINDS = ("private", "business")
CHANNELS = ("email", "sms", "phone", "letter")


@dataclass(frozen=True)
class CustomerInput:
    """What the counter types for a customer."""

    kind: str = "private"
    salutation: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "DE"
    vat_id: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    notes: str = ""


@dataclass(frozen=True)
class ContactDTO:
    """An additional contact person."""

    id: int
    name: str
    role: str
    phone: str
    email: str


@dataclass(frozen=True)
class ConsentState:
    """The current consent for one channel (newest record)."""

    channel: str
    granted: bool
    recorded_at: str
    source: str


@dataclass(frozen=True)
class CustomerDTO:
    """A customer as views and the CLI see it."""

    id: int
    number: str
    data: CustomerInput
    restricted: bool
    contacts: tuple[ContactDTO, ...] = ()
    consents: tuple[ConsentState, ...] = ()
    vehicle_count: int = 0

    @property
    def display_name(self) -> str:
        """ "Firma GmbH" or "Müller, Anna"."""
        return display_name(self.data.kind, self.data.company, self.data.first_name, self.data.last_name)

    @property
    def address_line(self) -> str:
        """ "Hauptstr. 1, 80331 München"."""
        d = self.data
        place = " ".join(p for p in (d.postcode, d.city) if p)
        return ", ".join(p for p in (d.street, place) if p)

    def consent(self, channel: str) -> bool:
        """Whether reminders over ``channel`` are currently allowed."""
        return any(c.channel == channel and c.granted for c in self.consents)


def display_name(kind: str, company: str, first_name: str, last_name: str) -> str:
    """How a customer is named in lists."""
    if kind == "business" and company:
        return company
    if first_name and last_name:
        return f"{last_name}, {first_name}"
    return last_name or first_name or company


def validate_customer(data: CustomerInput) -> tuple[CustomerInput, list[ValidationError]]:
    """Normalise and check every field; returns the cleaned input and all problems (for inline messages)."""
    errors: list[ValidationError] = []
    cleaned: dict[str, str] = {}

    def check(name: str, fn: object) -> None:
        try:
            cleaned[name] = fn()  # type: ignore[operator]
        except ValidationError as exc:
            errors.append(exc)
            cleaned[name] = getattr(data, name)

    country = (data.country or "DE").strip().upper()[:2]
    if data.kind not in KINDS:
        errors.append(ValidationError("Unbekannte Kundenart „{kind}“.", field="kind", kind=data.kind))
    if data.kind == "business":
        check("company", lambda: validation.required(data.company, field="company", label="Firma"))
    else:
        check("last_name", lambda: validation.required(data.last_name, field="last_name", label="Nachname"))
    check("postcode", lambda: validation.postcode(data.postcode, country))
    check("vat_id", lambda: validation.vat_id(data.vat_id))
    check("email", lambda: validation.email(data.email))
    check("phone", lambda: validation.phone(data.phone))
    check("mobile", lambda: validation.phone(data.mobile, field="mobile"))
    if data.vat_id.strip() and data.kind != "business":
        errors.append(ValidationError("Eine USt-IdNr. haben nur Geschäftskunden.", field="vat_id"))
    stripped = {f.name: str(getattr(data, f.name)).strip() for f in fields(data)}
    return replace(data, **(stripped | cleaned | {"country": country})), errors


def _dto(row: Customer, vehicle_count: int = 0) -> CustomerDTO:
    data = CustomerInput(**{f.name: getattr(row, f.name) for f in fields(CustomerInput)})
    latest: dict[str, Consent] = {}
    for consent in row.consents:
        latest[consent.channel] = consent
    return CustomerDTO(
        id=row.id,
        number=row.number,
        data=data,
        restricted=row.restricted_at is not None,
        contacts=tuple(ContactDTO(c.id, c.name, c.role, c.phone, c.email) for c in row.contacts),
        consents=tuple(
            ConsentState(c.channel, c.granted, c.recorded_at.isoformat(timespec="seconds"), c.source)
            for c in latest.values()
        ),
        vehicle_count=vehicle_count,
    )


@dataclass(frozen=True)
class ConsentChange:
    """A consent given or withdrawn at the counter."""

    channel: str
    granted: bool
    source: str = "Theke"
    purpose: str = "reminders"
    text_version: str = "2026-1"


def create_in(session: Session, cleaned: CustomerInput) -> Customer:
    """Insert an already validated customer with the next customer number (caller's transaction)."""
    next_id = (session.scalar(select(func.max(Customer.id))) or 0) + 1
    row = Customer(number=f"K{10000 + next_id}", **{f.name: getattr(cleaned, f.name) for f in fields(cleaned)})
    session.add(row)
    session.flush()
    return row


class CustomerService:
    """Customer master data."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _row(self, s: Session, customer_id: int, *, include_restricted: bool = False) -> Customer:
        row = s.get(Customer, customer_id, options=[selectinload(Customer.contacts), selectinload(Customer.consents)])
        if row is None or (row.restricted_at is not None and not include_restricted):
            raise NotFound("Den Kunden {id} gibt es nicht (oder er ist gesperrt).", id=customer_id)
        return row

    @staticmethod
    def _vehicle_count(s: Session, customer_id: int) -> int:
        return s.scalar(select(func.count()).select_from(Vehicle).where(Vehicle.customer_id == customer_id)) or 0

    def get(self, customer_id: int, *, include_restricted: bool = False) -> CustomerDTO:
        """One customer; restricted customers only for the audit path."""
        with self._db.unit() as s:
            row = self._row(s, customer_id, include_restricted=include_restricted)
            return _dto(row, self._vehicle_count(s, customer_id))

    def get_by_number(self, number: str) -> CustomerDTO:
        """A customer by customer number (e.g. K10042)."""
        with self._db.unit() as s:
            cid = s.scalar(select(Customer.id).where(Customer.number == number.strip().upper()))
        if cid is None:
            raise NotFound("Die Kundennummer {number} gibt es nicht.", number=number)
        return self.get(cid)

    def create(
        self, data: CustomerInput, *, consents: tuple[ConsentChange, ...] = (), user: str = ""
    ) -> tuple[CustomerDTO, Changes]:
        """Validate and create a customer with its first consent records."""
        cleaned, errors = validate_customer(data)
        if errors:
            raise errors[0]
        with self._db.unit() as s:
            row = create_in(s, cleaned)
            for change in consents:
                self._add_consent(row, change, user)
            s.flush()
            return _dto(row), Changes(customers=True)

    def update(self, customer_id: int, data: CustomerInput) -> tuple[CustomerDTO, Changes]:
        """Validate and store changed master data."""
        cleaned, errors = validate_customer(data)
        if errors:
            raise errors[0]
        with self._db.unit() as s:
            row = self._row(s, customer_id)
            for f in fields(cleaned):
                setattr(row, f.name, getattr(cleaned, f.name))
            s.flush()
            return _dto(row, self._vehicle_count(s, customer_id)), Changes(customers=True)

    @staticmethod
    def _add_consent(row: Customer, change: ConsentChange, user: str) -> None:
        if change.channel not in CHANNELS:
            raise ValidationError("Unbekannter Kanal „{channel}“.", field="channel", channel=change.channel)
        row.consents.append(
            Consent(
                channel=change.channel,
                purpose=change.purpose,
                granted=change.granted,
                text_version=change.text_version,
                source=change.source,
                recorded_by=user,
                recorded_at=utcnow(),
            )
        )

    def set_consent(self, customer_id: int, change: ConsentChange, *, user: str = "") -> tuple[CustomerDTO, Changes]:
        """Record a consent given or withdrawn (append-only: the history is the proof)."""
        with self._db.unit() as s:
            row = self._row(s, customer_id)
            self._add_consent(row, change, user)
            s.flush()
            return _dto(row, self._vehicle_count(s, customer_id)), Changes(customers=True)

    def add_contact(self, customer_id: int, *, name: str, role: str = "", phone: str = "", email: str = "") -> Changes:
        """Add a contact person."""
        name = validation.required(name, field="name", label="Name")
        phone = validation.phone(phone)
        email = validation.email(email)
        with self._db.unit() as s:
            row = self._row(s, customer_id)
            row.contacts.append(Contact(name=name, role=role.strip(), phone=phone, email=email))
        return Changes(customers=True)

    def remove_contact(self, customer_id: int, contact_id: int) -> Changes:
        """Remove a contact person."""
        with self._db.unit() as s:
            row = self._row(s, customer_id)
            row.contacts[:] = [c for c in row.contacts if c.id != contact_id]
        return Changes(customers=True)

    def count(self) -> int:
        """Number of active (not restricted) customers."""
        with self._db.unit() as s:
            query = select(func.count()).select_from(Customer).where(Customer.restricted_at.is_(None))
            return s.scalar(query) or 0
