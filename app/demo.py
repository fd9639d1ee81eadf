"""The deterministic demo workshop: a Munich workshop with ~200 customers, 260 vehicles and a week
of appointments. The same seed and ``today`` always give the same data (tests and screenshots rely
on it). Everything goes through the normal services, so the demo data passes every validation.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app import demo_names as names
from app.calendar_rules import DEFAULT_OPENING_HOURS
from app.demo_history import create_history
from app.errors import ConflictError, ValidationError
from app.models import Service
from app.services.appointments import AppointmentInput
from app.services.customers import ConsentChange, CustomerInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 2010 … 2039 (then 2001 … 2009 wrap)


@dataclass(frozen=True)
class DemoSummary:
    """What the demo created."""

    customers: int
    vehicles: int
    appointments: int
    services: int
    invoices: int = 0


def _year_code(year: int) -> str:
    return YEAR_CODES[(year - 2010) % 30]


def _vin(rng: random.Random, wmi: str, year: int) -> str:
    body = "".join(rng.choice(VIN_CHARS) for _ in range(5))
    serial = "".join(rng.choice(string.digits) for _ in range(6))
    return f"{wmi}{body}{rng.choice(string.digits)}{_year_code(year)}{rng.choice('ABCDEFGHJKLMN')}{serial}"


def _plate(rng: random.Random, district: str, used: set[str]) -> str:
    while True:
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.choice((1, 2))))
        room = 8 - len(district) - len(letters)
        digits = str(rng.randint(1, 10 ** min(4, room) - 1))
        plate = f"{district}-{letters} {digits}"
        if plate not in used:
            used.add(plate)
            return plate


def _hu_due(rng: random.Random, first_registration: dt.date, today: dt.date) -> dt.date:
    """A plausible sticker month: 36 months after registration, then every 24, near today."""
    month = first_registration.year * 12 + first_registration.month - 1 + 36
    while month < today.year * 12 + today.month - 1 - rng.choice((0, 0, 0, 1, 3)):
        month += 24
    return dt.date(month // 12, month % 12 + 1, 1)


def setup_workshop(services: Services) -> None:
    """Master data of the demo workshop (valid test tax ids and bank data)."""
    services.settings.update(
        name="Kfz-Meisterbetrieb Huber GmbH",
        owner_name="Georg Huber",
        street="Landsberger Straße 312",
        country="DE",
        postcode="80687",
        city="München",
        phone="089 5467 1200",
        email="service@huber-kfz.example",
        website="www.huber-kfz.example",
        bundesland="BY",
        tax_number="181/815/08155",
        vat_id="DE136695976",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        bank_name="Commerzbank München",
        labour_rate_net="118.00",
        aw_per_hour=10,
        opening_hours=DEFAULT_OPENING_HOURS.to_json(),
        current_user="Theke",
    )
    for bay in ("Bühne 1", "Bühne 2", "Bühne 3 (Achsmessung)", "Platz 4 (Schnellservice)"):
        services.settings.add_bay(bay, "Hebebühne" if bay.startswith("Bühne") else "Arbeitsplatz")
    for mech in ("Tobias Brandl", "Emre Yılmaz", "Sandra Kögl", "Piotr Nowak", "Max Oberhuber (Azubi)"):
        services.settings.add_mechanic(mech)


def _customer(rng: random.Random, index: int) -> tuple[CustomerInput, str]:
    postcode, city, district = rng.choice(names.PLACES)
    street = f"{rng.choice(names.STREETS)} {rng.randint(1, 140)}"
    first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    phone = f"0{rng.choice(('89', '8161', '8131', '8092', '8151'))} {rng.randint(100000, 9999999)}"
    mobile = f"01{rng.choice(('51', '60', '70', '76'))} {rng.randint(1000000, 99999999)}"
    if index % 8 == 0:
        stem = names.COMPANY_STEMS[(index // 8) % len(names.COMPANY_STEMS)]
        company = f"{stem} {rng.choice(names.LEGAL_FORMS)}"
        slug = stem.split()[-1].lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        data = CustomerInput(
            kind="business",
            company=company,
            first_name=first,
            last_name=last,
            street=street,
            postcode=postcode,
            city=city,
            phone=phone,
            email=f"info@{slug}.example",
            notes="Firmenkunde, Rechnung per E-Mail",
        )
    else:
        slug = f"{first}.{last}".lower().translate(str.maketrans("äöüßışğçéń", "aousisgcen"))
        data = CustomerInput(
            kind="private",
            salutation=rng.choice(("Frau", "Herr")),
            first_name=first,
            last_name=last,
            street=street,
            postcode=postcode,
            city=city,
            phone=phone,
            mobile=mobile if rng.random() < 0.7 else "",
            email=f"{slug}@mail.example" if rng.random() < 0.8 else "",
        )
    return data, district


def _vehicle(rng: random.Random, customer_id: int, district: str, used: set[str], today: dt.date) -> VehicleInput:
    make, model, wmi, fuel = rng.choice(names.CARS)
    year = rng.randint(2008, today.year - 1)
    first = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
    return VehicleInput(
        customer_id=customer_id,
        vin=_vin(rng, wmi, year),
        plate=_plate(rng, district, used),
        make=make,
        model=model,
        hsn=f"{rng.randint(1, 9999):04d}",
        tsn="".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(3)),
        fuel=fuel,
        first_registration=first,
        hu_due=_hu_due(rng, first, today),
    )


def create_demo(
    services: Services,
    *,
    today: dt.date | None = None,
    customers: int = 200,
    vehicles: int = 260,
    seed: int = 2026,
    history_weeks: int = 10,
) -> DemoSummary:
    """Fill an empty database with the demo workshop."""
    today = today or dt.date.today()
    rng = random.Random(seed)
    setup_workshop(services)
    service_count = services.catalog.load_defaults()
    used: set[str] = set()
    owners: list[tuple[int, str]] = []
    for index in range(customers):
        data, district = _customer(rng, index)
        consents = (ConsentChange("email", True, source="Theke"),) if data.email and rng.random() < 0.6 else ()
        dto, _ = services.customers.create(data, consents=consents, user="Demo")
        owners.append((dto.id, district))
    vehicle_ids = []
    for index in range(vehicles):
        customer_id, district = owners[index] if index < len(owners) else rng.choice(owners)
        vehicle = _vehicle(rng, customer_id, district, used, today)
        km = rng.randint(5_000, 260_000)
        vdto, _ = services.vehicles.create(vehicle, mileage=km, user="Demo")
        vehicle_ids.append((vdto.id, customer_id))
    booked = _book_week(services, rng, today, vehicle_ids)
    invoices = create_history(services, today=today, weeks=history_weeks) if history_weeks else 0
    return DemoSummary(len(owners), len(vehicle_ids), booked, service_count, invoices)


def _book_week(services: Services, rng: random.Random, today: dt.date, vehicles: list[tuple[int, int]]) -> int:
    """Appointments Monday to Saturday of today's week, bay by bay from opening time; past ones are done."""
    with services.db.unit() as s:
        catalogue = list(s.execute(select(Service.id).where(Service.aw > 0, Service.aw <= Decimal("30"))).scalars())
    bays = services.settings.bays()
    mechanics = services.settings.mechanics()
    hours = services.appointments.opening_hours()
    monday = today - dt.timedelta(days=today.weekday())
    booked = 0
    for offset in range(6):
        day = monday + dt.timedelta(days=offset)
        for bay_index, bay in enumerate(bays):
            for window_start, window_end in hours.intervals(day):
                start = window_start + dt.timedelta(minutes=15 * rng.randint(0, 2))
                while start < window_end:
                    vehicle_id, customer_id = rng.choice(vehicles)
                    data = AppointmentInput(
                        start=start,
                        bay_id=bay.id,
                        mechanic_id=mechanics[bay_index % len(mechanics)].id,
                        customer_id=customer_id,
                        vehicle_id=vehicle_id,
                        service_ids=(rng.choice(catalogue),),
                        title=rng.choice(names.APPOINTMENT_TITLES),
                        status="confirmed",
                        source="counter",
                    )
                    try:
                        appointment = services.appointments.book(data).appointment
                    except (ConflictError, ValidationError):
                        break  # does not fit before closing/lunch (or a holiday): next window
                    booked += 1
                    if day < today:
                        services.appointments.set_status(appointment.id, "done")
                    start = appointment.end + dt.timedelta(minutes=rng.choice((0, 15, 30, 60)))
    return booked


def is_empty(services: Services) -> bool:
    """True when the workshop has not been set up yet (first start)."""
    return not services.settings.get().name
