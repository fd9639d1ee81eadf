"""AppointmentService: booking rules, conflicts, status machine, calendar queries, free slots, ICS."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from icalendar import Calendar

from app.calendar_rules import DEFAULT_OPENING_HOURS
from app.db import Database
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.models import Bay, Customer, Mechanic, Service, Vehicle, Workshop
from app.services.appointments import TRANSITIONS, AppointmentInput, AppointmentService

MONDAY = dt.date(2026, 11, 23)
SATURDAY = dt.date(2026, 11, 28)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = hhmm.split(":")
    return dt.datetime.combine(day, dt.time(int(hours), int(minutes)))


@dataclass(frozen=True)
class Ids:
    bay1: int
    bay2: int
    jonas: int
    ali: int
    oil: int
    insp: int
    customer: int
    vehicle: int


@pytest.fixture
def ids(db: Database) -> Ids:
    with db.unit() as s:
        s.add(
            Workshop(
                id=1,
                name="Kfz Meier",
                bundesland="BY",
                aw_per_hour=10,
                slot_minutes=15,
                opening_hours=DEFAULT_OPENING_HOURS.to_json(),
            )
        )
        bay1, bay2 = Bay(name="Bühne 1", sort=1), Bay(name="Bühne 2", sort=2)
        jonas, ali = Mechanic(name="Jonas"), Mechanic(name="Ali")
        oil = Service(code="OEL", category="Wartung", name="Ölwechsel", aw=Decimal("7"))
        insp = Service(code="INSP", category="Wartung", name="Inspektion", aw=Decimal("20"))
        customer = Customer(number="K-1001", first_name="Anna", last_name="Huber")
        s.add_all([bay1, bay2, jonas, ali, oil, insp, customer])
        s.flush()
        vehicle = Vehicle(customer_id=customer.id, plate="M-AB 123", make="VW", model="Golf")
        s.add(vehicle)
        s.flush()
        return Ids(bay1.id, bay2.id, jonas.id, ali.id, oil.id, insp.id, customer.id, vehicle.id)


@pytest.fixture
def svc(db: Database, ids: Ids) -> AppointmentService:
    return AppointmentService(db)


def book(
    svc: AppointmentService,
    start: dt.datetime,
    end: dt.datetime | None,
    *,
    bay: int | None = None,
    mechanic: int | None = None,
    title: str = "Termin",
    status: str = "confirmed",
    services: tuple[int, ...] = (),
    vehicle: int | None = None,
    force: bool = False,
) -> int:
    data = AppointmentInput(
        start=start,
        end=end,
        bay_id=bay,
        mechanic_id=mechanic,
        title=title,
        status=status,
        service_ids=services,
        vehicle_id=vehicle,
    )
    return svc.book(data, force=force).appointment.id


# --- booking -------------------------------------------------------------------------------------


def test_book_takes_duration_from_services_and_fills_names(svc: AppointmentService, ids: Ids) -> None:
    data = AppointmentInput(
        start=at(MONDAY, "08:00"),
        bay_id=ids.bay1,
        mechanic_id=ids.jonas,
        vehicle_id=ids.vehicle,
        service_ids=[ids.oil, ids.insp],
        source="phone",
    )
    appt, changes = svc.book(data)
    assert changes.appointments and not changes.customers
    assert appt.end == at(MONDAY, "10:45"), "27 AW at 10 AW/h = 162 min → 165 min"
    assert appt.title == "Ölwechsel, Inspektion"
    assert (appt.bay_name, appt.mechanic_name, appt.plate) == ("Bühne 1", "Jonas", "M-AB 123")
    assert appt.customer_id == ids.customer, "taken from the vehicle"
    assert appt.customer_name == "Anna Huber"
    assert set(appt.service_names) == {"Ölwechsel", "Inspektion"}
    assert (appt.status, appt.source) == ("confirmed", "phone")
    assert appt.label == "M-AB 123 – Ölwechsel, Inspektion"
    assert svc.get(appt.id) == appt


def test_duration_uses_the_workshops_aw_per_hour(db: Database, svc: AppointmentService, ids: Ids) -> None:
    assert svc.duration_for([ids.oil]) == dt.timedelta(minutes=45)
    with db.unit() as s:
        workshop = s.get(Workshop, 1)
        assert workshop is not None
        workshop.aw_per_hour = 12
    assert svc.duration_for([ids.oil]) == dt.timedelta(minutes=45)  # 35 min
    assert svc.duration_for([ids.insp]) == dt.timedelta(minutes=105)  # 100 min


def test_book_inside_hours_and_at_the_edges(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "07:30"), at(MONDAY, "12:00"), bay=ids.bay1)
    book(svc, at(MONDAY, "13:00"), at(MONDAY, "17:30"), bay=ids.bay1)
    book(svc, at(SATURDAY, "08:00"), at(SATURDAY, "12:00"), bay=ids.bay1)
    assert len(svc.week(MONDAY)) == 3


def test_book_outside_hours_names_day_and_hours(svc: AppointmentService, ids: Ids) -> None:
    with pytest.raises(ValidationError) as err:
        book(svc, at(SATURDAY, "11:00"), at(SATURDAY, "13:00"), bay=ids.bay1)
    assert str(err.value) == "Die Werkstatt hat am Samstag, 28.11.2026 nur 08:00–12:00 geöffnet."
    with pytest.raises(ValidationError, match="Sonntag, 29.11.2026 geschlossen"):
        book(svc, at(SATURDAY + dt.timedelta(days=1), "09:00"), at(SATURDAY + dt.timedelta(days=1), "10:00"))
    with pytest.raises(ValidationError, match="07:30–12:00, 13:00–17:30"):
        book(svc, at(MONDAY, "11:30"), at(MONDAY, "12:30"), bay=ids.bay1)
    assert svc.week(MONDAY) == []


def test_force_books_outside_hours_and_on_holidays(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(SATURDAY, "11:00"), at(SATURDAY, "14:00"), bay=ids.bay1, force=True)
    book(svc, at(dt.date(2026, 12, 25), "09:00"), at(dt.date(2026, 12, 25), "10:00"), force=True)
    assert [a.start for a in svc.week(SATURDAY)] == [at(SATURDAY, "11:00")]


def test_book_on_a_holiday_of_the_bundesland(db: Database, svc: AppointmentService, ids: Ids) -> None:
    xmas = dt.date(2026, 12, 25)
    with pytest.raises(ValidationError) as err:
        book(svc, at(xmas, "09:00"), at(xmas, "10:00"), bay=ids.bay1)
    assert str(err.value) == "Der 25.12.2026 ist in Bayern ein Feiertag (Erster Weihnachtstag)."
    fronleichnam = dt.date(2026, 6, 4)
    with pytest.raises(ValidationError, match="Fronleichnam"):
        book(svc, at(fronleichnam, "09:00"), at(fronleichnam, "10:00"), bay=ids.bay1)
    with db.unit() as s:
        workshop = s.get(Workshop, 1)
        assert workshop is not None
        workshop.bundesland = "NI"
    book(svc, at(fronleichnam, "09:00"), at(fronleichnam, "10:00"), bay=ids.bay1)
    reformation = dt.date(2026, 10, 30)  # Friday before Reformationstag is a normal day …
    book(svc, at(reformation, "09:00"), at(reformation, "10:00"), bay=ids.bay1)
    with pytest.raises(ValidationError, match="in Niedersachsen ein Feiertag \\(Reformationstag\\)"):
        # … and Saturday 31.10. is closed for the holiday, not only "after 12:00"
        book(svc, at(dt.date(2026, 10, 31), "09:00"), at(dt.date(2026, 10, 31), "10:00"), bay=ids.bay1)


def test_book_rejects_bad_input(svc: AppointmentService, ids: Ids) -> None:
    with pytest.raises(ValidationError) as err:
        book(svc, at(MONDAY, "10:00"), at(MONDAY, "10:00"), bay=ids.bay1)
    assert err.value.field == "end"
    with pytest.raises(ValidationError) as err:
        book(svc, at(MONDAY, "10:00"), None, bay=ids.bay1)
    assert err.value.field == "end"
    with pytest.raises(ValidationError) as err:
        book(svc, at(MONDAY, "10:00"), at(MONDAY, "11:00"), status="done")
    assert err.value.field == "status"
    with pytest.raises(NotFound, match="Bühne Nr. 999"):
        book(svc, at(MONDAY, "10:00"), at(MONDAY, "11:00"), bay=999)
    with pytest.raises(NotFound, match="Leistung Nr. 999"):
        book(svc, at(MONDAY, "10:00"), None, services=(999,))
    assert svc.day(MONDAY) == []


def test_deactivated_bay_cannot_be_booked(db: Database, svc: AppointmentService, ids: Ids) -> None:
    with db.unit() as s:
        bay = s.get(Bay, ids.bay2)
        assert bay is not None
        bay.active = False
    with pytest.raises(ValidationError) as err:
        book(svc, at(MONDAY, "10:00"), at(MONDAY, "11:00"), bay=ids.bay2)
    assert err.value.field == "bay_id"


def test_aware_datetimes_are_stored_as_berlin_wall_clock(svc: AppointmentService, ids: Ids) -> None:
    utc = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # 09:00 CET
    appt, _ = svc.book(AppointmentInput(start=utc, end=utc + dt.timedelta(hours=1), bay_id=ids.bay1))
    assert (appt.start, appt.end) == (at(MONDAY, "09:00"), at(MONDAY, "10:00"))


# --- conflicts -----------------------------------------------------------------------------------


def test_conflict_on_the_same_bay(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "08:00"), at(MONDAY, "09:00"), bay=ids.bay1, title="Bremsen", vehicle=ids.vehicle)
    with pytest.raises(ConflictError) as err:
        book(svc, at(MONDAY, "08:30"), at(MONDAY, "09:30"), bay=ids.bay1, mechanic=ids.ali)
    assert str(err.value) == "„Bühne 1“ ist bereits belegt: M-AB 123 – Bremsen (23.11.2026 08:00–09:00)."
    book(svc, at(MONDAY, "08:30"), at(MONDAY, "09:30"), bay=ids.bay2, mechanic=ids.ali)


def test_conflict_with_the_same_mechanic(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "08:00"), at(MONDAY, "10:00"), bay=ids.bay1, mechanic=ids.jonas, title="Zahnriemen")
    with pytest.raises(ConflictError) as err:
        book(svc, at(MONDAY, "09:00"), at(MONDAY, "09:15"), bay=ids.bay2, mechanic=ids.jonas)
    assert str(err.value) == "Jonas hat bereits einen Termin: Zahnriemen (23.11.2026 08:00–10:00)."
    assert err.value.params["appointment_id"] > 0
    book(svc, at(MONDAY, "09:00"), at(MONDAY, "09:15"), bay=ids.bay2, mechanic=ids.ali)


def test_enclosing_appointment_conflicts(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "09:00"), at(MONDAY, "09:30"), bay=ids.bay1)
    with pytest.raises(ConflictError):
        book(svc, at(MONDAY, "08:00"), at(MONDAY, "11:00"), bay=ids.bay1)


def test_adjacent_appointments_are_no_conflict(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1, mechanic=ids.jonas)
    book(svc, at(MONDAY, "10:00"), at(MONDAY, "11:00"), bay=ids.bay1, mechanic=ids.jonas)
    book(svc, at(MONDAY, "08:00"), at(MONDAY, "09:00"), bay=ids.bay1, mechanic=ids.jonas)
    assert len(svc.day(MONDAY)) == 3
    assert svc.conflicts(at(MONDAY, "11:00"), at(MONDAY, "12:00"), bay_id=ids.bay1, mechanic_id=ids.jonas) == []


def test_cancelled_appointments_do_not_block_but_pending_ones_do(svc: AppointmentService, ids: Ids) -> None:
    first = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1)
    svc.cancel(first, "Kunde krank")
    book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1, status="pending")
    with pytest.raises(ConflictError):
        book(svc, at(MONDAY, "09:30"), at(MONDAY, "10:30"), bay=ids.bay1)


def test_conflicts_query_and_ignore_id(svc: AppointmentService, ids: Ids) -> None:
    a = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1)
    b = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay2, mechanic=ids.jonas)
    found = svc.conflicts(at(MONDAY, "09:30"), at(MONDAY, "11:00"), bay_id=ids.bay1, mechanic_id=ids.jonas)
    assert [x.id for x in found] == [a, b]
    found = svc.conflicts(at(MONDAY, "09:30"), at(MONDAY, "11:00"), bay_id=ids.bay1, mechanic_id=None, ignore_id=a)
    assert found == []


# --- moving and status ---------------------------------------------------------------------------


def test_move_keeps_duration_and_ignores_itself(svc: AppointmentService, ids: Ids) -> None:
    a = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1, mechanic=ids.jonas)
    moved, changes = svc.move(a, start=at(MONDAY, "09:30"))
    assert (moved.start, moved.end) == (at(MONDAY, "09:30"), at(MONDAY, "10:30"))
    assert changes.appointments
    moved, _ = svc.move(a, start=at(MONDAY, "13:00"), end=at(MONDAY, "15:00"), bay_id=ids.bay2)
    assert (moved.end, moved.bay_name, moved.mechanic_name) == (at(MONDAY, "15:00"), "Bühne 2", "Jonas")
    moved, _ = svc.move(a, start=at(MONDAY, "13:00"), mechanic_id=None)
    assert moved.mechanic_id is None and moved.bay_id == ids.bay2


def test_move_checks_conflicts_hours_and_status(svc: AppointmentService, ids: Ids) -> None:
    a = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1)
    book(svc, at(MONDAY, "11:00"), at(MONDAY, "12:00"), bay=ids.bay1, title="Reifen")
    with pytest.raises(ConflictError, match="Reifen"):
        svc.move(a, start=at(MONDAY, "10:30"))
    with pytest.raises(ValidationError, match="Samstag"):
        svc.move(a, start=at(SATURDAY, "11:30"))
    svc.move(a, start=at(SATURDAY, "11:30"), force=True)
    svc.set_status(a, "done")
    with pytest.raises(InvalidTransition):
        svc.move(a, start=at(MONDAY, "09:00"))
    assert svc.get(a).start == at(SATURDAY, "11:30")


STATES = ["pending", "confirmed", "done", "no_show", "cancelled"]
PATH = {"pending": [], "confirmed": [], "done": ["done"], "no_show": ["no_show"], "cancelled": ["cancelled"]}


@pytest.mark.parametrize("old", STATES)
@pytest.mark.parametrize("new", STATES)
def test_status_transitions(svc: AppointmentService, ids: Ids, old: str, new: str) -> None:
    initial = "pending" if old == "pending" else "confirmed"
    a = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1, status=initial)
    for step in PATH[old]:
        svc.set_status(a, step)
    assert svc.get(a).status == old
    if (old, new) in TRANSITIONS:
        appt, changes = svc.set_status(a, new)
        assert appt.status == new and changes.appointments
    else:
        with pytest.raises(InvalidTransition):
            svc.set_status(a, new)
        assert svc.get(a).status == old


def test_transition_set_is_the_documented_one() -> None:
    assert TRANSITIONS == {
        ("pending", "confirmed"),
        ("pending", "cancelled"),
        ("confirmed", "cancelled"),
        ("confirmed", "done"),
        ("confirmed", "no_show"),
    }


def test_unknown_status_and_missing_appointment(svc: AppointmentService, ids: Ids) -> None:
    a = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"))
    with pytest.raises(ValidationError):
        svc.set_status(a, "erledigt")
    with pytest.raises(NotFound):
        svc.set_status(a + 100, "done")


def test_cancel_appends_reason_to_notes(svc: AppointmentService, ids: Ids) -> None:
    data = AppointmentInput(start=at(MONDAY, "09:00"), end=at(MONDAY, "10:00"), notes="Ersatzwagen")
    a = svc.book(data).appointment.id
    appt, _ = svc.cancel(a, "Kunde hat abgesagt")
    assert appt.status == "cancelled"
    assert appt.notes == "Ersatzwagen\nStorniert: Kunde hat abgesagt"
    with pytest.raises(InvalidTransition):
        svc.cancel(a)


# --- calendar views ------------------------------------------------------------------------------


def test_day_week_and_between(svc: AppointmentService, ids: Ids) -> None:
    tue = MONDAY + dt.timedelta(days=1)
    a = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay1)
    b = book(svc, at(tue, "08:00"), at(tue, "09:00"), bay=ids.bay2, mechanic=ids.ali)
    c = book(svc, at(SATURDAY, "08:00"), at(SATURDAY, "09:00"), bay=ids.bay1)
    d = book(svc, at(MONDAY + dt.timedelta(days=7), "08:00"), at(MONDAY + dt.timedelta(days=7), "09:00"))
    x = book(svc, at(tue, "09:00"), at(tue, "10:00"), bay=ids.bay1)
    svc.cancel(x)
    assert [p.id for p in svc.day(MONDAY)] == [a]
    assert [p.id for p in svc.day(tue)] == [b]
    assert [p.id for p in svc.day(tue, include_cancelled=True)] == [b, x]
    assert [p.id for p in svc.week(MONDAY)] == [a, b, c]
    assert [p.id for p in svc.week(MONDAY + dt.timedelta(days=2))] == [a, b, c], "any day → its week"
    assert [p.id for p in svc.week(MONDAY + dt.timedelta(days=7))] == [d]
    week = (at(MONDAY, "00:00"), at(MONDAY + dt.timedelta(days=7), "00:00"))
    assert [p.id for p in svc.between(*week, bay_id=ids.bay1)] == [a, c]
    assert [p.id for p in svc.between(*week, mechanic_id=ids.ali)] == [b]
    assert [p.id for p in svc.between(at(MONDAY, "09:59"), at(MONDAY, "10:30"))] == [a]
    assert svc.between(at(MONDAY, "10:00"), at(MONDAY, "10:30")) == []


def test_unconfigured_workshop_uses_default_hours(db: Database) -> None:
    svc = AppointmentService(db)  # no workshop row at all
    assert svc.opening_hours() == DEFAULT_OPENING_HOURS
    with pytest.raises(ValidationError, match="08:00–12:00"):
        book(svc, at(SATURDAY, "13:00"), at(SATURDAY, "14:00"))
    with db.unit() as s:
        s.add(Workshop(id=1, opening_hours='{"5": [["08:00", "16:00"]]}'))
    book(svc, at(SATURDAY, "13:00"), at(SATURDAY, "14:00"))
    with pytest.raises(ValidationError, match="Montag, 23.11.2026 geschlossen"):
        book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"))


# --- free slots ----------------------------------------------------------------------------------


def test_free_slots_skip_lunch_break_and_bookings(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "08:00"), at(MONDAY, "09:00"), bay=ids.bay1)
    slots = svc.free_slots(date_from=MONDAY, days=1, duration=dt.timedelta(hours=1), bay_id=ids.bay1, limit=100)
    starts = [s.start for s in slots]
    assert starts[0] == at(MONDAY, "09:00"), "07:30 would run into the booking"
    assert at(MONDAY, "11:00") in starts
    assert not [t for t in starts if at(MONDAY, "11:00") < t < at(MONDAY, "13:00")]
    assert starts[-1] == at(MONDAY, "16:30")
    assert len(starts) == 9 + 15
    assert {(s.bay_id, s.bay_name) for s in slots} == {(ids.bay1, "Bühne 1")}
    assert all(s.end - s.start == dt.timedelta(hours=1) for s in slots)


def test_free_slots_order_by_time_then_bay_and_limit(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "07:30"), at(MONDAY, "08:00"), bay=ids.bay1)
    slots = svc.free_slots(date_from=MONDAY, days=1, duration=dt.timedelta(minutes=30), limit=3)
    assert [(s.start, s.bay_name) for s in slots] == [
        (at(MONDAY, "07:30"), "Bühne 2"),
        (at(MONDAY, "07:45"), "Bühne 2"),
        (at(MONDAY, "08:00"), "Bühne 1"),
    ]


def test_free_slots_skip_holidays_and_closed_days(svc: AppointmentService, ids: Ids) -> None:
    slots = svc.free_slots(date_from=dt.date(2026, 12, 24), days=4, duration=dt.timedelta(hours=4), limit=100)
    # Thu 24.12. open; Fri 25. and Sat 26. holidays in Bayern; Sun 27. closed
    assert {s.start.date() for s in slots} == {dt.date(2026, 12, 24)}
    assert [s.start for s in slots if s.bay_id == ids.bay1] == [
        at(dt.date(2026, 12, 24), "07:30"),
        at(dt.date(2026, 12, 24), "07:45"),
        at(dt.date(2026, 12, 24), "08:00"),
        at(dt.date(2026, 12, 24), "13:00"),
        at(dt.date(2026, 12, 24), "13:15"),
        at(dt.date(2026, 12, 24), "13:30"),
    ]


def test_free_slots_respect_mechanic_and_earliest(svc: AppointmentService, ids: Ids) -> None:
    book(svc, at(MONDAY, "13:00"), at(MONDAY, "17:30"), bay=ids.bay1, mechanic=ids.jonas)
    slots = svc.free_slots(
        date_from=MONDAY,
        days=1,
        duration=dt.timedelta(hours=2),
        bay_id=ids.bay2,
        mechanic_id=ids.jonas,
        earliest=at(MONDAY, "09:05"),
        limit=100,
    )
    assert [s.start for s in slots] == [
        at(MONDAY, "09:15"),
        at(MONDAY, "09:30"),
        at(MONDAY, "09:45"),
        at(MONDAY, "10:00"),
    ]
    with pytest.raises(ValidationError):
        svc.free_slots(date_from=MONDAY, days=1, duration=dt.timedelta(0))


# --- iCalendar export ----------------------------------------------------------------------------


def test_export_ics_round_trip(svc: AppointmentService, ids: Ids, tmp_path: Path) -> None:
    oil = svc.book(
        AppointmentInput(
            start=at(MONDAY, "08:00"),
            bay_id=ids.bay1,
            mechanic_id=ids.jonas,
            vehicle_id=ids.vehicle,
            service_ids=[ids.oil],
        )
    ).appointment
    pending = book(svc, at(MONDAY, "09:00"), at(MONDAY, "10:00"), bay=ids.bay2, status="pending", title="Anfrage")
    summer = dt.date(2026, 6, 8)
    june = book(svc, at(summer, "10:00"), at(summer, "11:30"), bay=ids.bay2, title="Klimaservice")
    cancelled = book(svc, at(MONDAY, "13:00"), at(MONDAY, "14:00"), bay=ids.bay1)
    svc.cancel(cancelled)
    path = tmp_path / "termine.ics"
    data = svc.export_ics(path, start=at(dt.date(2026, 1, 1), "00:00"), end=at(dt.date(2027, 1, 1), "00:00"))
    assert path.read_bytes() == data

    cal = Calendar.from_ical(data)
    assert str(cal["PRODID"]) == "-//CarBot Werkstatt//DE"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"appointment-{i}@carbot-werkstatt" for i in (oil.id, pending, june)}

    ev = events[f"appointment-{oil.id}@carbot-werkstatt"]
    assert str(ev["SUMMARY"]) == "M-AB 123 – Ölwechsel"
    assert str(ev["LOCATION"]) == "Bühne 1"
    assert "Leistungen: Ölwechsel" in str(ev["DESCRIPTION"]) and "Monteur: Jonas" in str(ev["DESCRIPTION"])
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    start, end = ev["DTSTART"].dt, ev["DTEND"].dt
    assert start.replace(tzinfo=None) == at(MONDAY, "08:00") and end.replace(tzinfo=None) == at(MONDAY, "08:45")
    assert start.utcoffset() == dt.timedelta(hours=1)

    assert str(events[f"appointment-{pending}@carbot-werkstatt"]["STATUS"]) == "TENTATIVE"
    summer_start = events[f"appointment-{june}@carbot-werkstatt"]["DTSTART"].dt
    assert summer_start.astimezone(dt.UTC) == dt.datetime(2026, 6, 8, 8, 0, tzinfo=dt.UTC), "CEST = UTC+2"
    assert b"DTSTART;TZID=Europe/Berlin:20261123T080000" in data

    again = svc.export_ics(None, start=at(dt.date(2026, 1, 1), "00:00"), end=at(dt.date(2027, 1, 1), "00:00"))
    assert again == data, "same appointments → same bytes"
    only_june = svc.export_ics(None, start=at(summer, "00:00"), end=at(summer, "23:59"))
    assert len(Calendar.from_ical(only_june).walk("VEVENT")) == 1
